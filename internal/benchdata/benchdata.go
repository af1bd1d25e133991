// Package benchdata generates plausible event streams for benchmarks: calls
// with queues, waits, holds and ratings, and tickets with dispatches,
// acceptances, replies and callbacks, spread over a month. It is not the
// traffic simulator (which models staffing); it only has to be fast and
// shaped like production data.
package benchdata

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Write writes about n events of three centres as NDJSON to w,
// deterministically for a seed.
func Write(w io.Writer, n int, seed uint64) error { return WriteCentres(w, n, seed, 3) }

// WriteCentres is Write over the given number of centres: one centre
// takes all the month's traffic, as a large centre's backfill does.
func WriteCentres(w io.Writer, n int, seed uint64, centres int) error {
	g := gen{rng: rand.New(rand.NewPCG(seed, 1)), w: w, centres: max(centres, 1),
		start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	for g.n < n && g.err == nil {
		if g.rng.IntN(10) < 7 {
			g.call()
		} else {
			g.ticket()
		}
	}
	return g.err
}

type gen struct {
	centres int
	rng     *rand.Rand
	w       io.Writer
	start   time.Time
	n       int
	id      int
	err     error
	buf     []byte
}

var queues = []string{"general", "enterprise", "english", "elderly"}
var depts = []string{"housing", "water", "transport", "police", "health", "education", "market", "environment"}
var cats = []string{"consultation", "help", "complaint", "report", "suggestion", "praise"}
var ratings = []string{"very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"}
var channels = []string{"voice", "voice", "voice", "sms", "web", "wechat", "app", "email"}

func (g *gen) emit(typ string, t time.Time, center, idKey, idVal, extra string) {
	if g.err != nil {
		return
	}
	g.id++
	b := g.buf[:0]
	b = append(b, `{"event_id":"ev-`...)
	b = strconv.AppendInt(b, int64(g.id), 10)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, `","ts":"`...)
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","center_id":"`...)
	b = append(b, center...)
	b = append(b, `","`...)
	b = append(b, idKey...)
	b = append(b, `":"`...)
	b = append(b, idVal...)
	b = append(b, '"')
	b = append(b, extra...)
	b = append(b, "}\n"...)
	g.buf = b
	_, g.err = g.w.Write(b)
	g.n++
}

func (g *gen) at() time.Time {
	return g.start.Add(time.Duration(g.rng.Int64N(int64(30 * 24 * time.Hour))))
}

func (g *gen) call() {
	center := "c" + strconv.Itoa(1+g.rng.IntN(g.centres))
	id := "k" + strconv.Itoa(g.id)
	t := g.at()
	q := queues[g.rng.IntN(len(queues))]
	g.emit("call.arrived", t, center, "call_id", id, fmt.Sprintf(`,"channel":"voice","caller":"139%08d"`, g.rng.IntN(1e8)))
	t = t.Add(time.Duration(5+g.rng.IntN(30)) * time.Second)
	g.emit("call.queued", t, center, "call_id", id, `,"queue":"`+q+`"`)
	wait := time.Duration(g.rng.IntN(60)) * time.Second
	if g.rng.IntN(10) == 0 {
		g.emit("call.abandoned", t.Add(wait), center, "call_id", id, `,"queue":"`+q+`"`)
		return
	}
	agent := "a" + strconv.Itoa(g.rng.IntN(200))
	t = t.Add(wait)
	g.emit("call.answered", t, center, "call_id", id, `,"agent_id":"`+agent+`","queue":"`+q+`"`)
	if g.rng.IntN(5) == 0 {
		g.emit("call.held", t.Add(30*time.Second), center, "call_id", id, `,"agent_id":"`+agent+`"`)
		g.emit("call.retrieved", t.Add(60*time.Second), center, "call_id", id, `,"agent_id":"`+agent+`"`)
	}
	t = t.Add(time.Duration(60+g.rng.IntN(600)) * time.Second)
	g.emit("call.ended", t, center, "call_id", id, `,"ended_by":"caller"`)
	g.emit("call.wrapup_ended", t.Add(time.Duration(10+g.rng.IntN(120))*time.Second), center, "call_id", id, `,"agent_id":"`+agent+`"`)
	if g.rng.IntN(2) == 0 {
		g.emit("call.rated", t.Add(20*time.Second), center, "call_id", id, `,"rating":"`+ratings[g.rng.IntN(len(ratings))]+`"`)
	}
}

func (g *gen) ticket() {
	center := "c" + strconv.Itoa(1+g.rng.IntN(g.centres))
	id := "t" + strconv.Itoa(g.id)
	t := g.at()
	ch := channels[g.rng.IntN(len(channels))]
	urg := "normal"
	if g.rng.IntN(20) == 0 {
		urg = "urgent"
	}
	g.emit("ticket.created", t, center, "ticket_id", id, `,"category":"`+cats[g.rng.IntN(len(cats))]+`","urgency":"`+urg+`","channel":"`+ch+`"`)
	if ch != "voice" {
		g.emit("ticket.responded", t.Add(time.Duration(g.rng.IntN(300))*time.Second), center, "ticket_id", id, "")
	}
	if g.rng.IntN(3) == 0 {
		g.emit("ticket.resolved_on_intake", t.Add(time.Minute), center, "ticket_id", id, "")
		g.emit("ticket.closed", t.Add(2*time.Minute), center, "ticket_id", id, "")
		return
	}
	dept := depts[g.rng.IntN(len(depts))]
	t = t.Add(time.Duration(10+g.rng.IntN(600)) * time.Minute)
	g.emit("ticket.dispatched", t, center, "ticket_id", id, `,"department_id":"`+dept+`"`)
	g.emit("ticket.accepted", t.Add(time.Duration(g.rng.IntN(48))*time.Hour), center, "ticket_id", id, `,"department_id":"`+dept+`"`)
	g.emit("ticket.contacted", t.Add(time.Duration(g.rng.IntN(72))*time.Hour), center, "ticket_id", id, `,"department_id":"`+dept+`"`)
	t = t.Add(time.Duration(g.rng.IntN(10*24)) * time.Hour)
	g.emit("ticket.replied", t, center, "ticket_id", id, `,"department_id":"`+dept+`"`)
	g.emit("ticket.closed", t.Add(time.Hour), center, "ticket_id", id, "")
	g.emit("ticket.callback", t.Add(26*time.Hour), center, "ticket_id", id, `,"reached":true,"resolved":true,"rating":"`+ratings[g.rng.IntN(len(ratings))]+`"`)
}

package indicator

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Conflicting duplicates (indicators.md v1.1, decision 12): two events with
// one event_id but different content. The one with the earliest ts wins,
// ties going to the smaller canonical JSON, whatever the arrival order; the
// other counts as a duplicate and as conflicting.

var contentSeed = maphash.MakeSeed()

// replaces is the rule of decision 12, the one place it is written: of
// two events of an entity with one event_id and different content, the
// new one (at newTS) replaces the kept one (at keptTS) when it is earlier,
// or as early with the smaller canonical JSON (canon returns the new
// one's, then the kept one's; asked for ties only). Calls and tickets
// (call.add, ticket.add) count the conflict either way.
func replaces(newTS, keptTS int64, canon func() (newer, kept []byte)) bool {
	if newTS != keptTS {
		return newTS < keptTS
	}
	a, b := canon()
	return bytes.Compare(a, b) < 0
}

// contentHash digests everything an event says, so that a replay (same
// content) and a conflicting duplicate (different content) are told apart.
// It lives only in memory: the seed differs between processes.
func contentHash(e *event.Event) uint64 {
	// One buffer and one hash call: a Write per field cost more than the
	// hashing itself. The buffer stays on the stack for usual events.
	var buf [320]byte
	b := buf[:0]
	num := func(v int64) { b = binary.LittleEndian.AppendUint64(b, uint64(v)) }
	str := func(s string) {
		num(int64(len(s)))
		b = append(b, s...)
	}
	num(e.TS)
	num(int64(e.Type)<<40 | int64(e.Channel)<<32 | int64(e.EndedBy)<<24 | int64(e.Rating)<<16 |
		int64(e.Category)<<8 | int64(e.Urgency))
	num(int64(e.V)<<16 | int64(e.Reached)<<8 | int64(e.Resolved))
	num(e.Deadline)
	num(int64(e.TimeLimit.Unit)<<32 | int64(e.TimeLimit.Amount))
	for _, s := range [...]string{e.CallID, e.TicketID, e.CallerHash, e.Queue, e.AgentID, e.ToQueue,
		e.ToAgentID, e.ToDepartmentID, e.Subject, e.DepartmentID, e.Reason, e.Team, e.Topic, e.Area} {
		str(s)
	}
	if e.Type.Evaluation() {
		for _, s := range [...]string{e.EvaluationID, e.Form, e.Evaluator} {
			str(s)
		}
		num(int64(math.Float64bits(e.Score)))
		num(int64(math.Float64bits(e.MaxScore)))
		num(int64(e.Passed)<<8 | int64(e.AutoFail))
	}
	if e.Type.IsAgent() {
		num(int64(e.State))
		num(int64(len(e.Queues)))
		for _, q := range e.Queues {
			str(q)
		}
	}
	num(int64(len(e.Attrs)))
	b = append(b, e.Attrs...)
	return maphash.Bytes(contentSeed, b)
}

// SameEvent reports whether a and b say the same (a replay), as the
// engine tells a duplicate from a conflicting one. Both must be events of
// one call or ticket.
func SameEvent(a, b *event.Event) bool {
	return a.ID == b.ID && contentHash(a) == contentHash(b)
}

// canon is a canonical JSON object of the fields an entity keeps of an
// event: keys sorted, times as RFC 3339 in UTC. Conflicting duplicates with
// the same ts are ordered by it.
type canon map[string]string

func (c canon) str(k, v string) {
	if v != "" {
		c[k] = strconv.Quote(v)
	}
}

func (c canon) time(k string, ms int64) {
	if ms != 0 {
		c[k] = strconv.Quote(time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.999Z07:00"))
	}
}

func (c canon) tri(k string, t event.Tri) {
	if t != event.Unset {
		c[k] = strconv.FormatBool(t == event.True)
	}
}

func (c canon) bytes() []byte {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		b.WriteString(c[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (v *cev) canonical(center, id string) []byte {
	c := canon{}
	c.str("event_id", v.eid)
	c.str("type", v.typ.String())
	c.time("ts", v.ts)
	c.str("center_id", center)
	c.str("call_id", id)
	switch v.typ {
	case event.CallQueued, event.CallAbandoned:
		c.str("queue", v.s)
	case event.CallAnswered:
		c.str("agent_id", v.s)
		c.str("team", v.team)
	case event.CallArrived:
		c.str("channel", v.channel.String())
		c.str("caller_hash", v.s)
	case event.CallRated:
		c.str("rating", v.rating.String())
	}
	c.evaluation(v.ev)
	return c.bytes()
}

// evaluation adds a quality-inspection result's fields.
func (c canon) evaluation(v *evaluation) {
	if v == nil {
		return
	}
	c.str("evaluation_id", v.id)
	c.str("form", v.form)
	c.str("agent_id", v.agent)
	c.str("department_id", v.dept)
	c.str("evaluator", v.evaluator)
	c["score"] = strconv.FormatFloat(v.score, 'g', -1, 64)
	c["max_score"] = strconv.FormatFloat(v.max, 'g', -1, 64)
	c.tri("passed", v.passed)
	c.tri("auto_fail", v.autoFail)
}

func (v *tev) canonical(center, id string) []byte {
	c := canon{}
	c.str("event_id", v.eid)
	c.str("type", v.typ.String())
	c.time("ts", v.ts)
	c.str("center_id", center)
	c.str("ticket_id", id)
	c.str("department_id", v.dept)
	c.time("deadline", v.deadline)
	if !v.limit.IsZero() {
		c.str("time_limit", v.limit.String())
	}
	c.tri("reached", v.reached)
	c.tri("resolved", v.resolved)
	if v.rating != event.RatingNone {
		c.str("rating", v.rating.String())
	}
	if v.typ == event.TicketCreated {
		c.str("category", v.category.String())
		c.str("urgency", v.urgency.String())
		c.str("channel", v.channel.String())
		if v.in != nil {
			c.str("caller_hash", v.in.caller)
			c.str("topic", v.in.topic)
			c.str("area", v.in.area)
		}
	}
	c.evaluation(v.ev)
	return c.bytes()
}

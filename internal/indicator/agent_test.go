package indicator_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// agentTraffic is a seeded day of agent events: logins (some without a
// logout, some re-logins), state changes with reasons, orphans, replays.
func agentTraffic(seed uint64, agents int) []event.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	day := time.Date(2026, 10, 12, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).UnixMilli()
	states := []event.AgentState{event.AgentReady, event.AgentBusy, event.AgentWrapup, event.AgentNotReady}
	var out []event.Event
	n := 0
	add := func(e event.Event) {
		n++
		e.ID, e.CenterID = fmt.Sprintf("ev%d", n), "c1"
		out = append(out, e)
	}
	for a := range agents {
		id := fmt.Sprintf("a%d", a)
		ts := day + r.Int64N(6*3600_000)
		for range 1 + r.IntN(3) { // sessions
			add(event.Event{Type: event.AgentLoggedIn, TS: ts, AgentID: id, Team: fmt.Sprintf("t%d", r.IntN(3)), State: event.AgentReady})
			for range r.IntN(40) {
				ts += r.Int64N(20 * 60_000)
				st := states[r.IntN(len(states))]
				add(event.Event{Type: event.AgentStateChanged, TS: ts, AgentID: id, State: st, Reason: map[bool]string{true: "break"}[st == event.AgentNotReady]})
			}
			ts += r.Int64N(30 * 60_000)
			if r.IntN(4) > 0 {
				add(event.Event{Type: event.AgentLoggedOut, TS: ts, AgentID: id})
			}
			ts += r.Int64N(14 * 3600_000) // at times past the session timeout
			if r.IntN(5) == 0 {
				add(event.Event{Type: event.AgentStateChanged, TS: ts, AgentID: id, State: event.AgentBusy}) // an orphan, or in a session
			}
		}
	}
	return out
}

func agentEngine(t *testing.T, window string, evs []event.Event, asOf int64) []indicator.Result {
	t.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	e := indicator.New(indicator.Single(p, cal))
	for i := range evs {
		e.Apply(&evs[i])
	}
	e.Advance(asOf)
	return e.Results(indicator.Query{Window: window, GroupBy: []string{"agent_id", "team"}})
}

// Sessions do not depend on the arrival order or on replays, and the
// spans split at the edges make four 15m windows add up to their hour.
func TestAgentSpansAddUpAndIgnoreOrder(t *testing.T) {
	evs := agentTraffic(1, 40)
	asOf := time.Date(2026, 10, 13, 12, 0, 0, 0, time.UTC).UnixMilli()
	want := agentEngine(t, "hour", evs, asOf)
	if len(want) == 0 {
		t.Fatal("no results")
	}
	shuffled := append([]event.Event(nil), evs...)
	r := rand.New(rand.NewPCG(2, 2))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shuffled = append(shuffled, shuffled[:len(shuffled)/3]...) // replays
	got := agentEngine(t, "hour", shuffled, asOf)
	if render(got) != render(want) {
		t.Fatalf("shuffled and replayed events give other results")
	}
	// 15m windows summed into their hour.
	type key struct{ ind, hour, agent, team string }
	sums := map[key][2]float64{}
	for _, r := range agentEngine(t, "15m", evs, asOf) {
		if r.Indicator != "agent_online_seconds" && r.Indicator != "agent_not_ready_rate" && r.Indicator != "occupancy_rate" {
			continue
		}
		k := key{r.Indicator, r.WindowStart[:13], r.Dims["agent_id"], r.Dims["team"]}
		s := sums[k]
		if r.Numerator != nil {
			s[0] += *r.Numerator
			s[1] += *r.Denominator
		} else {
			s[0] += r.Value
		}
		sums[k] = s
	}
	checked := 0
	for _, r := range want {
		k := key{r.Indicator, r.WindowStart[:13], r.Dims["agent_id"], r.Dims["team"]}
		s, ok := sums[k]
		if !ok {
			continue
		}
		checked++
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 } // seconds with ms, summed as floats
		switch {
		case r.Numerator == nil && !near(s[0], r.Value),
			r.Numerator != nil && (!near(s[0], *r.Numerator) || !near(s[1], *r.Denominator)):
			t.Errorf("%v: 15m windows add up to %v, the hour is %v", k, s, r)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d hour results checked", checked)
	}
}

// render prints results with their numbers (not their pointers).
func render(rs []indicator.Result) string {
	out := ""
	for _, r := range rs {
		out += fmt.Sprintln(r.Indicator, r.WindowStart, r.Dims, r.Value)
		if r.Numerator != nil {
			out += fmt.Sprintln(*r.Numerator, *r.Denominator)
		}
	}
	return out
}

// A state change or a sign-out outside any session is ignored and
// counted in the records audit: the golden case v12_agent_sessions has two
// (a3 at 07:00 before its login, a4 exactly at the timeout).
func TestAgentOrphansInTheAudit(t *testing.T) {
	b, err := os.ReadFile("../compute/testdata/golden/v12_agent_sessions/events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Load("../compute/testdata/golden/v12_agent_sessions/profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := p.NewCalendar()
	e := indicator.New(indicator.Single(p, cal))
	var d event.Decoder
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if ev, err := d.Decode(l); err == nil {
			e.Apply(&ev)
		}
	}
	e.Advance(time.Date(2026, 10, 12, 11, 30, 0, 0, p.Location()).UnixMilli())
	var got []indicator.AuditRow
	for _, r := range indicator.Audit(-1, e) {
		if r.Defect == indicator.DefectAgentOrphans {
			got = append(got, r)
		}
	}
	if len(got) != 1 || got[0].Count != 2 || fmt.Sprint(got[0].Examples) != "[a3 a4]" || got[0].Month != "2026-10" {
		t.Errorf("audit %+v, want a3 and a4 in 2026-10", got)
	}
}

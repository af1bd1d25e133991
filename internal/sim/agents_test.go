package sim_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/staffing"
)

// results computes the simulated events with the default profile.
func results(t *testing.T, out []byte, q indicator.Query, asOf time.Time) []indicator.Result {
	t.Helper()
	file := filepath.Join(t.TempDir(), "sim.ndjson")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := compute.Run(context.Background(), compute.Options{Files: []string{file},
		Profiles: profile.Single(profile.Default()), Query: q, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events.Rejected != 0 {
		t.Fatalf("%d simulated events rejected", res.Events.Rejected)
	}
	return res.Results
}

// With agents, every agent's events make well-formed sessions (a sign-in
// first, state changes and a sign-out only inside one), every call is
// answered by a signed-in agent who is ready until then and busy after,
// and the breaks show in 示忙.
func TestSimulatedAgentsMakeSessions(t *testing.T) {
	start := time.Date(2026, 10, 12, 0, 0, 0, 0, shanghai)
	cfg := sim.Default(1, start, 2*24*time.Hour, 11)
	cfg.Agents = true
	out, _ := runConfig(t, cfg)
	var d event.Decoder
	type st struct {
		in    bool
		state event.AgentState
	}
	agents := map[string]*st{}
	counts := map[event.Type]int{}
	reasons := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		e, err := d.Decode(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		counts[e.Type]++
		a := agents[e.AgentID]
		if a == nil && e.AgentID != "" {
			a = &st{}
			agents[e.AgentID] = a
		}
		switch e.Type {
		case event.AgentLoggedIn:
			if a.in {
				t.Fatalf("%s signs in twice", e.AgentID)
			}
			a.in, a.state = true, e.State
		case event.AgentLoggedOut:
			if !a.in {
				t.Fatalf("%s signs out while out", e.AgentID)
			}
			a.in = false
		case event.AgentStateChanged:
			if !a.in {
				t.Fatalf("%s changes state while out", e.AgentID)
			}
			if e.State == event.AgentBusy && a.state != event.AgentReady {
				t.Fatalf("%s busy from %s", e.AgentID, a.state)
			}
			if e.State == event.AgentNotReady {
				reasons[e.Reason] = true
			}
			a.state = e.State
		case event.CallAnswered:
			if !a.in || a.state != event.AgentReady {
				t.Fatalf("call %s answered by %s, in %v, %s", e.CallID, e.AgentID, a.in, a.state)
			}
		}
	}
	for _, typ := range []event.Type{event.AgentLoggedIn, event.AgentLoggedOut, event.AgentStateChanged} {
		if counts[typ] == 0 {
			t.Errorf("no %s", typ)
		}
	}
	if !reasons["break"] || !reasons["meal"] {
		t.Errorf("break reasons %v", reasons)
	}
	res := results(t, out, indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}, start.Add(48*time.Hour))
	got := map[string]float64{}
	for _, r := range res {
		if r.WindowStart[:10] == "2026-10-12" {
			got[r.Indicator] = r.Value
		}
	}
	// 42 agents by day and 9 by night in three queues (25.5 on average),
	// about an hour of breaks in 12: about 23.4 staffed, 示忙 near 8 %.
	if v := got["agents_staffed"]; v < 21 || v > 25 {
		t.Errorf("agents_staffed %v", v)
	}
	if v := got["agent_not_ready_rate"]; v < 0.05 || v > 0.12 {
		t.Errorf("agent_not_ready_rate %v", v)
	}
	if v := got["occupancy_rate"]; v <= 0 || v >= 1 {
		t.Errorf("occupancy_rate %v", v)
	}
}

// Under the Erlang C model's assumptions (Poisson arrivals, exponential
// handle times, infinite patience) at a fixed staffing, the simulated
// 15-second service level is within two points of Erlang C's, and the
// staffing indicators see the fixed staffing exactly.
func TestSimulatedServiceLevelFollowsErlangC(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)
	span := 20 * 24 * time.Hour
	cfg := sim.Default(1, start, span, 7)
	cfg.Agents = true
	ct := &cfg.Centers[0]
	ct.PeakCallsPerHour, ct.Erlang, ct.TicketFromCall, ct.QA = 200, 180*time.Second, 0, sim.QA{}
	ct.Queues = []sim.Queue{{Name: "general", Share: 1, DayAgents: 14}}
	out, _ := runConfig(t, cfg)
	p := profile.Default()
	want := staffing.Evaluate(indicator.Demand(p, 100, 30*time.Minute, 180*time.Second), 14) // A = 10 erlangs
	res := results(t, out, indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}, start.Add(span))
	var sl, answered float64
	for _, r := range res {
		switch r.Indicator {
		case profile.ServiceLevelID:
			sl, answered = r.Value, *r.Denominator
		case "agents_staffed":
			if math.Abs(*r.Numerator-14*span.Seconds()) > 1 {
				t.Errorf("agents_staffed numerator %v s, want 14 agents × %v s", *r.Numerator, span.Seconds())
			}
		}
	}
	t.Logf("simulated service level %.4f over %.0f answered calls; Erlang C %.4f (A = %.1f, N = 14)", sl, answered, want.ServiceLevel, want.Traffic)
	if answered < 80_000 {
		t.Fatalf("only %v calls answered", answered)
	}
	if math.Abs(sl-want.ServiceLevel) > 0.02 {
		t.Errorf("simulated service level %.4f, Erlang C %.4f: more than two points apart", sl, want.ServiceLevel)
	}
}

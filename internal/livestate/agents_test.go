package livestate_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
)

// Six simulated days of agents (shifts, breaks, busy, wrap-up) with their
// calls, shuffled, replayed and with conflicting duplicates, through small
// batches on a clock that follows the events: old days are pruned from
// memory after each batch and read back from the store (with the carry
// their rows keep) when a late event comes for them; half way the
// partitions move to a new stage, which loads the agents with an open
// session. The stored states then give what compute gives over the same
// events, for agents and staffing too.
func TestAgentsThroughPruningAndHandoverEqualCompute(t *testing.T) {
	p := profile.Default()
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, p.Location())
	cfg := sim.Default(1, start, 6*24*time.Hour, 9)
	cfg.Agents = true
	for i := range cfg.Centers[0].Queues { // fewer agents, the same shapes
		q := &cfg.Centers[0].Queues[i]
		q.DayAgents, q.NightAgents = max(q.DayAgents/4, 1), 1
	}
	cfg.Centers[0].PeakCallsPerHour /= 4
	rng := rand.New(rand.NewPCG(5, 6))
	recs := withDuplicates(simRecordsOf(t, cfg), rng, 100)
	n := len(recs)
	// Mostly in time order, some events late by up to four days: a few
	// land in days already pruned.
	slices.SortFunc(recs, func(a, b event.Record) int { return int(a.TS - b.TS) })
	for i := range recs {
		if rng.IntN(50) == 0 {
			j := min(len(recs)-1, i+rng.IntN(n/2))
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	agents := 0
	for _, r := range recs {
		if r.Type.IsAgent() {
			agents++
		}
	}
	if agents < 1000 {
		t.Fatalf("only %d agent events", agents)
	}

	var now int64
	clock := func() time.Time { return time.UnixMilli(now) }
	m := newMemStore()
	st := newStage(t, m, clock, 0, 1, 2)
	pruned := 0
	for i := 0; i < len(recs); i += 200 {
		batch := slices.Clone(recs[i:min(i+200, len(recs))])
		for _, r := range batch {
			now = max(now, r.TS+3600_000)
		}
		apply(t, st, m, batch)
		m.write(st.Tick())
		before := st.Agents()
		st.Evict(st.Reported())
		pruned += before - st.Agents()
		if i/200 == len(recs)/400 { // half way: the partitions move
			st.Revoke(owned(0, 1, 2))
			st = newStage(t, m, clock, 0, 1, 2)
		}
	}
	now += 13 * 3600_000 // every session has timed out or ended
	m.write(st.Tick())
	t.Logf("%d events (%d of agents); %d agents forgotten on the way; loads %d", len(recs), agents, pruned, m.loads)

	// The batch engine that compute drives, over the same events.
	cal, _ := p.NewCalendar()
	batch := indicator.New(indicator.Single(p, cal))
	for i := range recs {
		batch.Apply(&recs[i].Event)
	}
	batch.Advance(now)
	agg, err := m.ReadStored(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := profile.Single(p)
	asOf := time.UnixMilli(now)
	for _, q := range []indicator.Query{
		{Window: indicator.WindowHour, GroupBy: []string{"agent_id", "team"}},
		{Window: indicator.WindowDay, GroupBy: []string{"center_id"}},
		{Window: indicator.Window15m, GroupBy: []string{"team"}},
	} {
		got, err := compute.FromStore(context.Background(), agg, set, q, asOf)
		if err != nil {
			t.Fatal(err)
		}
		g, w := agentResults(got.Results), agentResults(batch.Results(q))
		if len(w) == 0 {
			t.Fatalf("%+v: no agent results", q)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%+v: stored %d agent results, compute %d", q, len(g), len(w))
			for i := range min(len(g), len(w)) {
				if !reflect.DeepEqual(g[i], w[i]) {
					t.Errorf("first difference: %+v\nwant %+v", g[i], w[i])
					break
				}
			}
		}
	}
}

// agentResults keeps the results of the agent and staffing indicators,
// with their numbers.
func agentResults(rs []indicator.Result) []string {
	var out []string
	for _, r := range rs {
		ind, _ := indicator.Lookup(r.Indicator)
		if ind.Entity != profile.Agents {
			continue
		}
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}

var _ = livestate.DefaultConfig

// The live agent metrics: agents signed in now by team, state and 示忙
// reason, summing to the agents with a session open; the agent indicators'
// counters by centre only: no agent id in any label.
func TestAgentMetrics(t *testing.T) {
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 3, 0, 0, 0, time.UTC) } // 11:00 in Shanghai
	reg := prometheus.NewRegistry()
	st := newStage(t, store, clock, 2)
	st.Instrument(livestate.NewMetrics(reg))
	ev := func(id, typ, hm, agent, extra string) string {
		return `{"event_id":"` + id + `","type":"` + typ + `","ts":"2026-10-12T` + hm + `:00+08:00","center_id":"c1","agent_id":"` + agent + `"` + extra + `}`
	}
	apply(t, st, store, decode(t,
		ev("a1", "agent.logged_in", "09:00", "secret-agent-1", `,"team":"t1"`),
		ev("a2", "agent.logged_in", "09:00", "secret-agent-2", `,"team":"t1"`),
		ev("a3", "agent.state_changed", "10:30", "secret-agent-2", `,"state":"not_ready","reason":"meal"`),
		ev("a4", "agent.logged_in", "09:00", "secret-agent-3", `,"team":"t2"`),
		ev("a5", "agent.logged_out", "10:00", "secret-agent-3", ``)))
	time.Sleep(2100 * time.Millisecond) // the gauges are counted every 2 s
	st.Tick()
	gauge := func(l map[string]string) float64 { return counter(t, reg, "hotline_agents", l) }
	if g := gauge(map[string]string{"team": "t1", "state": "ready"}); g != 1 {
		t.Errorf("t1 ready %v, want 1", g)
	}
	if g := gauge(map[string]string{"team": "t1", "state": "not_ready", "reason": "meal"}); g != 1 {
		t.Errorf("t1 at a meal %v, want 1", g)
	}
	if g := gauge(nil); g != 2 {
		t.Errorf("agents signed in %v, want 2 (one signed out)", g)
	}
	// 2 h + 2 h + 1 h signed in by 11:00
	if v := counter(t, reg, "hotline_indicator_numerator_total", map[string]string{"indicator": "agent_online_seconds", "center": "c1"}); v != 5*3600 {
		t.Errorf("online seconds %v, want %v", v, 5*3600)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), "secret-agent") {
					t.Errorf("%s labelled with an agent: %s=%s", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

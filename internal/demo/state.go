package demo

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// state is the demo's in-memory store: the pipeline writes accepted events
// into the indicator engine through it (it is the pipeline's RawSink), and
// the status page reads from it.
type state struct {
	p       *profile.Profile
	pace    *sim.Accelerated
	simTime prometheus.GaugeFunc

	mu      sync.Mutex
	eng     *indicator.Engine
	asOf    int64
	perMin  map[string]map[int64]int // centre → minute → calls offered
	centers map[string]bool
}

func newState(p *profile.Profile, cal *workday.Calendar, pace *sim.Accelerated) *state {
	st := &state{p: p, pace: pace, eng: indicator.New(indicator.Single(p, cal)), perMin: map[string]map[int64]int{}, centers: map[string]bool{}}
	st.simTime = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "hotline", Subsystem: "demo", Name: "simulated_time_seconds",
		Help: "The simulator's clock, Unix seconds.",
	}, func() float64 { return float64(pace.Clock()) / 1000 })
	return st
}

// WriteRaw applies a batch of accepted events to the engine.
func (st *state) WriteRaw(_ context.Context, recs []event.Record) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range recs {
		e := &recs[i].Event
		if st.eng.Apply(e) && e.Type == event.CallQueued {
			m := st.perMin[e.CenterID]
			if m == nil {
				m = map[int64]int{}
				st.perMin[e.CenterID] = m
			}
			m[e.TS/60_000]++
		}
		st.centers[e.CenterID] = true
	}
	return nil
}

// tick evaluates the engine at the simulator's clock every second, so that
// deadlines pass as simulated time goes on.
func (st *state) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st.mu.Lock()
			st.advance()
			st.mu.Unlock()
		}
	}
}

func (st *state) advance() {
	st.asOf = max(st.asOf, st.pace.Clock(), st.eng.MaxTS())
	st.eng.Advance(st.asOf)
}

// Status is what the status page shows.
type Status struct {
	SimTime string           `json:"sim_time"`
	Profile string           `json:"profile"`
	Events  indicator.Counts `json:"events"`
	Centers []CenterStatus   `json:"centers"`
}

// CenterStatus is one centre's indicators of the current simulated day.
type CenterStatus struct {
	ID         string      `json:"center_id"`
	Indicators []Indicator `json:"indicators"`
	// OfferedPerMinute is the last hour of calls offered, oldest first.
	OfferedPerMinute []int `json:"offered_per_minute"`
}

// Indicator is one shown value.
type Indicator struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Value   *float64        `json:"value"` // nil: no data yet
	Text    string          `json:"text"`
	Target  *profile.Target `json:"target,omitempty"`
	Met     *bool           `json:"met,omitempty"`
	Breach  bool            `json:"breach"`
	Percent bool            `json:"-"`
}

// shown are the indicators on the status page, in order.
var shown = []string{"calls_offered", "answer_rate", "answered_within_15s_rate", "abandon_rate", "asa_seconds",
	"aht_seconds", "call_satisfaction_rate", "tickets_created", "first_contact_resolution_rate",
	"written_response_timeliness_rate", "dispatch_timeliness_rate", "acceptance_timeliness_rate",
	"on_time_closure_rate", "overdue_open"}

// snapshot reads the current simulated day's indicators per centre.
func (st *state) snapshot() Status {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.advance()
	loc := st.p.Location()
	now := time.UnixMilli(st.asOf).In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).Format(time.RFC3339)
	byCenter := map[string]map[string]indicator.Result{}
	for _, r := range st.eng.Results(indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}) {
		if r.WindowStart != day {
			continue
		}
		c := r.Dims["center_id"]
		if byCenter[c] == nil {
			byCenter[c] = map[string]indicator.Result{}
		}
		byCenter[c][r.Indicator] = r
	}
	out := Status{SimTime: now.Format("2006-01-02 15:04"), Profile: st.p.ID, Events: st.eng.Counts()}
	for c := range st.centers {
		cs := CenterStatus{ID: c}
		for _, id := range shown {
			cs.Indicators = append(cs.Indicators, item(st.p, id, byCenter[c]))
		}
		minute := st.asOf / 60_000
		for m := minute - 59; m <= minute; m++ {
			cs.OfferedPerMinute = append(cs.OfferedPerMinute, st.perMin[c][m])
		}
		out.Centers = append(out.Centers, cs)
	}
	sort.Slice(out.Centers, func(i, j int) bool { return out.Centers[i].ID < out.Centers[j].ID })
	return out
}

func item(p *profile.Profile, id string, rs map[string]indicator.Result) Indicator {
	ind, _ := profile.Lookup(id)
	it := Indicator{ID: id, Name: ind.Name, Text: "—", Percent: ind.Kind == profile.Rate}
	r, ok := rs[id]
	if !ok {
		if t, has := p.Targets[id]; has {
			it.Target = &t
		}
		return it
	}
	it.Value, it.Target, it.Met = &r.Value, r.Target, r.Met
	it.Breach = r.Met != nil && !*r.Met
	it.Text = format(ind.Kind, id, r.Value)
	return it
}

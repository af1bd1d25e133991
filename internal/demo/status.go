package demo

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// storedReader reads the stored aggregates: chstore.Reader with
// --clickhouse, the in-memory store without.
type storedReader interface {
	ReadStored(ctx context.Context) (*stored.Aggregates, error)
}

// status is what the status page reads: the aggregates the pipeline
// stored (the same figures `export` and Grafana read), evaluated at the
// simulator's clock, and the calls offered per minute, counted as the
// pipeline writes raw events through it (it wraps the pipeline's RawSink).
type status struct {
	ps      *indicator.Profiles
	p       *profile.Profile
	pace    *sim.Accelerated
	simTime prometheus.GaugeFunc
	store   storedReader
	raw     ingest.RawSink

	mu      sync.Mutex
	perMin  map[string]map[int64]int // centre → minute → calls offered
	centers map[string]bool
}

func newStatus(p *profile.Profile, ps *indicator.Profiles, pace *sim.Accelerated, store storedReader, raw ingest.RawSink) *status {
	st := &status{p: p, ps: ps, pace: pace, store: store, raw: raw, perMin: map[string]map[int64]int{}, centers: map[string]bool{}}
	st.simTime = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "hotline", Subsystem: "demo", Name: "simulated_time_seconds",
		Help: "The simulator's clock, Unix seconds.",
	}, func() float64 { return float64(pace.Clock()) / 1000 })
	return st
}

// WriteRaw stores the batch's events, then counts the calls offered.
func (st *status) WriteRaw(ctx context.Context, recs []event.Record) error {
	if err := st.raw.WriteRaw(ctx, recs); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range recs {
		e := &recs[i].Event
		if e.Type == event.CallQueued {
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
	// Staffing is the day's staffing intervals so far (排班: agents
	// required by Erlang C, staffed, gap), latest last.
	Staffing []StaffingInterval `json:"staffing"`
}

// StaffingInterval is one staffing interval of the day.
type StaffingInterval struct {
	Start        string  `json:"start"` // HH:MM
	Offered      int64   `json:"calls_offered"`
	Required     int     `json:"agents_required"`
	Staffed      float64 `json:"agents_staffed"`
	Gap          float64 `json:"staffing_gap"`
	Understaffed bool    `json:"understaffed"`
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

// snapshot reads the current simulated day's indicators per centre from
// the store.
func (st *status) snapshot(ctx context.Context) (Status, error) {
	stored, err := st.store.ReadStored(ctx)
	if err != nil {
		return Status{}, err
	}
	asOf := max(st.pace.Clock(), stored.AsOf)
	eng := indicator.Restore(st.ps, stored.Cells, stored.Tickets, asOf).WithContacts(stored.Contacts)
	loc := st.p.Location()
	now := time.UnixMilli(asOf).In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).Format(time.RFC3339)
	byCenter := map[string]map[string]indicator.Result{}
	for _, r := range eng.Results(indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}) {
		if r.WindowStart != day {
			continue
		}
		c := r.Dims["center_id"]
		if byCenter[c] == nil {
			byCenter[c] = map[string]indicator.Result{}
		}
		byCenter[c][r.Indicator] = r
	}
	staffing := map[string][]StaffingInterval{}
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).UnixMilli()
	for _, r := range eng.Staffing() {
		if r.Start >= dayStart && r.Start <= asOf {
			staffing[r.CenterID] = append(staffing[r.CenterID], StaffingInterval{Start: time.UnixMilli(r.Start).In(loc).Format("15:04"),
				Offered: r.Offered, Required: r.Required, Staffed: r.Staffed, Gap: r.Gap(), Understaffed: r.Understaffed()})
		}
	}
	out := Status{SimTime: now.Format("2006-01-02 15:04"), Profile: st.p.ID, Events: indicator.Counts{Accepted: stored.Events}}
	st.mu.Lock()
	defer st.mu.Unlock()
	for c := range st.centers {
		cs := CenterStatus{ID: c, Staffing: staffing[c]}
		for _, id := range shown {
			cs.Indicators = append(cs.Indicators, item(st.p, id, byCenter[c]))
		}
		minute := asOf / 60_000
		for m := minute - 59; m <= minute; m++ {
			cs.OfferedPerMinute = append(cs.OfferedPerMinute, st.perMin[c][m])
		}
		out.Centers = append(out.Centers, cs)
	}
	sort.Slice(out.Centers, func(i, j int) bool { return out.Centers[i].ID < out.Centers[j].ID })
	return out, nil
}

func item(p *profile.Profile, id string, rs map[string]indicator.Result) Indicator {
	ind, _ := indicator.Lookup(id)
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
	it.Text = format(ind.Unit, r.Value)
	return it
}

package livestate_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// memStore keeps raw events and the latest state per entity in memory.
type memStore struct {
	raw    map[indicator.Ref][]event.Record
	states map[indicator.Ref]chstore.StateRow
	writes int
	fail   bool
}

func newMemStore() *memStore {
	return &memStore{raw: map[indicator.Ref][]event.Record{}, states: map[indicator.Ref]chstore.StateRow{}}
}

func (m *memStore) LoadEvents(_ context.Context, refs []indicator.Ref) ([]event.Record, error) {
	var out []event.Record
	for _, r := range refs {
		out = append(out, m.raw[r]...)
	}
	return out, nil
}

func (m *memStore) PendingTickets(context.Context) ([]indicator.Ref, error) {
	var out []indicator.Ref
	for r, s := range m.states {
		if s.Wake > 0 || s.Volatile {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) WriteStates(_ context.Context, rows []chstore.StateRow) error {
	if m.fail {
		return io.ErrUnexpectedEOF
	}
	for _, r := range rows {
		ref := indicator.Ref{Ticket: r.Ticket, CenterID: r.CenterID, ID: r.ID}
		if old, ok := m.states[ref]; !ok || r.Version >= old.Version {
			m.states[ref] = r
		}
		m.writes++
	}
	return nil
}

func (m *memStore) keep(recs []event.Record) {
	for _, r := range recs {
		ref := indicator.RefOf(&r.Event)
		m.raw[ref] = append(m.raw[ref], r)
	}
}

func contribution(s chstore.StateRow, ind string) (num, den int64, ok bool) {
	for _, c := range s.Contribs {
		if c.Indicator == ind {
			return c.Num, c.Den, true
		}
	}
	return 0, 0, false
}

func decode(t *testing.T, lines ...string) []event.Record {
	t.Helper()
	var d event.Decoder
	var out []event.Record
	for _, l := range lines {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, event.Record{Event: e, Origin: event.Origin{Topic: "tickets", Partition: 2}})
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A ticket becomes late when its deadline passes on the clock, without any
// new event; a restarted stage picks the waiting ticket up again.
func TestDeadlinesFireWithoutEvents(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	store := newMemStore()
	now := time.Date(2026, 10, 12, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clock := func() time.Time { return now }
	recs := decode(t,
		`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`)
	store.keep(recs)
	st := livestate.New(livestate.DefaultConfig(), p, cal, store, clock, quiet)
	ctx := context.Background()
	if err := st.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ref := indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}
	s := store.states[ref]
	if _, _, ok := contribution(s, "on_time_closure_rate"); ok || s.Wake == 0 || s.Partition != 2 {
		t.Fatalf("before the deadline: %+v", s)
	}
	// The accept limit (1wd) ends 10-13 24:00, the resolve limit (5wd) 10-19 24:00.
	now = time.Date(2026, 10, 14, 9, 0, 0, 0, now.Location())
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n, d, ok := contribution(store.states[ref], "acceptance_timeliness_rate"); !ok || n != 0 || d != 1 {
		t.Errorf("after the accept deadline: acceptance %d/%d (%v)", n, d, ok)
	}
	// A new stage (a restart) loads the waiting ticket and fires its deadline.
	restarted := livestate.New(livestate.DefaultConfig(), p, cal, store, clock, quiet)
	now = time.Date(2026, 10, 20, 9, 0, 0, 0, now.Location())
	if err := restarted.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	s = store.states[ref]
	if n, d, ok := contribution(s, "on_time_closure_rate"); !ok || n != 0 || d != 1 {
		t.Errorf("after the resolve deadline: on-time closure %d/%d (%v)", n, d, ok)
	}
	if s.Tick.DueTS == 0 || s.Tick.DueTS >= now.UnixMilli() || s.Tick.ReplyTS != 0 {
		t.Errorf("ticket facts after the deadline: %+v", s.Tick)
	}
}

// A failed state write is retried with the same records and writes the
// same states: nothing is lost between the attempts.
func TestApplyRetriesKeepPendingStates(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	recs := decode(t, `{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1"}`)
	store.keep(recs)
	st := livestate.New(livestate.DefaultConfig(), p, cal, store, clock, quiet)
	store.fail = true
	if err := st.Apply(context.Background(), recs); err == nil {
		t.Fatal("write failure not reported")
	}
	store.fail = false
	if err := st.Apply(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, ok := store.states[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]; !ok {
		t.Error("state lost across the retry")
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// The counters follow each evaluation's net change: a call answered in a
// later batch adds to the answered numerator without counting its offer
// twice, and a restarted stage does not count loaded calls again.
func TestMetricsCountNetChanges(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	reg := prometheus.NewRegistry()
	st := livestate.New(livestate.DefaultConfig(), p, cal, store, clock, quiet)
	st.Instrument(livestate.NewMetrics(reg))
	ctx := context.Background()
	first := decode(t, `{"event_id":"e1","type":"call.queued","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`)
	second := decode(t, `{"event_id":"e2","type":"call.answered","ts":"2026-10-12T09:00:20+08:00","center_id":"c1","call_id":"k1","agent_id":"a"}`)
	for _, b := range [][]event.Record{first, second} {
		store.keep(b)
		if err := st.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	num := func(ind string) float64 {
		return counter(t, reg, "hotline_indicator_numerator_total", map[string]string{"indicator": ind, "center": "c1", "queue": "q"})
	}
	den := func(ind string) float64 {
		return counter(t, reg, "hotline_indicator_denominator_total", map[string]string{"indicator": ind, "center": "c1", "queue": "q"})
	}
	if num("calls_offered") != 1 || num("answer_rate") != 1 || den("answer_rate") != 1 || num("asa_seconds") != 20 {
		t.Errorf("offered %v, answer rate %v/%v, asa %v", num("calls_offered"), num("answer_rate"), den("answer_rate"), num("asa_seconds"))
	}
	if n := counter(t, reg, "hotline_call_wait_seconds", nil); n != 0 {
		t.Logf("histogram sample counted in gather: %v", n)
	}
	// A restarted stage loads the call when its next event comes, quietly.
	reg2 := prometheus.NewRegistry()
	st2 := livestate.New(livestate.DefaultConfig(), p, cal, store, clock, quiet)
	st2.Instrument(livestate.NewMetrics(reg2))
	third := decode(t, `{"event_id":"e3","type":"call.ended","ts":"2026-10-12T09:03:20+08:00","center_id":"c1","call_id":"k1"}`)
	store.keep(third)
	if err := st2.Apply(ctx, third); err != nil {
		t.Fatal(err)
	}
	if v := counter(t, reg2, "hotline_indicator_numerator_total", map[string]string{"indicator": "calls_offered"}); v != 0 {
		t.Errorf("restarted stage counted the loaded call's offer again: %v", v)
	}
	if v := counter(t, reg2, "hotline_indicator_numerator_total", map[string]string{"indicator": "avg_talk_seconds"}); v != 180 {
		t.Errorf("talk of the new end = %v, want 180", v)
	}
}

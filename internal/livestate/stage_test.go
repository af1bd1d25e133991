package livestate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/memstore"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// memStore is the in-memory store that counts the reads of events and can
// be made to fail them.
type memStore struct {
	*memstore.Store
	loads int // refs read back by LoadEvents
	fail  bool
}

func newMemStore() *memStore { return &memStore{Store: memstore.New()} }

func (m *memStore) LoadEvents(ctx context.Context, refs []indicator.Ref) ([]event.Record, error) {
	if m.fail {
		return nil, io.ErrUnexpectedEOF
	}
	m.loads += len(refs)
	return m.Store.LoadEvents(ctx, refs)
}

func (m *memStore) write(rows []stored.StateRow) { _ = m.WriteStates(context.Background(), rows) }

func (m *memStore) keep(recs []event.Record) { _ = m.WriteRaw(context.Background(), recs) }

// apply is what the ingest loop does with a batch: raw events and states
// stored.
func apply(t *testing.T, st *livestate.Stage, m *memStore, recs []event.Record) {
	t.Helper()
	rows, keep, err := st.Apply(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	m.keep(recs[:keep])
	m.write(rows)
}

// assign gives st partitions and stores the states it returns.
func assign(t *testing.T, st *livestate.Stage, m *memStore, parts ...int32) {
	t.Helper()
	rows, err := st.Assign(context.Background(), owned(parts...))
	if err != nil {
		t.Fatal(err)
	}
	m.write(rows)
}

var topics = kafkaio.Topics{Calls: "calls", Tickets: "tickets", Agents: "agents", DeadLetter: "dlq"}

func owned(ps ...int32) []kafkaio.Partition {
	var out []kafkaio.Partition
	for _, p := range ps {
		out = append(out, kafkaio.Partition{Topic: "tickets", Partition: p}, kafkaio.Partition{Topic: "calls", Partition: p},
			kafkaio.Partition{Topic: "agents", Partition: p})
	}
	return out
}

func newStage(t *testing.T, m *memStore, clock func() time.Time, parts ...int32) *livestate.Stage {
	t.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	st := livestate.New(livestate.DefaultConfig(), indicator.Single(p, cal), m, topics, clock, quiet)
	assign(t, st, m, parts...)
	return st
}

func contribution(s stored.StateRow, ind string) (num, den int64, ok bool) {
	for _, c := range s.Contribs {
		if c.Indicator == ind {
			return c.Num, c.Den, true
		}
	}
	return 0, 0, false
}

func decode(t *testing.T, lines ...string) []event.Record {
	return decodeAt(t, 2, lines...)
}

// decodeAt decodes lines as consumed from partition part of their topic.
func decodeAt(t *testing.T, part int32, lines ...string) []event.Record {
	t.Helper()
	var d event.Decoder
	var out []event.Record
	for _, l := range lines {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		topic := "tickets"
		if e.Type.IsCall() {
			topic = "calls"
		}
		out = append(out, event.Record{Event: e, Origin: event.Origin{Topic: topic, Partition: part}})
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A ticket becomes late when its deadline passes on the clock, without any
// new event; a stage that takes the partition over picks the waiting
// ticket up again.
func TestDeadlinesFireWithoutEvents(t *testing.T) {
	store := newMemStore()
	now := time.Date(2026, 10, 12, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clock := func() time.Time { return now }
	recs := decode(t,
		`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`)
	st := newStage(t, store, clock, 2)
	apply(t, st, store, recs)
	ref := indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}
	s := store.States()[ref]
	if _, _, ok := contribution(s, "on_time_closure_rate"); ok || s.Wake == 0 || s.Partition != 2 || s.Topic != "tickets" {
		t.Fatalf("before the deadline: %+v", s)
	}
	// The accept limit (1wd) ends 10-13 24:00, the resolve limit (5wd) 10-19 24:00.
	now = time.Date(2026, 10, 14, 9, 0, 0, 0, now.Location())
	store.write(st.Tick())
	if n, d, ok := contribution(store.States()[ref], "acceptance_timeliness_rate"); !ok || n != 0 || d != 1 {
		t.Errorf("after the accept deadline: acceptance %d/%d (%v)", n, d, ok)
	}
	// Another stage (a restart, a new owner) loads the waiting ticket on
	// assignment and fires its deadline.
	restarted := newStage(t, store, clock, 2)
	if c, tk := restarted.Size(); c != 0 || tk != 1 {
		t.Fatalf("new owner holds %d calls, %d tickets; want the one open ticket", c, tk)
	}
	now = time.Date(2026, 10, 20, 9, 0, 0, 0, now.Location())
	store.write(restarted.Tick())
	s = store.States()[ref]
	if n, d, ok := contribution(s, "on_time_closure_rate"); !ok || n != 0 || d != 1 {
		t.Errorf("after the resolve deadline: on-time closure %d/%d (%v)", n, d, ok)
	}
	if s.Tick.DueTS == 0 || s.Tick.DueTS >= now.UnixMilli() || s.Tick.ReplyTS != 0 {
		t.Errorf("ticket facts after the deadline: %+v", s.Tick)
	}
	// A stage that owns other partitions loads nothing of partition 2.
	if c, tk := newStage(t, store, clock, 0, 1).Size(); c+tk != 0 {
		t.Errorf("owner of partitions 0, 1 holds %d calls, %d tickets of partition 2", c, tk)
	}
}

// A partition moves from A to B and back: A must not write its stale copy
// of a ticket over the reply B stored (the loss of the first design).
func TestPartitionRoundTripKeepsEveryEvent(t *testing.T) {
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	a := newStage(t, store, clock, 2)
	apply(t, a, store, decode(t,
		`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`))
	a.Revoke(owned(2))
	if c, tk := a.Size(); c+tk != 0 {
		t.Fatalf("revoked stage still holds %d calls, %d tickets", c, tk)
	}
	b := newStage(t, store, clock, 2)
	apply(t, b, store, decode(t, `{"event_id":"e3","type":"ticket.replied","ts":"2026-10-12T11:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`))
	b.Revoke(owned(2))
	assign(t, a, store, 2)
	apply(t, a, store, decode(t, `{"event_id":"e4","type":"ticket.closed","ts":"2026-10-12T11:30:00+08:00","center_id":"c1","ticket_id":"t1"}`))
	s := store.States()[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]
	if s.Events != 4 || s.Tick.ReplyTS == 0 || s.Tick.CloseTS == 0 {
		t.Errorf("after A→B→A: %d events, reply %d, close %d; want 4 events with the reply", s.Events, s.Tick.ReplyTS, s.Tick.CloseTS)
	}
}

// A previous owner stopped after storing an event but before storing the
// state: the new owner loads the event and stores the state it makes, even
// though the event, delivered again, is then a duplicate.
func TestAssignStoresStatesBehindTheirEvents(t *testing.T) {
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	a := newStage(t, store, clock, 2)
	apply(t, a, store, decode(t,
		`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`))
	reply := decode(t, `{"event_id":"e3","type":"ticket.replied","ts":"2026-10-12T11:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`)
	store.keep(reply) // killed before the state write
	b := newStage(t, store, clock, 2)
	apply(t, b, store, reply) // delivered again
	if s := store.States()[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]; s.Events != 3 || s.Tick.ReplyTS == 0 {
		t.Errorf("state after takeover knows %d events, reply %d; want 3 with the reply", s.Events, s.Tick.ReplyTS)
	}
}

// A deadline that passes while partitions change hands is stored by the
// new owner: its quiet load evaluates the ticket late, and no later
// evaluation would report it again.
func TestAssignStoresDeadlinesPassedInTheHandover(t *testing.T) {
	store := newMemStore()
	now := time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) // Monday 20:00 in Beijing
	clock := func() time.Time { return now }
	a := newStage(t, store, clock, 2)
	apply(t, a, store, decode(t,
		`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`))
	late := func() int64 {
		var den int64
		for _, c := range store.States()[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}].Contribs {
			if c.Indicator == "acceptance_timeliness_rate" {
				den += c.Den
			}
		}
		return den
	}
	if late() != 0 {
		t.Fatal("acceptance counted before its deadline")
	}
	a.Revoke(owned(2))
	now = now.Add(30 * 24 * time.Hour) // every limit has passed
	b := newStage(t, store, clock, 2)
	if late() != 1 {
		t.Errorf("after the handover the stored state counts acceptance %d times, want once (late)", late())
	}
	store.write(b.Tick())
	if late() != 1 {
		t.Errorf("after a tick: %d", late())
	}
}

// New calls and tickets cost no read of the store; one the store knows
// (evicted, or written by a previous owner) is read back when an event
// comes for it.
func TestReadsOnlyWhatTheStoreMayHave(t *testing.T) {
	store := newMemStore()
	now := time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := newStage(t, store, clock, 2)
	var lines []string
	for i := range 500 {
		lines = append(lines, fmt.Sprintf(`{"event_id":"q%d","type":"call.queued","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"q"}`, i, i))
	}
	apply(t, st, store, decode(t, lines...))
	if store.loads > 10 {
		t.Errorf("%d of 500 new calls read from the store; want about 1 %% at most", store.loads)
	}
	// Evicted after three idle days, then a late event: read back, exact.
	now = now.Add(80 * time.Hour)
	store.write(st.Tick())
	if n := st.Evict(0); n != 0 {
		t.Fatalf("evicted %d calls whose states are not stored yet", n)
	}
	if n := st.Evict(st.Reported()); n != 500 {
		t.Fatalf("evicted %d calls, want 500", n)
	}
	before := store.loads
	apply(t, st, store, decode(t, `{"event_id":"a7","type":"call.answered","ts":"2026-10-12T09:00:10+08:00","center_id":"c1","call_id":"k7","agent_id":"a"}`))
	if store.loads != before+1 {
		t.Errorf("late event: %d reads, want 1", store.loads-before)
	}
	s := store.States()[indicator.Ref{CenterID: "c1", ID: "k7"}]
	if s.Events != 2 || !s.Call.Answered || s.Call.WaitMs != 10_000 {
		t.Errorf("late answer of an evicted call: %+v", s.Call)
	}
}

// A quality-inspection result comes days after its call, which has long
// left memory: the call is read back with its events and the evaluation
// counts in the window of the call's offer.
func TestLateEvaluationOfAnEvictedCall(t *testing.T) {
	store := newMemStore()
	now := time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := newStage(t, store, clock, 2)
	apply(t, st, store, decode(t,
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`,
		`{"event_id":"e2","type":"call.answered","ts":"2026-10-12T09:00:10+08:00","center_id":"c1","call_id":"k1","agent_id":"a"}`,
		`{"event_id":"e3","type":"call.ended","ts":"2026-10-12T09:05:10+08:00","center_id":"c1","call_id":"k1"}`))
	now = now.Add(5 * 24 * time.Hour)
	store.write(st.Tick())
	if n := st.Evict(st.Reported()); n != 1 {
		t.Fatalf("evicted %d calls, want 1", n)
	}
	before := store.loads
	apply(t, st, store, decode(t,
		`{"event_id":"q1","type":"call.evaluated","ts":"2026-10-16T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"voice","score":72,"max_score":80}`))
	if store.loads != before+1 {
		t.Errorf("late evaluation: %d reads, want 1", store.loads-before)
	}
	s := store.States()[indicator.Ref{CenterID: "c1", ID: "k1"}]
	want := map[string][2]int64{"call_qa_coverage_rate": {1, 1}, "call_qa_pass_rate": {1, 1}, "call_qa_avg_percent": {90_000_000, 1}}
	for ind, w := range want {
		num, den, ok := contribution(s, ind)
		if !ok || num != w[0] || den != w[1] {
			t.Errorf("%s: %d/%d (%v), want %d/%d", ind, num, den, ok, w[0], w[1])
		}
	}
	if s.Events != 4 {
		t.Errorf("%d events, want 4", s.Events)
	}
}

// A failed read changes nothing: the same records applied again give the
// same states.
func TestApplyRetriesAfterAFailedRead(t *testing.T) {
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	st := newStage(t, store, clock, 2)
	// closed: settled, so not loaded again on assignment
	apply(t, st, store, decode(t, `{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1"}`,
		`{"event_id":"e1b","type":"ticket.closed","ts":"2026-10-12T09:01:00+08:00","center_id":"c1","ticket_id":"t1"}`))
	st.Revoke(owned(2))
	assign(t, st, store, 2)
	next := decode(t, `{"event_id":"e2","type":"ticket.reopened","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1"}`)
	store.fail = true
	if _, _, err := st.Apply(context.Background(), next); err == nil {
		t.Fatal("read failure not reported")
	}
	store.fail = false
	apply(t, st, store, next)
	if s := store.States()[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]; s.Events != 3 {
		t.Errorf("state after the retry knows %d events, want 2", s.Events)
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
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	reg := prometheus.NewRegistry()
	st := newStage(t, store, clock, 2)
	st.Instrument(livestate.NewMetrics(reg))
	first := decode(t, `{"event_id":"e1","type":"call.queued","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`)
	second := decode(t, `{"event_id":"e2","type":"call.answered","ts":"2026-10-12T09:00:20+08:00","center_id":"c1","call_id":"k1","agent_id":"a"}`)
	for _, b := range [][]event.Record{first, second} {
		apply(t, st, store, b)
	}
	num := func(ind string) float64 {
		return counter(t, reg, "hotline_indicator_numerator_total", map[string]string{"indicator": ind, "center": "c1", "queue": "q"})
	}
	den := func(ind string) float64 {
		return counter(t, reg, "hotline_indicator_denominator_total", map[string]string{"indicator": ind, "center": "c1", "queue": "q"})
	}
	if num("calls_offered") != 1 || num("answer_rate") != 1 || den("answer_rate") != 1 || num("asa_seconds") != 20 || den("asa_seconds") != 1 {
		t.Errorf("offered %v, answer rate %v/%v, asa %v", num("calls_offered"), num("answer_rate"), den("answer_rate"), num("asa_seconds"))
	}
	if n := counter(t, reg, "hotline_call_wait_seconds", nil); n != 0 {
		t.Logf("histogram sample counted in gather: %v", n)
	}
	// A restarted stage loads the call when its next event comes, quietly.
	reg2 := prometheus.NewRegistry()
	st2 := newStage(t, store, clock, 2)
	st2.Instrument(livestate.NewMetrics(reg2))
	apply(t, st2, store, decode(t, `{"event_id":"e3","type":"call.ended","ts":"2026-10-12T09:03:20+08:00","center_id":"c1","call_id":"k1"}`))
	if v := counter(t, reg2, "hotline_indicator_numerator_total", map[string]string{"indicator": "calls_offered"}); v != 0 {
		t.Errorf("restarted stage counted the loaded call's offer again: %v", v)
	}
	if v := counter(t, reg2, "hotline_indicator_numerator_total", map[string]string{"indicator": "avg_talk_seconds"}); v != 180 {
		t.Errorf("talk of the new end = %v, want 180", v)
	}
}

package ledger_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// memStore keeps events as the raw tables read FINAL do (the last write of
// an event_id wins), the log and the marks, on a clock the test moves.
type memStore struct {
	now      time.Time
	events   map[string]event.Event // by event_id
	ingested map[string]time.Time   // by event_id
	records  []ledger.Record
	marks    []ledger.Mark
	intents  []ledger.Intent
	// reads counts the store reads of the marker.
	intentReads, storedReads int
}

func newMemStore(now time.Time) *memStore {
	return &memStore{now: now, events: map[string]event.Event{}, ingested: map[string]time.Time{}}
}

func (m *memStore) Now(context.Context) (time.Time, error) { return m.now.Truncate(time.Second), nil }

func (m *memStore) Records(_ context.Context, center string) ([]ledger.Record, error) {
	var out []ledger.Record
	for _, r := range m.records {
		if center == "" || r.Center == center {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Center != out[j].Center {
			return out[i].Center < out[j].Center
		}
		return out[i].Seq < out[j].Seq
	})
	return out, nil
}

func (m *memStore) Append(_ context.Context, recs []ledger.Record) error {
	m.records = append(m.records, recs...)
	return nil
}

func day(ms int64) string { return time.UnixMilli(ms).In(shanghai).Format("2006-01-02") }

func (m *memStore) Days(_ context.Context, f ledger.DayFilter, _ *time.Location) ([]ledger.DayCount, error) {
	days := map[[2]string]*ledger.DayCount{}
	for id, e := range m.events {
		d, at := day(e.TS), m.ingested[id]
		if (f.Center != "" && e.CenterID != f.Center) || (f.From != "" && d < f.From) || (f.To != "" && d > f.To) || at.Before(f.Since) {
			continue
		}
		k := [2]string{e.CenterID, d}
		if days[k] == nil {
			days[k] = &ledger.DayCount{Center: e.CenterID, Day: d}
		}
		days[k].Events++
		if at.After(days[k].LastIngested) {
			days[k].LastIngested = at
		}
	}
	var out []ledger.DayCount
	for _, d := range days {
		out = append(out, *d)
	}
	return out, nil
}

func (m *memStore) Entries(_ context.Context, center string, from, to int64) ([]ledger.Entry, error) {
	var out []ledger.Entry
	for _, e := range m.events {
		if e.CenterID == center && e.TS >= from && e.TS < to {
			out = append(out, ledger.Entry{ID: e.ID, Hash: ledger.EventHash(&e)})
		}
	}
	return out, nil
}

func (m *memStore) Stored(_ context.Context, recs []*event.Record) (map[string]ledger.Hash, error) {
	m.storedReads++
	out := map[string]ledger.Hash{}
	for _, r := range recs {
		if e, ok := m.events[r.ID]; ok {
			out[r.ID] = ledger.EventHash(&e)
		}
	}
	return out, nil
}

func (m *memStore) Marks(_ context.Context, center, d string) ([]ledger.Mark, error) {
	var out []ledger.Mark
	for _, k := range m.marks {
		if k.Center == center && k.Day == d {
			out = append(out, k)
		}
	}
	return out, nil
}

func (m *memStore) MarkedDays(_ context.Context, since time.Time) ([]ledger.DayCount, error) {
	var out []ledger.DayCount
	for _, k := range m.marks {
		if !k.MarkedAt.Before(since) {
			out = append(out, ledger.DayCount{Center: k.Center, Day: k.Day})
		}
	}
	return out, nil
}

func (m *memStore) WriteMarks(_ context.Context, marks []ledger.Mark) error {
	for _, k := range marks {
		k.MarkedAt = m.now.Truncate(time.Second)
		m.marks = append(m.marks, k)
	}
	return nil
}

func (m *memStore) Intents(context.Context) ([]ledger.Intent, error) {
	m.intentReads++
	return append([]ledger.Intent(nil), m.intents...), nil
}

func (m *memStore) WriteIntents(_ context.Context, intents []ledger.Intent) error {
	for _, in := range intents {
		in.At = m.now.Truncate(time.Second)
		m.intents = append(m.intents, in)
	}
	return nil
}

// WriteRaw stores events as the raw writer does.
func (m *memStore) WriteRaw(_ context.Context, recs []event.Record) error {
	for _, r := range recs {
		m.events[r.ID] = r.Event
		m.ingested[r.ID] = m.now
	}
	return nil
}

func ev(id string, ts time.Time, queue string) event.Record {
	return event.Record{Event: event.Event{ID: id, Type: event.CallQueued, TS: ts.UnixMilli(), CenterID: "c1", CallID: "k-" + id, Queue: queue}}
}

func at(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, shanghai) }

type fixture struct {
	t     *testing.T
	store *memStore
	led   *ledger.Ledger
	sink  *ledger.Marker
}

func newFixture(t *testing.T) *fixture {
	store := newMemStore(at(12, 9))
	led := ledger.New(store, shanghai, ledger.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &fixture{t: t, store: store, led: led, sink: led.Marker(store, func() time.Time { return store.now })}
}

func (f *fixture) write(recs ...event.Record) {
	f.t.Helper()
	if err := f.sink.WriteRaw(context.Background(), recs); err != nil {
		f.t.Fatal(err)
	}
}

// seal runs a sealing, and another one Settle later (the first writes
// the intents of the days that are due, the second seals them); the clock
// stays Settle later.
func (f *fixture) seal() ledger.SealReport {
	f.t.Helper()
	var all ledger.SealReport
	for i := range 2 {
		if i > 0 {
			f.store.now = f.store.now.Add(ledger.DefaultConfig().Settle)
		}
		rep, err := f.led.Seal(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		all.Sealed = append(all.Sealed, rep.Sealed...)
		all.Unexplained = append(all.Unexplained, rep.Unexplained...)
	}
	return all
}

// verify returns the status of each day and fails on a broken chain
// unless breaks are expected.
func (f *fixture) verify() (map[string]ledger.DayResult, []ledger.Break) {
	f.t.Helper()
	v, err := f.led.Verify(context.Background(), "", "", "")
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]ledger.DayResult{}
	for _, d := range v.Days {
		out[d.Day] = d
	}
	return out, v.Breaks
}

func (f *fixture) expect(want map[string]ledger.Status) {
	f.t.Helper()
	got, breaks := f.verify()
	if len(breaks) > 0 {
		f.t.Errorf("chain breaks: %+v", breaks)
	}
	for d, s := range want {
		if got[d].Status != s {
			f.t.Errorf("%s: %v, want %s", d, got[d], s)
		}
	}
}

func TestSealLateArrivalsAndTampering(t *testing.T) {
	f := newFixture(t)
	f.write(ev("a1", at(12, 10), "q"), ev("a2", at(12, 11), "q"), ev("b1", at(13, 10), "q"), ev("b2", at(13, 12), "q"))
	f.store.now = at(14, 1) // 12th over for 25 h, 13th for 1 h: within the grace
	if rep := f.seal(); len(rep.Sealed) != 1 || rep.Sealed[0].Day != "2026-10-12" || rep.Sealed[0].Events != 2 {
		t.Fatalf("first sealing: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusOK, "2026-10-13": ledger.StatusUnsealed})
	f.store.now = at(14, 3)
	if rep := f.seal(); len(rep.Sealed) != 1 || rep.Sealed[0].Seq != 2 {
		t.Fatalf("second sealing: %+v", rep)
	}

	// A replay and a late arrival through the pipeline.
	f.store.now = at(15, 9)
	f.write(ev("a1", at(12, 10), "q"), ev("a3", at(12, 15), "q"))
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusPending, "2026-10-13": ledger.StatusOK})
	f.store.now = at(15, 10)
	rep := f.seal()
	if len(rep.Sealed) != 1 || rep.Sealed[0].Version != 2 || rep.Sealed[0].Added != 1 || rep.Sealed[0].Events != 3 {
		t.Fatalf("late arrival: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusOK, "2026-10-13": ledger.StatusOK})

	// A conflicting duplicate that wins, late: the content changes through
	// the pipeline.
	f.store.now = at(16, 9)
	f.write(ev("a2", at(12, 10), "q2"))
	f.store.now = at(16, 10)
	if rep := f.seal(); len(rep.Sealed) != 1 || rep.Sealed[0].Version != 3 || rep.Sealed[0].Added != 0 {
		t.Fatalf("late change: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusOK})

	// Changes made directly in the store: an alteration, a removal, an
	// insertion; the sealing does not take them in.
	e := f.store.events["b1"]
	e.Queue = "other"
	f.store.events["b1"] = e
	f.expect(map[string]ledger.Status{"2026-10-13": ledger.StatusChanged})
	delete(f.store.events, "b1")
	f.expect(map[string]ledger.Status{"2026-10-13": ledger.StatusRemoved})
	f.store.events["b1"] = ev("b1", at(13, 10), "q").Event
	f.store.events["b9"] = ev("b9", at(13, 20), "q").Event
	f.expect(map[string]ledger.Status{"2026-10-13": ledger.StatusAdded})
	f.store.now = at(16, 11)
	if rep := f.seal(); len(rep.Sealed) != 0 {
		t.Fatalf("sealing after tampering: %+v", rep)
	}
	// An insertion direct into the store stays a finding even when a late
	// arrival of the same day comes after it.
	f.write(ev("b3", at(13, 21), "q"))
	f.store.now = at(16, 12)
	if rep := f.seal(); len(rep.Sealed) != 0 || len(rep.Unexplained) != 2 {
		t.Fatalf("sealing after tampering and a late arrival: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-13": ledger.StatusAdded})
	delete(f.store.events, "b9")
	f.store.now = at(16, 13)
	f.seal()
	f.expect(map[string]ledger.Status{"2026-10-13": ledger.StatusOK})
}

// A mark written while its event is not yet stored, when the day is
// sealed, is left pending; the next sealing takes the event in.
func TestMarkBeforeItsEventIsStored(t *testing.T) {
	f := newFixture(t)
	f.write(ev("a1", at(12, 10), "q"))
	f.store.now = at(13, 9)
	f.seal()
	late := ev("a2", at(12, 12), "q")
	if err := f.store.WriteMarks(context.Background(), []ledger.Mark{{Center: "c1", Day: "2026-10-12", EventID: "a2",
		Hash: ledger.EventHash(&late.Event)}}); err != nil {
		t.Fatal(err)
	}
	f.store.now = at(13, 10)
	if rep := f.seal(); len(rep.Sealed) != 0 {
		t.Fatalf("sealed %+v with nothing new stored", rep.Sealed)
	}
	f.store.events["a2"] = late.Event
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusPending})
	f.store.now = at(13, 11)
	if rep := f.seal(); len(rep.Sealed) != 1 || rep.Sealed[0].Added != 1 {
		t.Fatalf("pending arrival: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusOK})
}

// Changing, removing or reordering a record of the log breaks its chain.
func TestChainShowsChangedRecords(t *testing.T) {
	f := newFixture(t)
	for d := 12; d <= 15; d++ {
		f.write(ev("e"+string(rune('0'+d-10)), at(d, 10), "q"))
	}
	f.store.now = at(17, 9)
	if rep := f.seal(); len(rep.Sealed) != 4 {
		t.Fatalf("sealed %d days", len(rep.Sealed))
	}
	if _, breaks := f.verify(); len(breaks) != 0 {
		t.Fatalf("intact log has breaks: %+v", breaks)
	}
	f.store.records[1].Events = 7
	if _, breaks := f.verify(); len(breaks) != 1 || breaks[0].Seq != 2 {
		t.Errorf("changed record: %+v", breaks)
	}
	f.store.records[1].Events = 1
	f.store.records = append(f.store.records[:2], f.store.records[3:]...)
	if _, breaks := f.verify(); len(breaks) != 1 || breaks[0].Seq != 4 {
		t.Errorf("removed record: %+v", breaks)
	}
}

// A backfill of old days is neither marked nor sealed while it runs; a day
// is announced once quiet, and its arrivals are marked from then on.
func TestBackfillIsSealedOnceQuiet(t *testing.T) {
	f := newFixture(t)
	f.store.now = at(20, 9)
	f.write(ev("a1", at(12, 10), "q"), ev("a2", at(12, 11), "q"))
	f.store.now = f.store.now.Add(time.Minute)
	f.write(ev("a3", at(12, 12), "q"))
	if len(f.store.marks) != 0 || f.store.storedReads != 0 {
		t.Fatalf("backfill marked: %d marks, %d reads", len(f.store.marks), f.store.storedReads)
	}
	if rep := f.seal(); len(rep.Sealed) != 0 || len(f.store.intents) != 1 {
		t.Fatalf("sealed %+v / %d intents: a day is announced once quiet, sealed Settle later", rep.Sealed, len(f.store.intents))
	}
	f.store.now = f.store.now.Add(time.Minute)
	f.write(ev("a3", at(12, 12), "q"), ev("a4", at(12, 13), "q")) // a replay and an arrival
	if len(f.store.marks) != 1 || f.store.marks[0].EventID != "a4" {
		t.Fatalf("marks after the intent: %+v", f.store.marks)
	}
	rep := f.seal()
	if len(rep.Sealed) != 1 || rep.Sealed[0].Events != 4 || rep.Sealed[0].Version != 1 {
		t.Fatalf("sealing: %+v", rep)
	}
	f.expect(map[string]ledger.Status{"2026-10-12": ledger.StatusOK})
	// A restarted sealer (empty memory) finds nothing new to seal.
	f.led = ledger.New(f.store, shanghai, ledger.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if rep := f.seal(); len(rep.Sealed) != 0 {
		t.Fatalf("restarted sealer sealed again: %+v", rep)
	}
}

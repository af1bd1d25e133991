package livestate_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Replays and conflicting duplicates (the same event_id, another ts)
// through small batches, with every stored call and ticket evicted after
// each batch and read back from the store when its next event comes, end
// in the states of one batch holding everything.
// withDuplicates adds replays (one in twenty) and conflicting duplicates
// (one in every: the same event_id, ts moved by up to two minutes).
func withDuplicates(recs []event.Record, rng *rand.Rand, every int) []event.Record {
	n := len(recs)
	for range n / 20 {
		recs = append(recs, recs[rng.IntN(n)])
	}
	for range n / every {
		r := recs[rng.IntN(n)]
		r.TS += int64(rng.IntN(240_000) - 120_000)
		recs = append(recs, r)
	}
	return recs
}

func TestConflictsAcrossEvictionEqualOneBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := withDuplicates(simRecords(t, 1, 30*time.Hour), rng, 50)
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	end := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return end }

	want := newMemStore()
	ref := newStage(t, want, clock, 0, 1, 2)
	apply(t, ref, want, slices.Clone(recs))

	got := newMemStore()
	st := newStage(t, got, clock, 0, 1, 2)
	for i := 0; i < len(recs); i += 50 {
		apply(t, st, got, slices.Clone(recs[i:min(i+50, len(recs))]))
		st.Evict(st.Reported())
	}
	gotStates, wantStates := got.States(), want.States()
	if len(gotStates) != len(wantStates) {
		t.Fatalf("%d states, want %d", len(gotStates), len(wantStates))
	}
	bad := 0
	for r, w := range wantStates {
		g := gotStates[r]
		if g.Events != w.Events || !reflect.DeepEqual(g.Contribs, w.Contribs) {
			if bad++; bad <= 3 {
				t.Errorf("%v: %d events %+v\nwant %d events %+v\nraw %+v", r, g.Events, g.Contribs, w.Events, w.Contribs, evs(must(got.LoadEvents(context.Background(), []indicator.Ref{r}))))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d states differ", bad, len(wantStates))
	}

	// The aggregates summed from the stored states are compute's results.
	p := profile.Default()
	cal, _ := p.NewCalendar()
	ps := indicator.Single(p, cal)
	eng := indicator.New(ps)
	for i := range recs {
		eng.Apply(&recs[i].Event)
	}
	eng.Advance(end.UnixMilli())
	stored, err := got.ReadStored(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	restored := indicator.Restore(ps, stored.Cells, stored.Tickets, end.UnixMilli()).WithContacts(stored.Contacts)
	for _, q := range []indicator.Query{{Window: indicator.WindowDay, GroupBy: []string{"center_id"}},
		{Window: indicator.WindowMonth, GroupBy: []string{"center_id", "department_id"}}} {
		want, got := eng.Results(q), restored.Results(q)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s by %v: %d results from the store, %d from compute's engine; differ", q.Window, q.GroupBy, len(got), len(want))
		}
	}
}

func evs(recs []event.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID+"@"+time.UnixMilli(r.TS).Format("15:04:05.000"))
	}
	return out
}

// A previous owner stored a call's events, one of them the winner of a
// conflict, and stopped before storing the state. Delivered again, the
// loser comes first and changes nothing; the new owner must still store
// the state its loaded events make.
func TestLoadStoresStatesBehindTheirEvents(t *testing.T) {
	store := newMemStore()
	clock := func() time.Time { return time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC) }
	a := newStage(t, store, clock, 2)
	apply(t, a, store, decode(t,
		`{"event_id":"q1","type":"call.queued","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","call_id":"k1","queue":"main"}`,
		`{"event_id":"a1","type":"call.answered","ts":"2026-10-12T10:00:20+08:00","center_id":"c1","call_id":"k1","agent_id":"ag1"}`))
	late := decode(t, `{"event_id":"x1","type":"call.ended","ts":"2026-10-12T10:05:00+08:00","center_id":"c1","call_id":"k1","ended_by":"caller"}`)
	early := decode(t, `{"event_id":"x1","type":"call.ended","ts":"2026-10-12T10:04:00+08:00","center_id":"c1","call_id":"k1","ended_by":"caller"}`)
	store.keep(early) // the winner, stored; killed before the state write
	b := newStage(t, store, clock, 2)
	assign(t, b, store, 2)
	apply(t, b, store, late) // the loser delivered again, alone in its batch
	apply(t, b, store, early)
	s := store.States()[indicator.Ref{CenterID: "c1", ID: "k1"}]
	if s.Events != 3 {
		t.Errorf("state after the restart knows %d events; want 3", s.Events)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

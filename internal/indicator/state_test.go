package indicator_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/benchdata"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// records decodes generated traffic as records of three partitions, each
// call and ticket on one partition.
func records(t *testing.T, n int) []event.Record {
	t.Helper()
	var buf lines
	if err := benchdata.Write(&buf, n, 5); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	var out []event.Record
	for _, l := range buf {
		e, err := d.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		ref := indicator.RefOf(&e)
		out = append(out, event.Record{Event: e, Origin: event.Origin{Partition: int32(len(ref.ID) % 3)}})
	}
	return out
}

// lines collects written NDJSON lines.
type lines [][]byte

func (l *lines) Write(p []byte) (int, error) {
	*l = append(*l, append([]byte(nil), p[:len(p)-1]...))
	return len(p), nil
}

// statesByRef evaluates and returns every changed state by call or ticket.
func statesByRef(e *indicator.Engine, asOf int64) map[indicator.Ref]indicator.EntityState {
	e.Advance(asOf)
	out := map[indicator.Ref]indicator.EntityState{}
	for _, s := range e.Changes() {
		out[indicator.Ref{Ticket: s.Ticket, CenterID: s.CenterID, ID: s.ID}] = s
	}
	return out
}

// Dropping a partition's calls and tickets and loading them back from
// their events gives the same states; the other partitions are untouched;
// eviction waits until the report that changed an entity is stored.
func TestDropLoadAndEvict(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	recs := records(t, 20_000)
	asOf := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	eng := indicator.New(indicator.Single(p, cal))
	eng.TrackChanges()
	for i := range recs {
		eng.ApplyRecord(&recs[i])
	}
	before := statesByRef(eng, asOf)
	calls, tickets := eng.Size()
	dropped := eng.Drop(func(_ bool, part int32) bool { return part != 1 })
	c2, t2 := eng.Size()
	if dropped == 0 || c2+t2+dropped != calls+tickets {
		t.Fatalf("dropped %d of %d; %d left", dropped, calls+tickets, c2+t2)
	}
	var part1 []event.Record
	for _, r := range recs {
		if r.Origin.Partition == 1 {
			part1 = append(part1, r)
		}
	}
	eng.Load(part1)
	after := statesByRef(eng, asOf)
	if len(after) != dropped {
		t.Errorf("loading evaluated %d calls and tickets, want the %d dropped", len(after), dropped)
	}
	for ref, s := range after {
		// A loaded entity's previous state is unknown: its prior is the span
		// of its events and contributions (and, for a ticket, the evaluation
		// time and its deadline).
		sp := s.RestoredSpan
		if !s.Restored || len(s.Prior) != 0 || sp[0] > sp[1] {
			t.Fatalf("%+v after load: restored %v, span %v, prior %v; want restored, a span, no prior", ref, s.Restored, sp, s.Prior)
		}
		for _, c := range s.Contribs {
			if c.Bucket < sp[0] || c.Bucket > sp[1] {
				t.Fatalf("%+v after load: contribution at %d outside the span %v", ref, c.Bucket, sp)
			}
		}
		s.Restored, s.RestoredSpan = false, [2]int64{}
		if !reflect.DeepEqual(s, before[ref]) {
			t.Fatalf("%+v after drop and load:\n got %+v\nwant %+v", ref, s, before[ref])
		}
	}
	if n := len(eng.Evict(asOf, 0)); n != 0 {
		t.Errorf("evicted %d calls and tickets while no report is stored", n)
	}
	// Partition 1 was reported again after the load: only the others go.
	evicted := eng.Evict(asOf, eng.Reported()-1)
	for _, ref := range evicted {
		if _, reloaded := after[ref]; reloaded {
			t.Fatalf("evicted %+v, whose latest report is not stored", ref)
		}
	}
	evicted = append(evicted, eng.Evict(asOf, eng.Reported())...)
	if len(evicted) == 0 {
		t.Error("nothing evicted once every report is stored")
	}
	for _, ref := range evicted {
		if ref.Ticket {
			if s := before[ref]; s.Tick.DueTS != 0 && s.Tick.ReplyTS == 0 {
				t.Errorf("evicted open ticket %+v", ref)
			}
		}
	}
}

// A reported state carries the contributions of its previous reported
// state, so that a store by day rewrites the days that changed and clears
// those left behind.
func TestPriorContributions(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	eng := indicator.New(indicator.Single(p, cal))
	eng.TrackChanges()
	apply := func(lines ...string) {
		for _, l := range lines {
			ev, err := (&event.Decoder{}).Decode([]byte(l))
			if err != nil {
				t.Fatal(err)
			}
			eng.ApplyRecord(&event.Record{Event: ev})
		}
	}
	asOf := time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC).UnixMilli()
	apply(`{"event_id":"e1","type":"ticket.created","ts":"2026-10-12T09:00:00+08:00","center_id":"c1","ticket_id":"t1","category":"help"}`,
		`{"event_id":"e2","type":"ticket.dispatched","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`,
		`{"event_id":"e3","type":"ticket.replied","ts":"2026-10-20T11:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`)
	first := statesByRef(eng, asOf)[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]
	if len(first.Prior) != 0 || first.Restored {
		t.Fatalf("first report: prior %v, want none", first.Prior)
	}
	// An earlier reply moves the resolve-time contribution to another day.
	apply(`{"event_id":"e4","type":"ticket.replied","ts":"2026-10-13T11:00:00+08:00","center_id":"c1","ticket_id":"t1","department_id":"water"}`)
	second := statesByRef(eng, asOf)[indicator.Ref{Ticket: true, CenterID: "c1", ID: "t1"}]
	if second.Restored || !reflect.DeepEqual(second.Prior, first.Contribs) {
		t.Errorf("second report: prior %v\nwant the first report's contributions %v", second.Prior, first.Contribs)
	}
	if reflect.DeepEqual(second.Contribs, first.Contribs) {
		t.Error("the earlier reply changed nothing")
	}
}

// Reviews are the same whatever the order, with replays, and a twin at
// the same instant is not a review.
func TestReviewsIgnoreOrderAndReplays(t *testing.T) {
	var d event.Decoder
	var evs []event.Event
	for _, l := range []string{
		`{"event_id":"q1","type":"call.evaluated","ts":"2026-10-13T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"f","score":70,"max_score":100}`,
		`{"event_id":"q2","type":"call.evaluated","ts":"2026-10-14T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"f","score":85,"max_score":100}`,
		`{"event_id":"q3","type":"call.evaluated","ts":"2026-10-15T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"f","score":95,"max_score":100}`,
		`{"event_id":"q4","type":"call.evaluated","ts":"2026-10-15T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"f","score":10,"max_score":100}`,
		`{"event_id":"q1","type":"call.evaluated","ts":"2026-10-13T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"f","score":70,"max_score":100}`,
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`,
	} {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	pass := func(string) float64 { return 80 }
	want := indicator.Reviews(evs, event.MaxTS, pass)
	slices.Reverse(evs)
	if got := indicator.Reviews(evs, event.MaxTS, pass); !reflect.DeepEqual(got, want) {
		t.Errorf("reversed: %+v, want %+v", got, want)
	}
	var pairs []string
	for _, r := range want {
		pairs = append(pairs, r.Before.EventID+"→"+r.After.EventID)
	}
	// q3 and q4 at one instant: q3's canonical JSON is smaller, it stands.
	if strings.Join(pairs, " ") != "q1→q2 q2→q3" {
		t.Errorf("reviews %v", pairs)
	}
}

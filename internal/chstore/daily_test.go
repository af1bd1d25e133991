package chstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/benchdata"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// cellKey is one centre, day, indicator and department.
type cellKey struct{ center, day, ind, dept string }

// sums reads q's rows (center, day, ind, dept, num, den), leaving out
// cells that sum to nothing.
func sums(t *testing.T, ctx context.Context, conn driver.Conn, q string) map[cellKey][2]int64 {
	t.Helper()
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	out := map[cellKey][2]int64{}
	for rows.Next() {
		var k cellKey
		var num, den int64
		if err := rows.Scan(&k.center, &k.day, &k.ind, &k.dept, &num, &den); err != nil {
			t.Fatal(err)
		}
		if num != 0 || den != 0 {
			out[k] = [2]int64{num, den}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The daily aggregates equal the sums of the latest states by day, to the
// count, after states were written in many reports (contributions moving
// between days as late and out-of-order events arrive), after a partition
// was dropped and loaded back from its events, and after a second settle
// pass with nothing new. A write after a pass makes the next pass
// recompute its day.
func TestDailyAggregatesEqualStatesOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := benchdata.Write(&buf, 40_000, 7); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	var recs []event.Record
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		e, err := d.Decode(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		h := fnv.New32a()
		h.Write([]byte(e.CallID + e.TicketID))
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Partition: int32(h.Sum32() % 4)}})
	}
	p := profile.Default()
	cal, err := p.NewCalendar()
	if err != nil {
		t.Fatal(err)
	}
	eng := indicator.New(indicator.Single(p, cal))
	eng.WithoutAggregates()
	eng.TrackChanges()
	w := chstore.NewStateWriter(conn, cfg)
	var asOf int64
	report := func() {
		var rows []stored.StateRow
		eng.EachChange(func(s *indicator.EntityState) {
			rows = append(rows, stored.StateRow{EntityState: *s, Version: stored.Version(s.Events, asOf), AsOf: asOf})
		})
		if err := w.WriteStates(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	const batch = 2_000
	for i := 0; i < len(recs); i += batch {
		end := min(i+batch, len(recs))
		for j := i; j < end; j++ {
			eng.ApplyRecord(&recs[j])
			asOf = max(asOf, recs[j].TS)
		}
		eng.Advance(asOf)
		report()
		if i == len(recs)/2 { // partition 1 moves away and back, loaded from its events
			eng.Drop(func(_ bool, part int32) bool { return part != 1 })
			var part1 []event.Record
			for _, r := range recs[:end] {
				if r.Origin.Partition == 1 {
					part1 = append(part1, r)
				}
			}
			eng.Load(part1)
			eng.AdvanceQuiet(asOf)
			report()
		}
	}
	asOf += 40 * 24 * 3600 * 1000 // every deadline passes
	eng.Advance(asOf)
	report()

	settler := chstore.NewSettler(conn, cfg.Database, quiet)
	days, err := settler.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) < 28 {
		t.Errorf("first pass recomputed %d days, want every day of the month", len(days))
	}
	db := cfg.Database
	fromStates := func() map[cellKey][2]int64 {
		return sums(t, ctx, conn, fmt.Sprintf(`SELECT center_id, toString(toDate(bucket)) AS d, ind, dept, sum(num), sum(den) FROM (
  SELECT center_id, bucket, ind, '' AS dept, num, den FROM %[1]s.call_state FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den
  UNION ALL
  SELECT center_id, bucket, ind, dept, num, den FROM %[1]s.ticket_state FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_department AS dept, c_num AS num, c_den AS den
) GROUP BY center_id, d, ind, dept`, db))
	}
	fromDaily := func() map[cellKey][2]int64 {
		return sums(t, ctx, conn, fmt.Sprintf(`SELECT center_id, toString(day), ind, dept, sum(num), sum(den)
FROM %s.daily_indicators FINAL ARRAY JOIN ind, department AS dept, num, den
GROUP BY center_id, day, ind, dept`, db))
	}
	compare := func(when string) {
		t.Helper()
		want, got := fromStates(), fromDaily()
		if len(want) == 0 {
			t.Fatal("no contributions stored")
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %+v: daily %v, states %v", when, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %+v: daily %v, nothing in the states", when, k, v)
			}
		}
	}
	compare("after the first pass")
	if _, err := settler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	compare("after a second pass")

	// A late reply moves a ticket's resolve time: the next pass recomputes
	// the days it leaves and reaches.
	late, err := d.Decode([]byte(`{"event_id":"late-reply","type":"ticket.replied","ts":"2026-10-02T09:00:00+08:00","center_id":"c1","ticket_id":"zz-late","department_id":"water"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{
		`{"event_id":"late-c","type":"ticket.created","ts":"2026-10-01T09:00:00+08:00","center_id":"c1","ticket_id":"zz-late","category":"help"}`,
		`{"event_id":"late-d","type":"ticket.dispatched","ts":"2026-10-01T10:00:00+08:00","center_id":"c1","ticket_id":"zz-late","department_id":"water"}`,
		`{"event_id":"late-r","type":"ticket.replied","ts":"2026-10-20T09:00:00+08:00","center_id":"c1","ticket_id":"zz-late","department_id":"water"}`,
	} {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		eng.ApplyRecord(&event.Record{Event: e})
	}
	eng.Advance(asOf)
	report()
	if _, err := settler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	compare("after a new ticket")
	eng.ApplyRecord(&event.Record{Event: late})
	eng.Advance(asOf)
	report()
	days, err = settler.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compare("after its earlier reply")
	if len(days) == 0 {
		t.Error("the pass after a write recomputed no day")
	}
}

// A state restored from stored events (its previous state unknown)
// clears every day of its span it does not contribute to: a previous
// owner's last state, on a day the restored one left, counts no more.
func TestRestoredStateClearsItsSpanOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	day := func(d int) int64 { return time.Date(2026, 10, d, 10, 0, 0, 0, time.UTC).UnixMilli() }
	contrib := func(d int) []indicator.Contribution {
		return []indicator.Contribution{{Indicator: "on_time_closure_rate", Bucket: day(d), Dims: []string{"c1", "water"}, Num: 1, Den: 1}}
	}
	w := chstore.NewStateWriter(conn, cfg)
	st := indicator.EntityState{Ticket: true, CenterID: "c1", ID: "t1", Contribs: contrib(12)}
	if err := w.WriteStates(ctx, []stored.StateRow{{EntityState: st, Version: 1}}); err != nil {
		t.Fatal(err)
	}
	st.Contribs, st.Restored, st.RestoredSpan = contrib(14), true, [2]int64{day(11), day(14)}
	if err := w.WriteStates(ctx, []stored.StateRow{{EntityState: st, Version: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chstore.NewSettler(conn, cfg.Database, quiet).Settle(ctx); err != nil {
		t.Fatal(err)
	}
	got := sums(t, ctx, conn, fmt.Sprintf(`SELECT center_id, toString(day), ind, dept, sum(num), sum(den)
FROM %s.daily_indicators FINAL ARRAY JOIN ind, department AS dept, num, den GROUP BY center_id, day, ind, dept`, cfg.Database))
	want := map[cellKey][2]int64{{"c1", "2026-10-14", "on_time_closure_rate", "water"}: {1, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("daily sums %v, want %v", got, want)
	}
}

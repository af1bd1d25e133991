package chstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/stored"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// What a new owner of partitions reads, on the real server: the events of
// 10,000 calls at once (ids with quotes and backslashes, bound, in chunks:
// far beyond max_query_size if they were spliced into one query), the ids
// stored from given partitions only, and the open tickets of those
// partitions with the events their state knows.
func TestOwnedPartitionReadsOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	var recs []event.Record
	var refs []indicator.Ref
	var rows []stored.StateRow
	for i := range 10_000 {
		id := fmt.Sprintf(`k'%05d\\x-call-with-a-rather-long-identifier`, i)
		line := fmt.Sprintf(`{"event_id":"q%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":%q,"queue":"general"}`, i, id)
		e, err := d.Decode([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		part := int32(i % 4)
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "calls", Partition: part, Offset: int64(i)}})
		other := e // the same id in another centre, never loaded with c1's
		other.ID, other.CenterID = "o"+e.ID, "c0"
		recs = append(recs, event.Record{Event: other, Origin: event.Origin{Topic: "calls", Partition: part, Offset: int64(10_000 + i)}})
		refs = append(refs, indicator.RefOf(&e))
		rows = append(rows, stored.StateRow{EntityState: indicator.EntityState{CenterID: "c1", ID: id, Partition: part, Events: 1},
			Version: 1, Topic: "calls", Partition: part})
	}
	ticket := []string{
		`{"event_id":"t1","type":"ticket.created","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"T1"}`,
		`{"event_id":"t2","type":"ticket.dispatched","ts":"2026-10-09T10:00:00+08:00","center_id":"c1","ticket_id":"T1","department_id":"water"}`,
	}
	for i, l := range ticket {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "tickets", Partition: 2, Offset: int64(i)}})
	}
	rows = append(rows, stored.StateRow{EntityState: indicator.EntityState{Ticket: true, CenterID: "c1", ID: "T1", Partition: 2,
		Events: 1, Tick: indicator.TicketFacts{DueTS: 1, CreatedTS: 1, FirstDispatchTS: 1}}, Version: 1, Topic: "tickets", Partition: 2})
	if err := chstore.NewRawWriter(conn, cfg.Database).WriteRaw(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := chstore.NewStateWriter(conn, cfg).WriteStates(ctx, rows); err != nil {
		t.Fatal(err)
	}
	r := chstore.NewReader(conn, cfg.Database)
	got, err := r.LoadEvents(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10_000 {
		t.Errorf("LoadEvents of 10,000 calls returned %d events", len(got))
	}
	// One call read back: the tables are ordered by centre, then id, and
	// with the centre named ClickHouse reads the one granule (RawGranularity
	// rows, 1,024) of c1's calls that may hold it, not c0's granules with
	// the same ids, nor a granule of ClickHouse's default 8,192 rows.
	var read uint64
	pctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { read += p.Rows }))
	one, err := r.LoadEvents(pctx, refs[:1])
	if err != nil || len(one) != 1 || one[0].CenterID != "c1" {
		t.Fatalf("LoadEvents of one call: %v, %v", one, err)
	}
	if read == 0 || read > chstore.RawGranularity {
		t.Errorf("reading one call back read %d rows of 20,002, want at most one granule (%d)", read, chstore.RawGranularity)
	}
	known := map[int32]int{}
	if err := r.KnownIDs(ctx, false, "calls", []int32{1, 3}, func(p int32, _, _ string) { known[p]++ }); err != nil {
		t.Fatal(err)
	}
	if len(known) != 2 || known[1] != 2500 || known[3] != 2500 {
		t.Errorf("known ids of partitions 1 and 3: %v", known)
	}
	for _, parts := range [][]int32{{2}, {0, 1}} {
		open, evs, err := r.PendingTickets(ctx, "tickets", parts)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if parts[0] == 2 {
			want = 1
		}
		if len(open) != want || len(evs) != 2*want {
			t.Errorf("partitions %v: %d open tickets, %d events; want %d, %d", parts, len(open), len(evs), want, 2*want)
		}
		if want == 1 && open[indicator.Ref{Ticket: true, CenterID: "c1", ID: "T1"}] != 1 {
			t.Errorf("open ticket's stored state knows %v events, want 1", open)
		}
	}
}

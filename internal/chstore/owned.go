package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// This file holds what the live state stage reads when it takes over
// partitions: the open tickets of those partitions, the ids the store
// knows there, and the events of given calls and tickets. Every query is
// bounded: ids go in chunks of LoadChunk, values are bound, not spliced.

// LoadChunk is the most ids one query names: far below ClickHouse's
// default max_query_size (256 KiB) for ids of up to 100 bytes.
const LoadChunk = 1000

// pendingCond selects ticket states that wait for a deadline, depend on
// the evaluation time, are open (dispatched, not replied: they count in the
// ticket gauges) or await dispatch.
const pendingCond = "(wake_ms > 0 OR volatile = 1 OR (due_ms > 0 AND reply_ms = 0) OR (created_ms > 0 AND first_dispatch_ms = 0 AND close_ms = 0))"

// PendingTickets returns the tickets of topic's partitions parts whose
// latest state is pending, with the number of events that state knows, and
// their stored events: the tickets a new owner of those partitions must
// hold in memory. Two reads, by partition.
func (r *Reader) PendingTickets(ctx context.Context, topic string, parts []int32) (map[indicator.Ref]int, []event.Record, error) {
	known := map[indicator.Ref]int{}
	q := fmt.Sprintf("SELECT center_id, ticket_id, events FROM %s.%s FINAL WHERE src_topic = ? AND src_partition IN ? AND %s",
		r.db, TicketStateTable, pendingCond)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		ref := indicator.Ref{Ticket: true}
		var events uint32
		if err := rows.Scan(&ref.CenterID, &ref.ID, &events); err != nil {
			return err
		}
		known[ref] = int(events)
		return nil
	}, topic, set(parts))
	if err != nil || len(known) == 0 {
		return known, nil, err
	}
	// GLOBAL: on a cluster the subquery runs once, not on every shard.
	q = fmt.Sprintf(`SELECT %s FROM %s.%s WHERE src_topic = ? AND src_partition IN ? AND (center_id, ticket_id) GLOBAL IN (
SELECT center_id, ticket_id FROM %s.%s FINAL WHERE src_topic = ? AND src_partition IN ? AND %s)`,
		rawTicketColumns, r.db, RawTicketTable, r.db, TicketStateTable, pendingCond)
	var out []event.Record
	err = r.each(ctx, q, func(rows driver.Rows) error {
		rec, err := scanTicket(rows)
		out = append(out, rec)
		return err
	}, topic, set(parts), topic, set(parts))
	return known, out, err
}

// KnownIDs calls fn with the centre and id of every call (ticket when
// ticket is set) whose state is stored from topic's partitions parts. An id
// may come more than once.
func (r *Reader) KnownIDs(ctx context.Context, ticket bool, topic string, parts []int32, fn func(part int32, center, id string)) error {
	table, col := CallStateTable, "call_id"
	if ticket {
		table, col = TicketStateTable, "ticket_id"
	}
	q := fmt.Sprintf("SELECT src_partition, center_id, %s FROM %s.%s WHERE src_topic = ? AND src_partition IN ?", col, r.db, table)
	return r.each(ctx, q, func(rows driver.Rows) error {
		var part int32
		var center, id string
		if err := rows.Scan(&part, &center, &id); err != nil {
			return err
		}
		fn(part, center, id)
		return nil
	}, topic, set(parts))
}

// LoadEvents returns the stored events of the given calls and tickets, in
// chunks of LoadChunk ids. A replayed event may come more than once: the
// engine recognises duplicates by event_id.
func (r *Reader) LoadEvents(ctx context.Context, refs []indicator.Ref) ([]event.Record, error) {
	want := make(map[indicator.Ref]bool, len(refs))
	var calls, tickets []indicator.Ref
	for _, ref := range refs {
		want[ref] = true
		if ref.Ticket {
			tickets = append(tickets, ref)
		} else {
			calls = append(calls, ref)
		}
	}
	var out []event.Record
	load := func(table, cols, idCol string, refs []indicator.Ref, scan func(driver.Rows) (event.Record, error)) error {
		q := fmt.Sprintf("SELECT %s FROM %s.%s WHERE center_id = ? AND %s IN ?", cols, r.db, table, idCol)
		return byCenter(refs, func(ref indicator.Ref) (string, string) { return ref.CenterID, ref.ID }, func(center string, ids []string) error {
			return r.each(ctx, q, func(rows driver.Rows) error {
				rec, err := scan(rows)
				if err == nil && want[indicator.RefOf(&rec.Event)] {
					out = append(out, rec)
				}
				return err
			}, center, set(ids))
		})
	}
	if err := load(RawCallTable, rawCallColumns, "call_id", calls, scanCall); err != nil {
		return nil, err
	}
	if err := load(RawTicketTable, rawTicketColumns, "ticket_id", tickets, scanTicket); err != nil {
		return nil, err
	}
	return out, nil
}

// byCenter calls fn with the ids of vals by centre, in chunks of at most
// LoadChunk, for `center_id = ? AND <id> IN ?`. The tables are ordered by
// centre, then id: with the centre named, the ids bound the primary key's
// ranges and ClickHouse reads only the granules that may hold them. An id
// alone is not a prefix of the key: with several centres a hundred ids
// had it read most of the table (on 18.16, 2 M events of 5 centres:
// 787,584 rows read for 20 calls, 155,648 with the centre). One query
// per centre rather than `(center_id, id) IN` pairs: as selective, and
// with one centre as cheap as the id alone, where pairs took 60 % longer
// (20 reads of 100 calls: 1.13 s, 1.15 s, 1.84 s).
func byCenter[T any](vals []T, key func(T) (center, id string), fn func(center string, ids []string) error) error {
	groups := map[string][]string{}
	var centers []string
	for _, v := range vals {
		center, id := key(v)
		if _, ok := groups[center]; !ok {
			centers = append(centers, center)
		}
		groups[center] = append(groups[center], id)
	}
	for _, center := range centers {
		for ids := groups[center]; len(ids) > 0; {
			chunk := ids[:min(len(ids), LoadChunk)]
			ids = ids[len(chunk):]
			if err := fn(center, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

// set binds values as a parenthesised list for IN: the driver quotes them.
func set[T any](vals []T) clickhouse.GroupSet {
	g := clickhouse.GroupSet{Value: make([]any, len(vals))}
	for i, v := range vals {
		g.Value[i] = v
	}
	return g
}

// EachEvent calls fn with every stored event whose ts is in [from, to)
// (Unix ms), calls first, then tickets, then agents, of one centre or of
// all ("" center). Replays not
// yet merged away come as often as they are stored: the engine drops them.
func (r *Reader) EachEvent(ctx context.Context, center string, from, to int64, fn func(event.Record)) error {
	read := func(table, cols string, scan func(driver.Rows) (event.Record, error)) error {
		// ts (seconds, the partition key) prunes months; ts_ms is exact.
		q := fmt.Sprintf("SELECT %s FROM %s.%s WHERE ts >= ? AND ts <= ? AND ts_ms >= ? AND ts_ms < ? AND (? = '' OR center_id = ?)",
			cols, r.db, table)
		return r.each(ctx, q, func(rows driver.Rows) error {
			rec, err := scan(rows)
			if err == nil {
				fn(rec)
			}
			return err
		}, time.UnixMilli(from).Truncate(time.Second), time.UnixMilli(to), from, to, center, center)
	}
	if err := read(RawCallTable, rawCallColumns, scanCall); err != nil {
		return err
	}
	if err := read(RawTicketTable, rawTicketColumns, scanTicket); err != nil {
		return err
	}
	return read(RawAgentTable, rawAgentColumns, scanAgent)
}

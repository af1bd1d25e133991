package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// RawWriter inserts accepted events into the raw tables. Writing the same
// records twice is harmless: the tables collapse rows by event_id.
type RawWriter struct {
	conn driver.Conn
	db   string
	now  func() time.Time
}

// NewRawWriter returns a writer into database db.
func NewRawWriter(conn driver.Conn, db string) *RawWriter {
	return &RawWriter{conn: conn, db: db, now: time.Now}
}

const rawEnvelope = "event_id, type, ts, ts_ms, center_id, "
const rawOrigin = ", v, attrs, src_topic, src_partition, src_offset, ingested_at"

var rawCallColumns = rawEnvelope + "call_id, channel, caller_hash, queue, agent_id, to_queue, to_agent_id, to_department_id, ended_by, rating" + rawOrigin

var rawTicketColumns = rawEnvelope + "ticket_id, call_id, category, urgency, channel, caller_hash, subject, department_id, deadline_ms, time_limit, reason, reached, resolved, rating" + rawOrigin

// WriteRaw inserts recs, call events and ticket events into their tables.
// It returns only when the server has acknowledged every row, or an error.
func (w *RawWriter) WriteRaw(ctx context.Context, recs []event.Record) error {
	now := w.now()
	var calls, tickets int
	for i := range recs {
		if recs[i].Type.IsCall() {
			calls++
		} else {
			tickets++
		}
	}
	if calls > 0 {
		if err := w.insert(ctx, RawCallTable, rawCallColumns, recs, event.Type.IsCall, func(r *event.Record) []any {
			return callRow(r, now)
		}); err != nil {
			return err
		}
	}
	if tickets > 0 {
		return w.insert(ctx, RawTicketTable, rawTicketColumns, recs, event.Type.IsTicket, func(r *event.Record) []any {
			return ticketRow(r, now)
		})
	}
	return nil
}

func (w *RawWriter) insert(ctx context.Context, table, cols string, recs []event.Record,
	keep func(event.Type) bool, row func(*event.Record) []any) error {
	b, err := w.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", w.db, table, cols))
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i := range recs {
		if keep(recs[i].Type) {
			if err := b.Append(row(&recs[i])...); err != nil {
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

func envelope(r *event.Record, id string) []any {
	return []any{r.ID, r.Type.String(), time.UnixMilli(r.TS), r.TS, r.CenterID, id}
}

func origin(r *event.Record, now time.Time) []any {
	return []any{uint8(r.V), string(r.Attrs), r.Origin.Topic, r.Origin.Partition, r.Origin.Offset, now}
}

func callRow(r *event.Record, now time.Time) []any {
	row := envelope(r, r.CallID)
	row = append(row, r.Channel.String(), r.CallerHash, r.Queue, r.AgentID, r.ToQueue, r.ToAgentID,
		r.ToDepartmentID, r.EndedBy.String(), r.Rating.String())
	return append(row, origin(r, now)...)
}

func ticketRow(r *event.Record, now time.Time) []any {
	row := envelope(r, r.TicketID)
	row = append(row, r.CallID, r.Category.String(), r.Urgency.String(), r.Channel.String(), r.CallerHash,
		r.Subject, r.DepartmentID, r.Deadline, r.TimeLimit.String(), r.Reason,
		tri(r.Reached), tri(r.Resolved), r.Rating.String())
	return append(row, origin(r, now)...)
}

// tri maps an optional boolean to a Nullable(UInt8) value.
func tri(t event.Tri) *uint8 {
	var v uint8
	switch t {
	case event.True:
		v = 1
	case event.False:
	default:
		return nil
	}
	return &v
}

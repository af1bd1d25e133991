package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// StateRow is one call's or ticket's evaluated state as stored.
type StateRow struct {
	indicator.EntityState
	// Version orders the rows of one entity: the row with the highest wins.
	Version   uint64
	AsOf      int64 // evaluation time, Unix ms
	Topic     string
	Partition int32
}

// StateVersion orders evaluations of one entity: more events win, then a
// later evaluation. A replayed or concurrent evaluation that knows fewer
// events can never replace one that knows more.
func StateVersion(events int, asOf int64) uint64 {
	return uint64(events)<<33 | uint64(asOf/1000)&(1<<33-1)
}

// StateWriter writes state rows.
type StateWriter struct {
	conn driver.Conn
	db   string
}

// NewStateWriter returns a writer into database db.
func NewStateWriter(conn driver.Conn, db string) *StateWriter {
	return &StateWriter{conn: conn, db: db}
}

const stateHead = "center_id, %s, version, as_of_ms, updated_at, src_topic, src_partition, events, last_ts_ms, "

var callStateColumns = fmt.Sprintf(stateHead, "call_id") +
	"queue, channel, agent_id, offered, answered, abandoned, offer_ts_ms, wait_ms, talk_ms, handle_ms, rating, c_ind, c_bucket, c_num, c_den"

var ticketStateColumns = fmt.Sprintf(stateHead, "ticket_id") +
	"category, channel, urgency, created_ms, first_dispatch_ms, due_ms, reply_ms, close_ms, holder_department, dispatches, reopened, wake_ms, volatile, c_ind, c_bucket, c_department, c_num, c_den"

// WriteStates inserts rows; it returns once the server acknowledged them.
func (w *StateWriter) WriteStates(ctx context.Context, rows []StateRow) error {
	now := time.Now()
	var calls, tickets []*StateRow
	for i := range rows {
		if rows[i].Ticket {
			tickets = append(tickets, &rows[i])
		} else {
			calls = append(calls, &rows[i])
		}
	}
	if err := w.insert(ctx, CallStateTable, callStateColumns, calls, func(r *StateRow) []any { return callStateRow(r, now) }); err != nil {
		return err
	}
	return w.insert(ctx, TicketStateTable, ticketStateColumns, tickets, func(r *StateRow) []any { return ticketStateRow(r, now) })
}

func (w *StateWriter) insert(ctx context.Context, table, cols string, rows []*StateRow, row func(*StateRow) []any) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := w.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", w.db, table, cols))
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Abort()
	for _, r := range rows {
		if err := b.Append(row(r)...); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

func stateHeadRow(r *StateRow, now time.Time) []any {
	return []any{r.CenterID, r.ID, r.Version, r.AsOf, now, r.Topic, r.Partition, uint32(r.Events), r.LastTS}
}

// contributionArrays splits contributions into the parallel array columns;
// dept picks the per-contribution department for tickets.
func contributionArrays(cs []indicator.Contribution) (ind []string, bucket []time.Time, dept []string, num, den []int64) {
	for _, c := range cs {
		ind = append(ind, c.Indicator)
		bucket = append(bucket, time.UnixMilli(c.Bucket))
		if len(c.Dims) > 1 {
			dept = append(dept, c.Dims[1]) // ticket tuple: center, department, ...
		}
		num = append(num, c.Num)
		den = append(den, c.Den)
	}
	return ind, bucket, dept, nonNil(num), nonNil(den)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func callStateRow(r *StateRow, now time.Time) []any {
	f := r.Call
	ind, bucket, _, num, den := contributionArrays(r.Contribs)
	row := stateHeadRow(r, now)
	return append(row, f.Queue, f.Channel, f.Agent, b2u(f.Offered), b2u(f.Answered), b2u(f.Abandoned),
		f.OfferTS, f.WaitMs, f.TalkMs, f.HandleMs, f.Rating, nonNil(ind), nonNil(bucket), num, den)
}

func ticketStateRow(r *StateRow, now time.Time) []any {
	f := r.Tick
	ind, bucket, dept, num, den := contributionArrays(r.Contribs)
	row := stateHeadRow(r, now)
	return append(row, f.Category, f.Channel, f.Urgency, f.CreatedTS, f.FirstDispatchTS, f.DueTS, f.ReplyTS,
		f.CloseTS, f.Holder, uint16(f.Dispatches), b2u(f.Reopened), r.Wake, b2u(r.Volatile),
		nonNil(ind), nonNil(bucket), nonNil(dept), num, den)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

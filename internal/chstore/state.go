package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

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
	calls, tickets *inserter
}

// NewStateWriter returns a writer into database db.
func NewStateWriter(conn driver.Conn, db string) *StateWriter {
	return &StateWriter{calls: newInserter(conn, db, CallStateTable, callStateColumns),
		tickets: newInserter(conn, db, TicketStateTable, ticketStateColumns)}
}

const stateHead = "center_id, %s, version, as_of_ms, updated_at, src_topic, src_partition, events, last_ts_ms, "

var callStateColumns = fmt.Sprintf(stateHead, "call_id") +
	"queue, channel, agent_id, offered, answered, abandoned, offer_ts_ms, wait_ms, talk_ms, handle_ms, rating, team, c_ind, c_bucket, c_num, c_den"

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
	// The two tables are written at once, each on its own connection;
	// WriteStates returns when both have acknowledged.
	var g errgroup.Group
	if len(calls) > 0 {
		g.Go(func() error {
			return w.calls.insert(ctx, callStateCols(calls, now)...)
		})
	}
	if len(tickets) > 0 {
		g.Go(func() error {
			return w.tickets.insert(ctx, ticketStateCols(tickets, now)...)
		})
	}
	return g.Wait()
}

// headCols are the columns every state table starts with (stateHead).
type headCols struct {
	center, id []string
	version    []uint64
	asOf       []int64
	updated    []time.Time
	topic      []string
	partition  []int32
	events     []uint32
	lastTS     []int64
}

func (h *headCols) add(r *StateRow, now time.Time) {
	h.center, h.id, h.version = append(h.center, r.CenterID), append(h.id, r.ID), append(h.version, r.Version)
	h.asOf, h.updated, h.topic = append(h.asOf, r.AsOf), append(h.updated, now), append(h.topic, r.Topic)
	h.partition, h.events, h.lastTS = append(h.partition, r.Partition), append(h.events, uint32(r.Events)), append(h.lastTS, r.LastTS)
}

func (h *headCols) columns() []any {
	return []any{h.center, h.id, h.version, h.asOf, h.updated, h.topic, h.partition, h.events, h.lastTS}
}

// contribCols are the parallel contribution arrays; dept only for tickets.
type contribCols struct {
	ind, dept [][]string
	bucket    [][]int64 // Unix seconds (buckets are whole minutes)
	num, den  [][]int64
}

func (c *contribCols) add(cs []indicator.Contribution, ticket bool) {
	ind, bucket := make([]string, len(cs)), make([]int64, len(cs))
	num, den := make([]int64, len(cs)), make([]int64, len(cs))
	var dept []string
	if ticket {
		dept = make([]string, len(cs))
	}
	for i, x := range cs {
		ind[i], bucket[i], num[i], den[i] = x.Indicator, x.Bucket/1000, x.Num, x.Den
		if ticket && len(x.Dims) > 1 {
			dept[i] = x.Dims[1] // ticket tuple: center, department, ...
		}
	}
	c.ind, c.bucket, c.num, c.den = append(c.ind, ind), append(c.bucket, bucket), append(c.num, num), append(c.den, den)
	if ticket {
		c.dept = append(c.dept, dept)
	}
}

func callStateCols(rows []*StateRow, now time.Time) []any {
	var h headCols
	var c contribCols
	str := make([][]string, 5) // queue, channel, agent_id, rating, team
	u8 := make([][]uint8, 3)   // offered, answered, abandoned
	i64 := make([][]int64, 4)  // offer_ts_ms, wait_ms, talk_ms, handle_ms
	for _, r := range rows {
		h.add(r, now)
		f := r.Call
		for i, v := range [...]string{f.Queue, f.Channel, f.Agent, f.Rating, f.Team} {
			str[i] = append(str[i], v)
		}
		for i, v := range [...]bool{f.Offered, f.Answered, f.Abandoned} {
			u8[i] = append(u8[i], b2u(v))
		}
		for i, v := range [...]int64{f.OfferTS, f.WaitMs, f.TalkMs, f.HandleMs} {
			i64[i] = append(i64[i], v)
		}
		c.add(r.Contribs, false)
	}
	return append(h.columns(), str[0], str[1], str[2], u8[0], u8[1], u8[2], i64[0], i64[1], i64[2], i64[3], str[3], str[4],
		c.ind, c.bucket, c.num, c.den)
}

func ticketStateCols(rows []*StateRow, now time.Time) []any {
	var h headCols
	var c contribCols
	str := make([][]string, 4) // category, channel, urgency, holder_department
	i64 := make([][]int64, 6)  // created_ms, first_dispatch_ms, due_ms, reply_ms, close_ms, wake_ms
	var dispatches []uint16
	var reopened, volatile []uint8
	for _, r := range rows {
		h.add(r, now)
		f := r.Tick
		for i, v := range [...]string{f.Category, f.Channel, f.Urgency, f.Holder} {
			str[i] = append(str[i], v)
		}
		for i, v := range [...]int64{f.CreatedTS, f.FirstDispatchTS, f.DueTS, f.ReplyTS, f.CloseTS, r.Wake} {
			i64[i] = append(i64[i], v)
		}
		dispatches = append(dispatches, uint16(f.Dispatches))
		reopened, volatile = append(reopened, b2u(f.Reopened)), append(volatile, b2u(r.Volatile))
		c.add(r.Contribs, true)
	}
	return append(h.columns(), str[0], str[1], str[2], i64[0], i64[1], i64[2], i64[3], i64[4], str[3], dispatches, reopened,
		i64[5], volatile, c.ind, c.bucket, c.dept, c.num, c.den)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

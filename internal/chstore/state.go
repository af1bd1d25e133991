package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// StateWriter writes state rows, and their contributions by day.
type StateWriter struct {
	calls, tickets, agents, days *inserter
	backlog                      *inserter
	callCols                     callStateCols   // filled under calls' lock
	ticketCols                   ticketStateCols // filled under tickets' lock
	agentCols                    agentStateCols  // filled under agents' lock
	dayCols                      dayCols         // filled under days' lock
}

// NewStateWriter returns a writer into c's database; days are those of
// c's time zone (the zone of the tables' DateTime columns).
func NewStateWriter(conn driver.Conn, c Config) *StateWriter {
	db := c.Database
	w := &StateWriter{calls: newInserter(conn, db, CallStateTable, callStateColumns),
		tickets: newInserter(conn, db, TicketStateTable, ticketStateColumns),
		agents:  newInserter(conn, db, AgentStateTable, agentStateColumns),
		days:    newInserter(conn, db, ContribDaysTable, contribDaysColumns),
		backlog: newInserter(conn, db, BacklogTable, backlogColumns)}
	w.dayCols.days.loc = c.Location()
	return w
}

const stateHead = "center_id, %s, version, as_of_ms, updated_at, src_topic, src_partition, events, last_ts_ms, "

var callStateColumns = fmt.Sprintf(stateHead, "call_id") +
	"queue, channel, agent_id, offered, answered, abandoned, offer_ts_ms, wait_ms, talk_ms, handle_ms, rating, team, caller_hash, arrived_ms, c_ind, c_bucket, c_num, c_den"

var ticketStateColumns = fmt.Sprintf(stateHead, "ticket_id") +
	"category, channel, urgency, created_ms, first_dispatch_ms, due_ms, reply_ms, close_ms, holder_department, dispatches, reopened, wake_ms, volatile, caller_hash, topic, area, c_ind, c_bucket, c_department, c_num, c_den"

var agentStateColumns = "center_id, agent_id, day_ms, version, as_of_ms, updated_at, src_topic, src_partition, events, last_ts_ms, " +
	"open, carry_open, carry_state, carry_team, carry_last_ms, c_ind, c_bucket, c_team, c_num, c_den"

// WriteStates inserts rows; it returns once the server acknowledged them.
func (w *StateWriter) WriteStates(ctx context.Context, rows []stored.StateRow) error {
	now := time.Now()
	var calls, tickets, agents []*stored.StateRow
	entities := rows // calls and tickets, whose contributions are also kept by day
	for i := range rows {
		switch {
		case rows[i].Agent:
			agents = append(agents, &rows[i])
		case rows[i].Ticket:
			tickets = append(tickets, &rows[i])
		default:
			calls = append(calls, &rows[i])
		}
	}
	if len(agents) > 0 {
		entities = make([]stored.StateRow, 0, len(rows)-len(agents))
		for i := range rows {
			if !rows[i].Agent {
				entities = append(entities, rows[i])
			}
		}
	}
	// The tables are written at once, each on its own connection;
	// WriteStates returns when all have acknowledged.
	var g errgroup.Group
	g.Go(func() error {
		return w.days.insert(ctx, func() []any { return w.dayCols.fill(entities) })
	})
	if len(agents) > 0 {
		g.Go(func() error {
			return w.agents.insert(ctx, func() []any { return w.agentCols.fill(agents, now) })
		})
	}
	if len(calls) > 0 {
		g.Go(func() error {
			return w.calls.insert(ctx, func() []any { return w.callCols.fill(calls, now) })
		})
	}
	if len(tickets) > 0 {
		g.Go(func() error {
			return w.tickets.insert(ctx, func() []any { return w.ticketCols.fill(tickets, now) })
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

func (h *headCols) reset() {
	h.center, h.id, h.version, h.asOf = reuse(h.center), reuse(h.id), reuse(h.version), reuse(h.asOf)
	h.updated, h.topic, h.partition = reuse(h.updated), reuse(h.topic), reuse(h.partition)
	h.events, h.lastTS = reuse(h.events), reuse(h.lastTS)
}

func (h *headCols) add(r *stored.StateRow, now time.Time) {
	h.center, h.id, h.version = append(h.center, r.CenterID), append(h.id, r.ID), append(h.version, r.Version)
	h.asOf, h.updated, h.topic = append(h.asOf, r.AsOf), append(h.updated, now), append(h.topic, r.Topic)
	h.partition, h.events, h.lastTS = append(h.partition, r.Partition), append(h.events, uint32(r.Events)), append(h.lastTS, r.LastTS)
}

func (h *headCols) columns() []any {
	return []any{h.center, h.id, h.version, h.asOf, h.updated, h.topic, h.partition, h.events, h.lastTS}
}

// contribCols are the parallel contribution arrays; dept holds one
// dimension of the tuple for the tables that keep one (tickets: the
// department, agents: the team).
type contribCols struct {
	ind, dept arrays[string]
	bucket    arrays[int64] // Unix seconds (buckets are whole minutes)
	num, den  arrays[int64]
}

func (c *contribCols) reset() {
	for _, a := range []*arrays[string]{&c.ind, &c.dept} {
		a.reset()
	}
	for _, a := range []*arrays[int64]{&c.bucket, &c.num, &c.den} {
		a.reset()
	}
}

// Positions of the one dimension contribCols keeps.
const (
	noDim   = -1
	deptDim = 1 // ticket tuple: center, department, ...
	teamDim = 2 // agent tuple: center, agent, team
)

func (c *contribCols) add(cs []indicator.Contribution, dim int) {
	for _, x := range cs {
		c.ind.flat, c.bucket.flat = append(c.ind.flat, x.Indicator), append(c.bucket.flat, x.Bucket/1000)
		c.num.flat, c.den.flat = append(c.num.flat, x.Num), append(c.den.flat, x.Den)
		if dim != noDim {
			v := ""
			if len(x.Dims) > dim {
				v = x.Dims[dim]
			}
			c.dept.flat = append(c.dept.flat, v)
		}
	}
	c.ind.endRow()
	c.bucket.endRow()
	c.num.endRow()
	c.den.endRow()
	if dim != noDim {
		c.dept.endRow()
	}
}

// callStateCols are the columns of call_state, kept between inserts.
type callStateCols struct {
	h   headCols
	c   contribCols
	str [6][]string // queue, channel, agent_id, rating, team, caller_hash
	u8  [3][]uint8  // offered, answered, abandoned
	i64 [5][]int64  // offer_ts_ms, wait_ms, talk_ms, handle_ms, arrived_ms
}

func (b *callStateCols) fill(rows []*stored.StateRow, now time.Time) []any {
	b.h.reset()
	b.c.reset()
	resetAll(b.str[:])
	resetAll(b.u8[:])
	resetAll(b.i64[:])
	for _, r := range rows {
		b.h.add(r, now)
		f := &r.Call
		for i, v := range [...]string{f.Queue, f.Channel, f.Agent, f.Rating, f.Team, f.CallerHash} {
			b.str[i] = append(b.str[i], v)
		}
		for i, v := range [...]bool{f.Offered, f.Answered, f.Abandoned} {
			b.u8[i] = append(b.u8[i], b2u(v))
		}
		for i, v := range [...]int64{f.OfferTS, f.WaitMs, f.TalkMs, f.HandleMs, f.ArrivedTS} {
			b.i64[i] = append(b.i64[i], v)
		}
		b.c.add(r.Contribs, noDim)
	}
	return append(b.h.columns(), b.str[0], b.str[1], b.str[2], b.u8[0], b.u8[1], b.u8[2], b.i64[0], b.i64[1], b.i64[2], b.i64[3],
		b.str[3], b.str[4], b.str[5], b.i64[4], &b.c.ind, &b.c.bucket, &b.c.num, &b.c.den)
}

// ticketStateCols are the columns of ticket_state, kept between inserts.
type ticketStateCols struct {
	h                  headCols
	c                  contribCols
	str                [7][]string // category, channel, urgency, holder_department, caller_hash, topic, area
	i64                [6][]int64  // created_ms, first_dispatch_ms, due_ms, reply_ms, close_ms, wake_ms
	dispatches         []uint16
	reopened, volatile []uint8
}

func (b *ticketStateCols) fill(rows []*stored.StateRow, now time.Time) []any {
	b.h.reset()
	b.c.reset()
	resetAll(b.str[:])
	resetAll(b.i64[:])
	b.dispatches, b.reopened, b.volatile = reuse(b.dispatches), reuse(b.reopened), reuse(b.volatile)
	for _, r := range rows {
		b.h.add(r, now)
		f := &r.Tick
		for i, v := range [...]string{f.Category, f.Channel, f.Urgency, f.Holder, f.CallerHash, f.Topic, f.Area} {
			b.str[i] = append(b.str[i], v)
		}
		for i, v := range [...]int64{f.CreatedTS, f.FirstDispatchTS, f.DueTS, f.ReplyTS, f.CloseTS, r.Wake} {
			b.i64[i] = append(b.i64[i], v)
		}
		b.dispatches = append(b.dispatches, uint16(f.Dispatches))
		b.reopened, b.volatile = append(b.reopened, b2u(f.Reopened)), append(b.volatile, b2u(r.Volatile))
		b.c.add(r.Contribs, deptDim)
	}
	return append(b.h.columns(), b.str[0], b.str[1], b.str[2], b.i64[0], b.i64[1], b.i64[2], b.i64[3], b.i64[4], b.str[3],
		b.dispatches, b.reopened, b.i64[5], b.volatile, b.str[4], b.str[5], b.str[6], &b.c.ind, &b.c.bucket, &b.c.dept, &b.c.num, &b.c.den)
}

// agentStateCols are the columns of agent_state, kept between inserts.
type agentStateCols struct {
	center, id, topic, carryState, carryTeam []string
	day, asOf, lastTS, carryLast             []int64
	version                                  []uint64
	updated                                  []time.Time
	partition                                []int32
	events                                   []uint32
	open, carryOpen                          []uint8
	c                                        contribCols
}

func (b *agentStateCols) fill(rows []*stored.StateRow, now time.Time) []any {
	b.center, b.id, b.topic, b.carryState, b.carryTeam = reuse(b.center), reuse(b.id), reuse(b.topic), reuse(b.carryState), reuse(b.carryTeam)
	b.day, b.asOf, b.lastTS, b.carryLast = reuse(b.day), reuse(b.asOf), reuse(b.lastTS), reuse(b.carryLast)
	b.version, b.updated, b.partition, b.events = reuse(b.version), reuse(b.updated), reuse(b.partition), reuse(b.events)
	b.open, b.carryOpen = reuse(b.open), reuse(b.carryOpen)
	b.c.reset()
	for _, r := range rows {
		b.center, b.id, b.topic = append(b.center, r.CenterID), append(b.id, r.ID), append(b.topic, r.Topic)
		b.day, b.asOf, b.lastTS = append(b.day, r.Day), append(b.asOf, r.AsOf), append(b.lastTS, r.LastTS)
		b.version, b.updated, b.partition = append(b.version, r.Version), append(b.updated, now), append(b.partition, r.Partition)
		b.events, b.open = append(b.events, uint32(r.Events)), append(b.open, b2u(r.Volatile))
		b.carryOpen, b.carryState = append(b.carryOpen, b2u(r.Carry.Open)), append(b.carryState, r.Carry.State)
		b.carryTeam, b.carryLast = append(b.carryTeam, r.Carry.Team), append(b.carryLast, r.Carry.LastTS)
		b.c.add(r.Contribs, teamDim)
	}
	return []any{b.center, b.id, b.day, b.version, b.asOf, b.updated, b.topic, b.partition, b.events, b.lastTS,
		b.open, b.carryOpen, b.carryState, b.carryTeam, b.carryLast, &b.c.ind, &b.c.bucket, &b.c.dept, &b.c.num, &b.c.den}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

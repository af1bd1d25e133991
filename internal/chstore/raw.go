package chstore

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// RawWriter inserts accepted events into the raw tables. Writing the same
// records twice is harmless: the tables collapse rows by event_id.
type RawWriter struct {
	calls, tickets *inserter
	now            func() time.Time
}

// NewRawWriter returns a writer into database db.
func NewRawWriter(conn driver.Conn, db string) *RawWriter {
	return &RawWriter{calls: newInserter(conn, db, RawCallTable, rawCallColumns),
		tickets: newInserter(conn, db, RawTicketTable, rawTicketColumns), now: time.Now}
}

const rawEnvelope = "event_id, type, ts, ts_ms, center_id, "
const rawOrigin = ", v, attrs, src_topic, src_partition, src_offset, ingested_at"

var rawCallColumns = rawEnvelope + "call_id, channel, caller_hash, queue, agent_id, to_queue, to_agent_id, to_department_id, ended_by, rating, team" + rawOrigin

var rawTicketColumns = rawEnvelope + "ticket_id, call_id, category, urgency, channel, caller_hash, subject, department_id, deadline_ms, time_limit, reason, reached, resolved, rating" + rawOrigin

// WriteRaw inserts recs, call events and ticket events into their tables.
// It returns only when the server has acknowledged every row, or an error.
func (w *RawWriter) WriteRaw(ctx context.Context, recs []event.Record) error {
	now := w.now()
	var calls, tickets []*event.Record
	for i := range recs {
		if recs[i].Type.IsCall() {
			calls = append(calls, &recs[i])
		} else {
			tickets = append(tickets, &recs[i])
		}
	}
	// Both tables at once, each on its own connection; WriteRaw returns
	// when both have acknowledged.
	var g errgroup.Group
	if len(calls) > 0 {
		g.Go(func() error { return w.insertCalls(ctx, calls, now) })
	}
	if len(tickets) > 0 {
		g.Go(func() error { return w.insertTickets(ctx, tickets, now) })
	}
	return g.Wait()
}

// envelopeCols are the columns every raw table has, in rawEnvelope and
// rawOrigin order around the entity id.
type envelopeCols struct {
	id, typ, center, entity []string
	ts                      []time.Time
	tsMs                    []int64
	v                       []uint8
	attrs, topic            []string
	partition               []int32
	offset                  []int64
	ingested                []time.Time
}

func newEnvelopeCols(n int) envelopeCols {
	return envelopeCols{id: make([]string, 0, n), typ: make([]string, 0, n), center: make([]string, 0, n),
		entity: make([]string, 0, n), ts: make([]time.Time, 0, n), tsMs: make([]int64, 0, n), v: make([]uint8, 0, n),
		attrs: make([]string, 0, n), topic: make([]string, 0, n), partition: make([]int32, 0, n),
		offset: make([]int64, 0, n), ingested: make([]time.Time, 0, n)}
}

func (c *envelopeCols) add(r *event.Record, entity string, now time.Time) {
	c.id, c.typ, c.center, c.entity = append(c.id, r.ID), append(c.typ, r.Type.String()), append(c.center, r.CenterID), append(c.entity, entity)
	c.ts, c.tsMs, c.v = append(c.ts, time.UnixMilli(r.TS)), append(c.tsMs, r.TS), append(c.v, uint8(r.V))
	c.attrs, c.topic = append(c.attrs, string(r.Attrs)), append(c.topic, r.Origin.Topic)
	c.partition, c.offset, c.ingested = append(c.partition, r.Origin.Partition), append(c.offset, r.Origin.Offset), append(c.ingested, now)
}

// columns returns the envelope columns with own, the table's own columns,
// between the entity id and the provenance, as the column lists say.
func (c *envelopeCols) columns(own ...any) []any {
	out := []any{c.id, c.typ, c.ts, c.tsMs, c.center, c.entity}
	out = append(out, own...)
	return append(out, c.v, c.attrs, c.topic, c.partition, c.offset, c.ingested)
}

func (w *RawWriter) insertCalls(ctx context.Context, recs []*event.Record, now time.Time) error {
	n := len(recs)
	env := newEnvelopeCols(n)
	own := make([][]string, 10) // channel, caller_hash, queue, agent_id, to_queue, to_agent_id, to_department_id, ended_by, rating, team
	for i := range own {
		own[i] = make([]string, 0, n)
	}
	for _, r := range recs {
		env.add(r, r.CallID, now)
		for i, v := range [...]string{r.Channel.String(), r.CallerHash, r.Queue, r.AgentID, r.ToQueue, r.ToAgentID,
			r.ToDepartmentID, r.EndedBy.String(), r.Rating.String(), r.Team} {
			own[i] = append(own[i], v)
		}
	}
	cols := make([]any, len(own))
	for i := range own {
		cols[i] = own[i]
	}
	return w.calls.insert(ctx, env.columns(cols...)...)
}

func (w *RawWriter) insertTickets(ctx context.Context, recs []*event.Record, now time.Time) error {
	n := len(recs)
	env := newEnvelopeCols(n)
	str := make([][]string, 9) // call_id, category, urgency, channel, caller_hash, subject, department_id; time_limit, reason
	for i := range str {
		str[i] = make([]string, 0, n)
	}
	deadline := make([]int64, 0, n)
	reached, resolved := make([]*uint8, 0, n), make([]*uint8, 0, n)
	rating := make([]string, 0, n)
	for _, r := range recs {
		env.add(r, r.TicketID, now)
		for i, v := range [...]string{r.CallID, r.Category.String(), r.Urgency.String(), r.Channel.String(), r.CallerHash,
			r.Subject, r.DepartmentID, r.TimeLimit.String(), r.Reason} {
			str[i] = append(str[i], v)
		}
		deadline = append(deadline, r.Deadline)
		reached, resolved = append(reached, tri(r.Reached)), append(resolved, tri(r.Resolved))
		rating = append(rating, r.Rating.String())
	}
	return w.tickets.insert(ctx, env.columns(
		str[0], str[1], str[2], str[3], str[4], str[5], str[6], deadline, str[7], str[8], reached, resolved, rating)...)
}

// Values of the optional booleans; shared, never written.
var triTrue, triFalse uint8 = 1, 0

// tri maps an optional boolean to a Nullable(UInt8) value.
func tri(t event.Tri) *uint8 {
	switch t {
	case event.True:
		return &triTrue
	case event.False:
		return &triFalse
	}
	return nil
}

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
	calls, tickets, agents *inserter
	callCols               rawCallCols   // filled under calls' lock
	ticketCols             rawTicketCols // filled under tickets' lock
	agentCols              rawAgentCols  // filled under agents' lock
	now                    func() time.Time
}

// NewRawWriter returns a writer into database db.
func NewRawWriter(conn driver.Conn, db string) *RawWriter {
	return &RawWriter{calls: newInserter(conn, db, RawCallTable, rawCallColumns),
		tickets: newInserter(conn, db, RawTicketTable, rawTicketColumns),
		agents:  newInserter(conn, db, RawAgentTable, rawAgentColumns), now: time.Now}
}

const rawEnvelope = "event_id, type, ts, ts_ms, center_id, "
const rawOrigin = ", v, attrs, src_topic, src_partition, src_offset, ingested_at"

// rawEvaluation are the columns of a quality-inspection result (migration 6).
const rawEvaluation = ", evaluation_id, form, score, max_score, passed, auto_fail, evaluator"

var rawCallColumns = rawEnvelope + "call_id, channel, caller_hash, queue, agent_id, to_queue, to_agent_id, to_department_id, ended_by, rating, team" + rawEvaluation + rawOrigin

var rawAgentColumns = rawEnvelope + "agent_id, state, reason, team, queues" + rawOrigin

var rawTicketColumns = rawEnvelope + "ticket_id, call_id, category, urgency, channel, caller_hash, subject, department_id, deadline_ms, time_limit, reason, reached, resolved, rating, topic, area" + rawEvaluation + rawOrigin

// WriteRaw inserts recs, call events and ticket events into their tables.
// It returns only when the server has acknowledged every row, or an error.
func (w *RawWriter) WriteRaw(ctx context.Context, recs []event.Record) error {
	now := w.now()
	var calls, tickets, agents []*event.Record
	for i := range recs {
		switch t := recs[i].Type; {
		case t.IsCall():
			calls = append(calls, &recs[i])
		case t.IsAgent():
			agents = append(agents, &recs[i])
		default:
			tickets = append(tickets, &recs[i])
		}
	}
	// Both tables at once, each on its own connection; WriteRaw returns
	// when both have acknowledged.
	var g errgroup.Group
	if len(calls) > 0 {
		g.Go(func() error { return w.calls.insert(ctx, func() []any { return w.callCols.fill(calls, now) }) })
	}
	if len(tickets) > 0 {
		g.Go(func() error { return w.tickets.insert(ctx, func() []any { return w.ticketCols.fill(tickets, now) }) })
	}
	if len(agents) > 0 {
		g.Go(func() error { return w.agents.insert(ctx, func() []any { return w.agentCols.fill(agents, now) }) })
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

func (c *envelopeCols) reset() {
	c.id, c.typ, c.center, c.entity = reuse(c.id), reuse(c.typ), reuse(c.center), reuse(c.entity)
	c.ts, c.tsMs, c.v, c.attrs, c.topic = reuse(c.ts), reuse(c.tsMs), reuse(c.v), reuse(c.attrs), reuse(c.topic)
	c.partition, c.offset, c.ingested = reuse(c.partition), reuse(c.offset), reuse(c.ingested)
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

// evaluationCols are the columns of a quality-inspection result, empty
// for the other events.
type evaluationCols struct {
	str            [3][]string // evaluation_id, form, evaluator
	score, max     []float64
	passed, failed []*uint8
}

func (c *evaluationCols) reset() {
	resetAll(c.str[:])
	c.score, c.max, c.passed, c.failed = reuse(c.score), reuse(c.max), reuse(c.passed), reuse(c.failed)
}

func (c *evaluationCols) add(r *event.Record) {
	c.str[0], c.str[1], c.str[2] = append(c.str[0], r.EvaluationID), append(c.str[1], r.Form), append(c.str[2], r.Evaluator)
	c.score, c.max = append(c.score, r.Score), append(c.max, r.MaxScore)
	c.passed, c.failed = append(c.passed, tri(r.Passed)), append(c.failed, tri(r.AutoFail))
}

func (c *evaluationCols) columns() []any {
	return []any{c.str[0], c.str[1], c.score, c.max, c.passed, c.failed, c.str[2]}
}

// rawCallCols are the columns of raw_call_events, kept between inserts.
type rawCallCols struct {
	env  envelopeCols
	own  [10][]string // channel, caller_hash, queue, agent_id, to_queue, to_agent_id, to_department_id, ended_by, rating, team
	eval evaluationCols
}

func (b *rawCallCols) fill(recs []*event.Record, now time.Time) []any {
	b.env.reset()
	resetAll(b.own[:])
	b.eval.reset()
	for _, r := range recs {
		b.env.add(r, r.CallID, now)
		for i, v := range [...]string{r.Channel.String(), r.CallerHash, r.Queue, r.AgentID, r.ToQueue, r.ToAgentID,
			r.ToDepartmentID, r.EndedBy.String(), r.Rating.String(), r.Team} {
			b.own[i] = append(b.own[i], v)
		}
		b.eval.add(r)
	}
	own := make([]any, 0, len(b.own)+7)
	for i := range b.own {
		own = append(own, b.own[i])
	}
	return b.env.columns(append(own, b.eval.columns()...)...)
}

// rawTicketCols are the columns of raw_ticket_events, kept between inserts.
type rawTicketCols struct {
	env               envelopeCols
	str               [11][]string // call_id, category, urgency, channel, caller_hash, subject, department_id; time_limit, reason; topic, area
	deadline          []int64
	reached, resolved []*uint8
	rating            []string
	eval              evaluationCols
}

func (b *rawTicketCols) fill(recs []*event.Record, now time.Time) []any {
	b.env.reset()
	resetAll(b.str[:])
	b.deadline, b.reached, b.resolved, b.rating = reuse(b.deadline), reuse(b.reached), reuse(b.resolved), reuse(b.rating)
	b.eval.reset()
	for _, r := range recs {
		b.env.add(r, r.TicketID, now)
		for i, v := range [...]string{r.CallID, r.Category.String(), r.Urgency.String(), r.Channel.String(), r.CallerHash,
			r.Subject, r.DepartmentID, r.TimeLimit.String(), r.Reason, r.Topic, r.Area} {
			b.str[i] = append(b.str[i], v)
		}
		b.deadline = append(b.deadline, r.Deadline)
		b.reached, b.resolved = append(b.reached, tri(r.Reached)), append(b.resolved, tri(r.Resolved))
		b.rating = append(b.rating, r.Rating.String())
		b.eval.add(r)
	}
	own := []any{b.str[0], b.str[1], b.str[2], b.str[3], b.str[4], b.str[5], b.str[6], b.deadline, b.str[7], b.str[8],
		b.reached, b.resolved, b.rating, b.str[9], b.str[10]}
	return b.env.columns(append(own, b.eval.columns()...)...)
}

// rawAgentCols are the columns of raw_agent_events, kept between inserts.
type rawAgentCols struct {
	env    envelopeCols
	own    [3][]string // state, reason, team
	queues [][]string
}

func (b *rawAgentCols) fill(recs []*event.Record, now time.Time) []any {
	b.env.reset()
	resetAll(b.own[:])
	b.queues = reuse(b.queues)
	for _, r := range recs {
		b.env.add(r, r.AgentID, now)
		state := r.State.String()
		if r.Type == event.AgentLoggedOut {
			state = ""
		}
		for i, v := range [...]string{state, r.Reason, r.Team} {
			b.own[i] = append(b.own[i], v)
		}
		q := r.Queues
		if q == nil {
			q = []string{}
		}
		b.queues = append(b.queues, q)
	}
	return b.env.columns(b.own[0], b.own[1], b.own[2], b.queues)
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

package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Reader reads stored events and state back.
type Reader struct {
	conn driver.Conn
	db   string
}

// NewReader returns a reader of database db.
func NewReader(conn driver.Conn, db string) *Reader { return &Reader{conn: conn, db: db} }

// envelopeScan holds the columns every raw table shares.
type envelopeScan struct {
	id, typ, center, entity string
	ts                      time.Time
	tsMs                    int64
	v                       uint8
	attrs, topic            string
	partition               int32
	offset                  int64
	ingested                time.Time
}

func (s *envelopeScan) record(e event.Event) event.Record {
	e.ID, e.Type, e.TS, e.CenterID, e.V = s.id, event.TypeOf(s.typ), s.tsMs, s.center, int(s.v)
	if s.attrs != "" {
		e.Attrs = []byte(s.attrs)
	}
	return event.Record{Event: e, Origin: event.Origin{Topic: s.topic, Partition: s.partition, Offset: s.offset}}
}

// evaluationScan holds the columns of a quality-inspection result.
type evaluationScan struct {
	id, form, evaluator string
	score, max          float64
	passed, failed      *uint8
}

func (v *evaluationScan) targets() []any {
	return []any{&v.id, &v.form, &v.score, &v.max, &v.passed, &v.failed, &v.evaluator}
}

func (v *evaluationScan) into(e *event.Event) {
	e.EvaluationID, e.Form, e.Evaluator = v.id, v.form, v.evaluator
	e.Score, e.MaxScore, e.Passed, e.AutoFail = v.score, v.max, triOf(v.passed), triOf(v.failed)
}

func scanCall(rows driver.Rows) (event.Record, error) {
	var s envelopeScan
	var ev evaluationScan
	var channel, caller, queue, agent, toQueue, toAgent, toDept, endedBy, rating, team string
	dest := []any{&s.id, &s.typ, &s.ts, &s.tsMs, &s.center, &s.entity,
		&channel, &caller, &queue, &agent, &toQueue, &toAgent, &toDept, &endedBy, &rating, &team}
	dest = append(append(dest, ev.targets()...), &s.v, &s.attrs, &s.topic, &s.partition, &s.offset, &s.ingested)
	err := rows.Scan(dest...)
	rating2, _ := event.ParseRating(rating)
	e := event.Event{CallID: s.entity, Channel: event.ChannelOf(channel), CallerHash: caller,
		Queue: queue, AgentID: agent, ToQueue: toQueue, ToAgentID: toAgent, ToDepartmentID: toDept,
		EndedBy: event.EndedByOf(endedBy), Rating: rating2, Team: team}
	ev.into(&e)
	return s.record(e), err
}

func scanTicket(rows driver.Rows) (event.Record, error) {
	var s envelopeScan
	var ev evaluationScan
	var callID, category, urgency, channel, caller, subject, dept, limit, reason, rating, topic, area string
	var deadline int64
	var reached, resolved *uint8
	dest := []any{&s.id, &s.typ, &s.ts, &s.tsMs, &s.center, &s.entity,
		&callID, &category, &urgency, &channel, &caller, &subject, &dept, &deadline, &limit, &reason,
		&reached, &resolved, &rating, &topic, &area}
	dest = append(append(dest, ev.targets()...), &s.v, &s.attrs, &s.topic, &s.partition, &s.offset, &s.ingested)
	err := rows.Scan(dest...)
	l, _ := event.ParseLimit(limit)
	rating2, _ := event.ParseRating(rating)
	e := event.Event{TicketID: s.entity, CallID: callID, Category: event.CategoryOf(category),
		Urgency: event.UrgencyOf(urgency), Channel: event.ChannelOf(channel), CallerHash: caller, Subject: subject,
		DepartmentID: dept, Deadline: deadline, TimeLimit: l, Reason: reason,
		Reached: triOf(reached), Resolved: triOf(resolved), Rating: rating2, Topic: topic, Area: area}
	ev.into(&e)
	return s.record(e), err
}

func triOf(v *uint8) event.Tri {
	switch {
	case v == nil:
		return event.Unset
	case *v == 1:
		return event.True
	}
	return event.False
}

// ReadStored reads the aggregates of the latest state of every call and
// ticket: exact sums of their contributions.
func (r *Reader) ReadStored(ctx context.Context) (*stored.Aggregates, error) {
	st := &stored.Aggregates{}
	callQ := fmt.Sprintf(`SELECT ind, bucket, center_id, queue, channel, agent_id, team, sum(num), sum(den), toInt64(count())
FROM %s.%s FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den
GROUP BY ind, bucket, center_id, queue, channel, agent_id, team`, r.db, CallStateTable)
	err := r.each(ctx, callQ, func(rows driver.Rows) error {
		var c indicator.Cell
		var bucket time.Time
		var center, queue, channel, agent, team string
		if err := rows.Scan(&c.Indicator, &bucket, &center, &queue, &channel, &agent, &team, &c.Num, &c.Den, &c.N); err != nil {
			return err
		}
		c.Bucket, c.Dims, c.Entity = bucket.UnixMilli(), []string{center, queue, channel, agent, team}, profile.Calls
		st.Cells = append(st.Cells, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Tickets' topic levels are not stored: the code is, and the engine
	// derives the levels from the profile's table (indicator.Restore).
	ticketQ := fmt.Sprintf(`SELECT ind, bucket, center_id, dept, category, channel, urgency, topic, area, sum(num), sum(den), toInt64(count())
FROM %s.%s FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_department AS dept, c_num AS num, c_den AS den
GROUP BY ind, bucket, center_id, dept, category, channel, urgency, topic, area`, r.db, TicketStateTable)
	err = r.each(ctx, ticketQ, func(rows driver.Rows) error {
		var c indicator.Cell
		var bucket time.Time
		var center, dept, cat, ch, urg, topic, area string
		if err := rows.Scan(&c.Indicator, &bucket, &center, &dept, &cat, &ch, &urg, &topic, &area, &c.Num, &c.Den, &c.N); err != nil {
			return err
		}
		c.Bucket, c.Dims, c.Entity = bucket.UnixMilli(), indicator.StoredTicketDims(center, dept, cat, ch, urg, topic, area), profile.Tickets
		st.Cells = append(st.Cells, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	openQ := fmt.Sprintf(`SELECT center_id, holder_department, category, channel, urgency, due_ms, reply_ms, as_of_ms, events,
	topic, area, caller_hash, created_ms
FROM %s.%s FINAL`, r.db, TicketStateTable)
	err = r.each(ctx, openQ, func(rows driver.Rows) error {
		var t indicator.StoredTicket
		var center, dept, cat, ch, urg, topic, area, caller string
		var asOf, created int64
		var events uint32
		if err := rows.Scan(&center, &dept, &cat, &ch, &urg, &t.Due, &t.Reply, &asOf, &events, &topic, &area, &caller, &created); err != nil {
			return err
		}
		t.Dims = indicator.StoredTicketDims(center, dept, cat, ch, urg, topic, area)
		st.Tickets = append(st.Tickets, t)
		if caller != "" && topic != "" && created != 0 {
			st.Contacts = append(st.Contacts, indicator.Contact{Ticket: true, Center: center, Caller: caller, TS: created,
				Dims: indicator.StoredTicketDims(center, "", cat, ch, urg, topic, area), Topic: topic})
		}
		st.AsOf = max(st.AsOf, asOf)
		st.Events += int64(events)
		return nil
	})
	if err != nil {
		return nil, err
	}
	callQ = fmt.Sprintf("SELECT as_of_ms, events, center_id, caller_hash, arrived_ms, queue, channel, agent_id, team FROM %s.%s FINAL", r.db, CallStateTable)
	err = r.each(ctx, callQ, func(rows driver.Rows) error {
		var asOf, arrived int64
		var events uint32
		var center, caller, queue, channel, agent, team string
		if err := rows.Scan(&asOf, &events, &center, &caller, &arrived, &queue, &channel, &agent, &team); err != nil {
			return err
		}
		st.AsOf = max(st.AsOf, asOf)
		st.Events += int64(events)
		if caller != "" {
			st.Contacts = append(st.Contacts, indicator.Contact{Center: center, Caller: caller, TS: arrived,
				Dims: []string{center, queue, channel, agent, team}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, r.readAgents(ctx, st)
}

func (r *Reader) each(ctx context.Context, q string, fn func(driver.Rows) error, args ...any) error {
	rows, err := r.conn.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read state: %w\nquery: %s", err, q)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("scan state: %w", err)
		}
	}
	return rows.Err()
}

// Evaluations returns every stored quality-inspection result (call.evaluated,
// ticket.evaluated), each event once: what the reviews list is drawn from.
func (r *Reader) Evaluations(ctx context.Context) ([]event.Event, error) {
	var out []event.Event
	for _, t := range []struct {
		table, cols, typ string
		scan             func(driver.Rows) (event.Record, error)
	}{{RawCallTable, rawCallColumns, event.CallEvaluated.String(), scanCall}, {RawTicketTable, rawTicketColumns, event.TicketEvaluated.String(), scanTicket}} {
		q := fmt.Sprintf("SELECT %s FROM %s.%s FINAL WHERE type = ?", t.cols, r.db, t.table)
		err := r.each(ctx, q, func(rows driver.Rows) error {
			rec, err := t.scan(rows)
			if err == nil {
				out = append(out, rec.Event)
			}
			return err
		}, t.typ)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CallStates returns the latest state of every call offered in [from, to)
// (Unix ms): its facts, without contributions.
func (r *Reader) CallStates(ctx context.Context, from, to int64) ([]indicator.EntityState, error) {
	var out []indicator.EntityState
	q := fmt.Sprintf(`SELECT center_id, call_id, events, last_ts_ms, queue, channel, agent_id, team, offered, answered, abandoned,
offer_ts_ms, wait_ms, talk_ms, handle_ms, rating FROM %s.%s FINAL WHERE offer_ts_ms >= ? AND offer_ts_ms < ? AND offered = 1`,
		r.db, CallStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		var s indicator.EntityState
		var events uint32
		var offered, answered, abandoned uint8
		f := &s.Call
		if err := rows.Scan(&s.CenterID, &s.ID, &events, &s.LastTS, &f.Queue, &f.Channel, &f.Agent, &f.Team,
			&offered, &answered, &abandoned, &f.OfferTS, &f.WaitMs, &f.TalkMs, &f.HandleMs, &f.Rating); err != nil {
			return err
		}
		s.Events, f.Offered, f.Answered, f.Abandoned = int(events), offered == 1, answered == 1, abandoned == 1
		out = append(out, s)
		return nil
	}, from, to)
	return out, err
}

// TicketStates returns the latest evaluated state of every ticket: its
// facts and its contributions, as the engine reported them.
func (r *Reader) TicketStates(ctx context.Context) ([]indicator.EntityState, error) {
	var out []indicator.EntityState
	q := fmt.Sprintf(`SELECT center_id, ticket_id, events, last_ts_ms, category, channel, urgency, created_ms,
first_dispatch_ms, due_ms, reply_ms, close_ms, holder_department, dispatches, reopened, wake_ms, volatile,
c_ind, c_bucket, c_department, c_num, c_den FROM %s.%s FINAL`, r.db, TicketStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		s := indicator.EntityState{Ticket: true}
		var events uint32
		var dispatches uint16
		var reopened, volatile uint8
		var ind, dept []string
		var bucket []time.Time
		var num, den []int64
		f := &s.Tick
		if err := rows.Scan(&s.CenterID, &s.ID, &events, &s.LastTS, &f.Category, &f.Channel, &f.Urgency, &f.CreatedTS,
			&f.FirstDispatchTS, &f.DueTS, &f.ReplyTS, &f.CloseTS, &f.Holder, &dispatches, &reopened, &s.Wake, &volatile,
			&ind, &bucket, &dept, &num, &den); err != nil {
			return err
		}
		s.Events, f.Dispatches, f.Reopened, s.Volatile = int(events), int(dispatches), reopened == 1, volatile == 1
		for i := range ind {
			s.Contribs = append(s.Contribs, indicator.Contribution{Indicator: ind[i], Bucket: bucket[i].UnixMilli(),
				Dims: []string{s.CenterID, dept[i], f.Category, f.Channel, f.Urgency}, Num: num[i], Den: den[i]})
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

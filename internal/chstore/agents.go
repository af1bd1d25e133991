package chstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// What the live state stage reads of agents (revision 1.2): the agents a
// partition's store knows (and whose session was open), and an agent's
// days from a stored day on, with the carry that day's row keeps.

// never is later than any event.
const never = int64(1) << 62

func scanAgent(rows driver.Rows) (event.Record, error) {
	var s envelopeScan
	var state, reason, team string
	var queues []string
	err := rows.Scan(&s.id, &s.typ, &s.ts, &s.tsMs, &s.center, &s.entity, &state, &reason, &team, &queues,
		&s.v, &s.attrs, &s.topic, &s.partition, &s.offset, &s.ingested)
	st, _ := event.ParseAgentState(state)
	e := event.Event{AgentID: s.entity, State: st, Reason: reason, Team: team}
	if len(queues) > 0 {
		e.Queues = queues
	}
	return s.record(e), err
}

// KnownAgents calls fn for every agent with a stored day from topic's
// partitions parts, and whether its latest day's row had a session open.
func (r *Reader) KnownAgents(ctx context.Context, topic string, parts []int32, fn func(part int32, center, id string, open bool)) error {
	q := fmt.Sprintf(`SELECT src_partition, center_id, agent_id, argMax(open, day_ms) FROM %s.%s FINAL
WHERE src_topic = ? AND src_partition IN ? GROUP BY src_partition, center_id, agent_id`, r.db, AgentStateTable)
	return r.each(ctx, q, func(rows driver.Rows) error {
		var part int32
		var center, id string
		var open uint8
		if err := rows.Scan(&part, &center, &id, &open); err != nil {
			return err
		}
		fn(part, center, id, open == 1)
		return nil
	}, topic, set(parts))
}

// LoadAgents reads, for each request, the agent's latest stored day before
// its Before, the carry of that day's row, and the agent's stored events
// since that day (all of them when it has no earlier day): two reads per
// distinct Before, centre and chunk of LoadChunk agents.
func (r *Reader) LoadAgents(ctx context.Context, reqs []stored.AgentLoad) ([]stored.LoadedAgent, error) {
	byBefore := map[int64][]stored.AgentLoad{}
	for _, q := range reqs {
		byBefore[q.Before] = append(byBefore[q.Before], q)
	}
	var out []stored.LoadedAgent
	for before, group := range byBefore {
		err := byCenter(group, func(q stored.AgentLoad) (string, string) { return q.CenterID, q.ID }, func(center string, ids []string) error {
			got, err := r.loadAgents(ctx, before, center, ids)
			out = append(out, got...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

type agentKey struct{ center, id string }

func (r *Reader) loadAgents(ctx context.Context, before int64, center string, ids []string) ([]stored.LoadedAgent, error) {
	loaded := map[agentKey]*stored.LoadedAgent{}
	for _, id := range ids {
		loaded[agentKey{center, id}] = &stored.LoadedAgent{CenterID: center, ID: id, FromDay: indicator.MinDay}
	}
	q := fmt.Sprintf(`SELECT center_id, agent_id, src_partition, day_ms, carry_open, carry_state, carry_team, carry_last_ms
FROM %s.%s FINAL WHERE center_id = ? AND agent_id IN ? AND day_ms < ?`, r.db, AgentStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		var k agentKey
		var part int32
		var day int64
		var open uint8
		var c indicator.AgentCarry
		if err := rows.Scan(&k.center, &k.id, &part, &day, &open, &c.State, &c.Team, &c.LastTS); err != nil {
			return err
		}
		if a := loaded[k]; a != nil && day > a.FromDay {
			c.Open = open == 1
			a.FromDay, a.Carry, a.Partition = day, c, part
		}
		return nil
	}, center, set(ids), before)
	if err != nil {
		return nil, err
	}
	from := int64(never)
	for _, a := range loaded {
		from = min(from, max(a.FromDay, 0)) // no earlier day: every event
	}
	q = fmt.Sprintf("SELECT %s FROM %s.%s WHERE center_id = ? AND agent_id IN ? AND ts >= ? AND ts_ms >= ?", rawAgentColumns, r.db, RawAgentTable)
	err = r.each(ctx, q, func(rows driver.Rows) error {
		rec, err := scanAgent(rows)
		if err != nil {
			return err
		}
		if a := loaded[agentKey{rec.CenterID, rec.AgentID}]; a != nil && rec.TS >= a.FromDay {
			a.Events = append(a.Events, rec)
		}
		return nil
	}, center, set(ids), time.UnixMilli(from).Truncate(time.Second), from)
	if err != nil {
		return nil, err
	}
	out := make([]stored.LoadedAgent, 0, len(loaded))
	for _, a := range loaded {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b stored.LoadedAgent) int {
		return cmp.Or(cmp.Compare(a.CenterID, b.CenterID), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// readAgents adds the agents' stored days to st: their contributions by
// indicator, bucket, centre, agent and team, their events and evaluation
// times.
func (r *Reader) readAgents(ctx context.Context, st *stored.Aggregates) error {
	q := fmt.Sprintf(`SELECT ind, bucket, center_id, agent_id, team, sum(num), sum(den), toInt64(count())
FROM %s.%s FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_team AS team, c_num AS num, c_den AS den
GROUP BY ind, bucket, center_id, agent_id, team`, r.db, AgentStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		var c indicator.Cell
		var bucket time.Time
		var center, agent, team string
		if err := rows.Scan(&c.Indicator, &bucket, &center, &agent, &team, &c.Num, &c.Den, &c.N); err != nil {
			return err
		}
		c.Bucket, c.Dims, c.Entity = bucket.UnixMilli(), []string{center, agent, team}, profile.Agents
		st.Cells = append(st.Cells, c)
		return nil
	})
	if err != nil {
		return err
	}
	return r.each(ctx, fmt.Sprintf("SELECT as_of_ms, events FROM %s.%s FINAL", r.db, AgentStateTable), func(rows driver.Rows) error {
		var asOf int64
		var events uint32
		if err := rows.Scan(&asOf, &events); err != nil {
			return err
		}
		st.AsOf = max(st.AsOf, asOf)
		st.Events += int64(events)
		return nil
	})
}

// StaffingCells reads what the staffing intervals from from (Unix ms) on
// need: the calls offered and handle times of the calls whose state was
// written since updated (a call offered since from was, when from and
// updated are one instant of the server's clock), and the agents' staffed
// time of the agents' days from the day before, by centre and bucket. Not
// FINAL over all calls: the latest state of the recent calls only (argMax
// by version), so that a pass costs a scan of their update times, not a
// merge of the whole table.
func (r *Reader) StaffingCells(ctx context.Context, updated time.Time, from int64) ([]indicator.Cell, error) {
	var out []indicator.Cell
	since := time.UnixMilli(from)
	q := fmt.Sprintf(`SELECT ind, bucket, center_id, sum(num), sum(den), toInt64(count()) FROM (
SELECT center_id, argMax(c_ind, version) AS i, argMax(c_bucket, version) AS b, argMax(c_num, version) AS n, argMax(c_den, version) AS d
FROM %s.%s WHERE updated_at >= ? GROUP BY center_id, call_id)
ARRAY JOIN i AS ind, b AS bucket, n AS num, d AS den
WHERE ind IN ('calls_offered', 'aht_seconds') AND bucket >= ?
GROUP BY ind, bucket, center_id`, r.db, CallStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		var c indicator.Cell
		var bucket time.Time
		var center string
		if err := rows.Scan(&c.Indicator, &bucket, &center, &c.Num, &c.Den, &c.N); err != nil {
			return err
		}
		c.Bucket, c.Dims, c.Entity = bucket.UnixMilli(), []string{center, "", "", "", ""}, profile.Calls
		out = append(out, c)
		return nil
	}, updated, since)
	if err != nil {
		return nil, err
	}
	q = fmt.Sprintf(`SELECT ind, bucket, center_id, sum(num), sum(den), toInt64(count())
FROM %s.%s FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den
WHERE day_ms >= ? AND ind = 'agents_staffed' AND bucket >= ? GROUP BY ind, bucket, center_id`, r.db, AgentStateTable)
	err = r.each(ctx, q, func(rows driver.Rows) error {
		var c indicator.Cell
		var bucket time.Time
		var center string
		if err := rows.Scan(&c.Indicator, &bucket, &center, &c.Num, &c.Den, &c.N); err != nil {
			return err
		}
		c.Bucket, c.Dims, c.Entity = bucket.UnixMilli(), []string{center, "", ""}, profile.Agents
		out = append(out, c)
		return nil
	}, from-24*3600_000, since)
	return out, err
}

// Recent is what the live citizen-needs figures read of the store since
// an instant: the calls' contacts (repeat calls), the tickets created by
// centre, topic, area and 15-minute bucket (tickets_by_topic cells, for
// the hot spots), and each centre's first day with data.
type Recent struct {
	Contacts []indicator.Contact
	Cells    []indicator.Cell
	First    map[string]int64 // Unix ms of the centre's earliest call or ticket
}

// NeedsSince reads Recent from instant from (Unix ms) on. Like the
// staffing figures, they span every instance's partitions: the latest
// version of each state updated since then (argMax, not FINAL).
func (r *Reader) NeedsSince(ctx context.Context, from int64) (*Recent, error) {
	out := &Recent{First: map[string]int64{}}
	since := time.UnixMilli(from)
	q := fmt.Sprintf(`SELECT center_id, caller, arrived, queue, channel FROM (
SELECT center_id, argMax(caller_hash, version) AS caller, argMax(arrived_ms, version) AS arrived,
	argMax(queue, version) AS queue, argMax(channel, version) AS channel
FROM %s.%s WHERE updated_at >= ? GROUP BY center_id, call_id) WHERE caller != '' AND arrived >= ?`, r.db, CallStateTable)
	err := r.each(ctx, q, func(rows driver.Rows) error {
		var c indicator.Contact
		var queue, channel string
		if err := rows.Scan(&c.Center, &c.Caller, &c.TS, &queue, &channel); err != nil {
			return err
		}
		c.Dims = []string{c.Center, queue, channel, "", ""}
		out.Contacts = append(out.Contacts, c)
		return nil
	}, since, from)
	if err != nil {
		return nil, err
	}
	q = fmt.Sprintf(`SELECT center_id, t, a, intDiv(c, 900000) * 900000 AS b, toInt64(count()) FROM (
SELECT center_id, argMax(topic, version) AS t, argMax(area, version) AS a, argMax(created_ms, version) AS c
FROM %s.%s WHERE updated_at >= ? GROUP BY center_id, ticket_id) WHERE c >= ? GROUP BY center_id, t, a, b`, r.db, TicketStateTable)
	err = r.each(ctx, q, func(rows driver.Rows) error {
		c := indicator.Cell{Indicator: "tickets_by_topic", Entity: profile.Tickets}
		var center, topic, area string
		if err := rows.Scan(&center, &topic, &area, &c.Bucket, &c.Num); err != nil {
			return err
		}
		c.Dims, c.N = indicator.StoredTicketDims(center, "", "", "", "", topic, area), c.Num
		out.Cells = append(out.Cells, c)
		return nil
	}, since, from)
	if err != nil {
		return nil, err
	}
	q = fmt.Sprintf(`SELECT center_id, min(t) FROM (
SELECT center_id, min(arrived_ms) AS t FROM %[1]s.%[2]s WHERE arrived_ms > 0 GROUP BY center_id
UNION ALL SELECT center_id, min(created_ms) AS t FROM %[1]s.%[3]s WHERE created_ms > 0 GROUP BY center_id) GROUP BY center_id`, r.db, CallStateTable, TicketStateTable)
	err = r.each(ctx, q, func(rows driver.Rows) error {
		var center string
		var first int64
		if err := rows.Scan(&center, &first); err != nil {
			return err
		}
		out.First[center] = first
		return nil
	})
	return out, err
}

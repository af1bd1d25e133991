// Package memstore keeps in memory what the ClickHouse tables keep for the
// streaming path: raw events by call and ticket, and the latest state row
// of each (the highest version wins, as in the ReplacingMergeTree state
// tables). It answers the same reads as chstore.Reader: the live state
// stage's (known ids, pending tickets, stored events) and the stored
// aggregates. It lets `hotlineqc demo` run the production pipeline, state
// stage and indicator metrics with no outside service.
//
// Nothing is ever dropped: it is for demonstrations and tests, not for a
// centre's months of events.
package memstore

import (
	"context"
	"slices"
	"sync"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Store is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	raw     map[indicator.Ref][]event.Record
	states  map[indicator.Ref]*stored.StateRow
	days    map[agentDay]*stored.StateRow // agents' days (revision 1.2)
	backlog map[int32]partBacklog         // by ticket partition: its latest count
}

// agentDay keys the row of one agent's day.
type agentDay struct {
	center, id string
	day        int64
}

// partBacklog is one partition's count of open tickets.
type partBacklog struct {
	asOf int64
	rows []stored.BacklogRow
}

// New returns an empty store.
func New() *Store {
	return &Store{raw: map[indicator.Ref][]event.Record{}, states: map[indicator.Ref]*stored.StateRow{},
		days: map[agentDay]*stored.StateRow{}, backlog: map[int32]partBacklog{}}
}

// WriteBacklog keeps each partition's latest count of open tickets, as
// the backlog table is read.
func (s *Store) WriteBacklog(_ context.Context, b *stored.Backlog) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	by := map[int32][]stored.BacklogRow{}
	for _, r := range b.Rows {
		by[r.Partition] = append(by[r.Partition], r)
	}
	for _, p := range b.Partitions {
		if old, ok := s.backlog[p]; !ok || b.AsOf >= old.asOf {
			s.backlog[p] = partBacklog{asOf: b.AsOf, rows: by[p]}
		}
	}
	return nil
}

// Backlog returns the latest count of every partition's open tickets.
func (s *Store) Backlog() []stored.BacklogRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stored.BacklogRow
	for _, b := range s.backlog {
		out = append(out, b.rows...)
	}
	return out
}

// WriteRaw stores accepted events. Like the raw tables read without FINAL,
// it keeps every copy written (a replay after a crash, the winner of a
// conflicting duplicate): the engine tells them apart when it loads them.
func (s *Store) WriteRaw(_ context.Context, recs []event.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range recs {
		ref := indicator.RefOf(&recs[i].Event)
		s.raw[ref] = append(s.raw[ref], recs[i])
	}
	return nil
}

// WriteStates stores state rows: of one call or ticket, the row with the
// highest version wins (on equal versions, the later write).
func (s *Store) WriteStates(_ context.Context, rows []stored.StateRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rows {
		r := rows[i]
		r.Contribs = slices.Clone(r.Contribs) // the caller may reuse its slab
		if r.Agent {
			k := agentDay{r.CenterID, r.ID, r.Day}
			if old := s.days[k]; old == nil || r.Version >= old.Version {
				s.days[k] = &r
			}
			continue
		}
		ref := indicator.Ref{Ticket: r.Ticket, CenterID: r.CenterID, ID: r.ID}
		if old := s.states[ref]; old == nil || r.Version >= old.Version {
			s.states[ref] = &r
		}
	}
	return nil
}

// pending is chstore's pending condition: a ticket that waits for a
// deadline, depends on the evaluation time, is open (dispatched, not
// replied) or awaits dispatch.
func pending(r *stored.StateRow) bool {
	t := &r.Tick
	return r.Wake > 0 || r.Volatile || (t.DueTS > 0 && t.ReplyTS == 0) ||
		(t.CreatedTS > 0 && t.FirstDispatchTS == 0 && t.CloseTS == 0)
}

// PendingTickets returns the pending tickets of topic's partitions parts,
// with the number of events their state knows, and their stored events.
func (s *Store) PendingTickets(_ context.Context, topic string, parts []int32) (map[indicator.Ref]int, []event.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[indicator.Ref]int{}
	var out []event.Record
	for ref, r := range s.states {
		if ref.Ticket && r.Topic == topic && slices.Contains(parts, r.Partition) && pending(r) {
			known[ref] = r.Events
			out = append(out, s.raw[ref]...)
		}
	}
	return known, out, nil
}

// KnownIDs calls fn for every call (ticket when ticket is set) whose state
// is stored from topic's partitions parts.
func (s *Store) KnownIDs(_ context.Context, ticket bool, topic string, parts []int32, fn func(part int32, center, id string)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref, r := range s.states {
		if ref.Ticket == ticket && r.Topic == topic && slices.Contains(parts, r.Partition) {
			fn(r.Partition, ref.CenterID, ref.ID)
		}
	}
	return nil
}

// KnownAgents calls fn for every agent with a stored day from topic's
// partitions parts, and whether its latest day's row had a session open.
func (s *Store) KnownAgents(_ context.Context, topic string, parts []int32, fn func(part int32, center, id string, open bool)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	latest := map[indicator.Ref]*stored.StateRow{}
	for k, r := range s.days {
		ref := indicator.Ref{Agent: true, CenterID: k.center, ID: k.id}
		if r.Topic == topic && slices.Contains(parts, r.Partition) && (latest[ref] == nil || r.Day > latest[ref].Day) {
			latest[ref] = r
		}
	}
	for ref, r := range latest {
		fn(r.Partition, ref.CenterID, ref.ID, r.Volatile)
	}
	return nil
}

// LoadAgents returns each agent's latest stored day before the request's
// Before, its carry, and the agent's stored events since (all of them
// without an earlier day), as chstore.Reader.LoadAgents does.
func (s *Store) LoadAgents(_ context.Context, reqs []stored.AgentLoad) ([]stored.LoadedAgent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]stored.LoadedAgent, 0, len(reqs))
	for _, q := range reqs {
		a := stored.LoadedAgent{CenterID: q.CenterID, ID: q.ID, FromDay: indicator.MinDay}
		for k, r := range s.days {
			if k.center == q.CenterID && k.id == q.ID && k.day < q.Before && k.day > a.FromDay {
				a.FromDay, a.Carry, a.Partition = k.day, r.Carry, r.Partition
			}
		}
		for _, rec := range s.raw[indicator.Ref{Agent: true, CenterID: q.CenterID, ID: q.ID}] {
			if rec.TS >= a.FromDay {
				a.Events = append(a.Events, rec)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// LoadEvents returns the stored events of refs.
func (s *Store) LoadEvents(_ context.Context, refs []indicator.Ref) ([]event.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event.Record
	for _, ref := range refs {
		out = append(out, s.raw[ref]...)
	}
	return out, nil
}

// ReadStored sums the contributions of the latest state of every call and
// ticket into aggregate cells, as chstore.Reader.ReadStored does.
func (s *Store) ReadStored(context.Context) (*stored.Aggregates, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type cellKey struct {
		ind    string
		bucket int64
		dims   string
		entity profile.Entity
	}
	st := &stored.Aggregates{}
	at := map[cellKey]int{}
	rows := make([]*stored.StateRow, 0, len(s.states)+len(s.days))
	for _, r := range s.states {
		rows = append(rows, r)
	}
	for _, r := range s.days {
		rows = append(rows, r)
	}
	for _, r := range rows {
		for _, c := range r.Contribs {
			f := c.Entity
			if f == 0 {
				f = entityOf(r)
			}
			k := cellKey{c.Indicator, c.Bucket, joinDims(c.Dims), f}
			i, ok := at[k]
			if !ok {
				i = len(st.Cells)
				at[k] = i
				st.Cells = append(st.Cells, indicator.Cell{Indicator: c.Indicator, Bucket: c.Bucket, Dims: c.Dims, Entity: f})
			}
			cell := &st.Cells[i]
			cell.Num += c.Num
			cell.Den += c.Den
			cell.N++
		}
		if r.Ticket {
			t := &r.Tick
			st.Tickets = append(st.Tickets, indicator.StoredTicket{
				Dims: indicator.StoredTicketDims(r.CenterID, t.Holder, t.Category, t.Channel, t.Urgency, t.Topic, t.Area), Due: t.DueTS, Reply: t.ReplyTS})
			if t.CallerHash != "" && t.Topic != "" && t.CreatedTS != 0 {
				st.Contacts = append(st.Contacts, indicator.Contact{Ticket: true, Center: r.CenterID, Caller: t.CallerHash, TS: t.CreatedTS,
					Dims: indicator.StoredTicketDims(r.CenterID, "", t.Category, t.Channel, t.Urgency, t.Topic, t.Area), Topic: t.Topic})
			}
		} else if c := &r.Call; c.CallerHash != "" && !r.Agent {
			st.Contacts = append(st.Contacts, indicator.Contact{Center: r.CenterID, Caller: c.CallerHash, TS: c.ArrivedTS,
				Dims: []string{r.CenterID, c.Queue, c.Channel, c.Agent, c.Team}})
		}
		st.AsOf = max(st.AsOf, r.AsOf)
		st.Events += int64(r.Events)
	}
	return st, nil
}

// joinDims keys a dims tuple (its values never hold NUL).
func joinDims(dims []string) string {
	n := 0
	for _, d := range dims {
		n += len(d) + 1
	}
	b := make([]byte, 0, n)
	for _, d := range dims {
		b = append(append(b, d...), 0)
	}
	return string(b)
}

// States returns a copy of the latest state row of every call and ticket.
func (s *Store) States() map[indicator.Ref]stored.StateRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[indicator.Ref]stored.StateRow, len(s.states))
	for ref, r := range s.states {
		out[ref] = *r
	}
	return out
}

// entityOf is the entity whose dims tuple a state row's contributions have.
func entityOf(r *stored.StateRow) profile.Entity {
	switch {
	case r.Agent:
		return profile.Agents
	case r.Ticket:
		return profile.Tickets
	}
	return profile.Calls
}

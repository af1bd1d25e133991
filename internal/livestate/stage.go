// Package livestate is the live state stage of the production pipeline:
// it feeds durable events to the indicator core (the same Engine that
// `compute` drives) and returns the evaluated state of every call and
// ticket that changed, for the ingest loop to store.
//
// The stage holds the state of the partitions this process owns, nothing
// more. On assignment it loads the open tickets of those partitions and a
// filter of the ids the store knows there; on revocation it drops their
// calls and tickets. A call or ticket not in memory is read back from its
// stored events only when the filter says the store may have it, so new
// calls and tickets cost no round trip.
package livestate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Store is what the stage reads from the database.
type Store interface {
	// PendingTickets returns the tickets of the topic's partitions whose
	// latest state is pending (deadlines, open), with the events that state
	// knows, and their stored events.
	PendingTickets(ctx context.Context, topic string, parts []int32) (map[indicator.Ref]int, []event.Record, error)
	// KnownIDs calls fn for every call or ticket with stored state from
	// the topic's partitions.
	KnownIDs(ctx context.Context, ticket bool, topic string, parts []int32, fn func(part int32, center, id string)) error
	// LoadEvents returns the stored events of the given calls and tickets.
	LoadEvents(ctx context.Context, refs []indicator.Ref) ([]event.Record, error)
	// KnownAgents calls fn for every agent with a stored day from the
	// topic's partitions, and whether its latest day had a session open.
	KnownAgents(ctx context.Context, topic string, parts []int32, fn func(part int32, center, id string, open bool)) error
	// LoadAgents returns each agent's latest stored day before the
	// request's Before, its carry, and the agent's stored events since.
	LoadAgents(ctx context.Context, reqs []stored.AgentLoad) ([]stored.LoadedAgent, error)
}

// Config tunes the stage.
type Config struct {
	// EvictAfter forgets calls and tickets whose latest event is older than
	// this and that wait for no deadline; 0 keeps everything.
	EvictAfter time.Duration `yaml:"evict_after"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{EvictAfter: 72 * time.Hour} }

// part names one owned partition: of the ticket topic, the agent topic or
// the call topic.
type part struct {
	ticket bool
	id     int32
	agent  bool
}

// Stage is the live state stage. Its methods are called by one goroutine
// (the ingest loop's); Size may be called from others.
type Stage struct {
	cfg    Config
	store  Store
	topics kafkaio.Topics
	clock  func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	eng     *indicator.Engine
	owned   map[part]*known
	asOf    int64
	metrics *Metrics
	gauged  time.Time       // when the ticket gauges were last counted
	backlog *stored.Backlog // the latest count of open tickets, until taken

	seen map[indicator.Ref]bool // unknown's scratch, kept for its capacity
}

// gaugeEvery bounds how often Tick counts the ticket gauges: a scan of
// every ticket in memory, far finer than any scrape interval needs.
const gaugeEvery = 2 * time.Second

// New returns a stage for the profiles ps over the call and ticket topics;
// clock gives the evaluation time (time.Now in production).
func New(cfg Config, ps *indicator.Profiles, store Store, topics kafkaio.Topics, clock func() time.Time, log *slog.Logger) *Stage {
	eng := indicator.New(ps)
	eng.WithoutAggregates() // the store sums the contributions of the state rows
	eng.TrackChanges()
	return &Stage{cfg: cfg, store: store, topics: topics, clock: clock, log: log, eng: eng, owned: map[part]*known{}}
}

// Instrument makes the stage keep live indicator metrics in m.
func (s *Stage) Instrument(m *Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = m
	s.eng.Observe(m)
}

// partOf maps a consumed partition to the stage's; ok is false for a
// topic the stage does not keep.
func (s *Stage) partOf(p kafkaio.Partition) (part, bool) {
	switch p.Topic {
	case s.topics.Tickets:
		return part{ticket: true, id: p.Partition}, true
	case s.topics.Calls:
		return part{id: p.Partition}, true
	case "":
	case s.topics.Agents:
		return part{agent: true, id: p.Partition}, true
	}
	return part{}, false
}

// Assign takes ownership of partitions: it reads which calls and tickets
// the store knows there, and loads their open tickets, quietly (their
// contributions were counted by the previous owner). It returns the states
// of the loaded tickets, to be stored: their stored state may be behind
// their stored events (a previous owner stopped between the two writes) or
// behind the clock (a deadline passed during the handover, which no later
// evaluation would report again). It changes nothing when it fails, so it
// can be retried.
func (s *Stage) Assign(ctx context.Context, parts []kafkaio.Partition) ([]stored.StateRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	byTopic := map[bool][]int32{} // new partitions, of the ticket topic or the call topic
	var agentParts []int32
	fresh := map[part]*known{}
	for _, p := range parts {
		if k, ok := s.partOf(p); ok && s.owned[k] == nil {
			if k.agent {
				agentParts = append(agentParts, k.id)
			} else {
				byTopic[k.ticket] = append(byTopic[k.ticket], k.id)
			}
			fresh[k] = newKnown()
		}
	}
	var pending []event.Record
	var known map[indicator.Ref]int // the open tickets, and the events their states know
	for ticket, ids := range byTopic {
		topic := s.topicOf(ticket)
		err := s.store.KnownIDs(ctx, ticket, topic, ids, func(p int32, center, id string) {
			if kn := fresh[part{ticket: ticket, id: p}]; kn != nil {
				kn.add(center, id)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read known ids of %s: %w", topic, err)
		}
		if ticket {
			if known, pending, err = s.store.PendingTickets(ctx, topic, ids); err != nil {
				return nil, fmt.Errorf("load open tickets of %s: %w", topic, err)
			}
		}
	}
	// Agents: those the store knows, and those whose session was open,
	// loaded so that it keeps growing, or times out, without new events.
	var open []stored.AgentLoad
	if len(agentParts) > 0 {
		err := s.store.KnownAgents(ctx, s.topics.Agents, agentParts, func(p int32, center, id string, isOpen bool) {
			if kn := fresh[part{agent: true, id: p}]; kn != nil {
				kn.add(center, id)
			}
			if isOpen {
				open = append(open, stored.AgentLoad{CenterID: center, ID: id, Before: never})
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read known agents of %s: %w", s.topics.Agents, err)
		}
	}
	loaded, err := s.store.LoadAgents(ctx, open)
	if err != nil {
		return nil, fmt.Errorf("load agents with an open session: %w", err)
	}
	for k, kn := range fresh {
		s.owned[k] = kn
	}
	s.eng.Load(pending)
	for _, a := range loaded {
		s.eng.LoadAgent(a.CenterID, a.ID, a.Partition, a.FromDay, a.Carry, a.Events)
	}
	s.asOf = max(s.asOf, s.clock().UnixMilli())
	s.eng.AdvanceQuiet(s.asOf)
	rows := s.rows()
	behind := 0
	for _, r := range rows {
		if !r.Agent && r.Events > known[indicator.Ref{Ticket: true, CenterID: r.CenterID, ID: r.ID}] {
			behind++
		}
	}
	s.setGauges()
	s.log.Info("partitions assigned", "partitions", len(fresh), "open_tickets", len(known), "open_agents", len(loaded),
		"behind_their_events", behind, "took", time.Since(start).Round(time.Millisecond))
	return rows, nil
}

// never is later than any event.
const never = int64(1) << 62

func (s *Stage) topicOf(ticket bool) string {
	if ticket {
		return s.topics.Tickets
	}
	return s.topics.Calls
}

// Revoke gives up partitions: their calls and tickets are dropped from
// memory, with their gauges; their next owner loads them from the store.
func (s *Stage) Revoke(parts []kafkaio.Partition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		if k, ok := s.partOf(p); ok {
			delete(s.owned, k)
		}
	}
	n := s.eng.Drop(func(ticket bool, p int32) bool { return s.owned[part{ticket: ticket, id: p}] != nil })
	n += s.eng.DropAgents(func(p int32) bool { return s.owned[part{agent: true, id: p}] != nil })
	s.setGauges()
	s.log.Info("partitions revoked", "partitions", len(parts), "dropped", n)
}

// Apply feeds durable records to the core and returns the state of every
// call and ticket that changed, for the caller to store. Calls and tickets
// not in memory that the store may know are loaded first. When Apply
// fails (the load), nothing has changed and it can be called again.
//
// recs[:keep] are the records to store raw: the duplicates the engine
// recognised (replays, conflicting duplicates that lost) are moved after
// them, in their order.
func (s *Stage) Apply(ctx context.Context, recs []event.Record) (rows []stored.StateRow, keep int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := s.eng.Lookup(recs)
	unknown, fresh := s.unknown(recs, missing)
	if len(unknown) > 0 {
		if err := s.load(ctx, unknown, recs); err != nil {
			return nil, 0, err
		}
	}
	agents, freshAgents := s.agentLoads(recs)
	if len(agents) > 0 {
		if err := s.loadAgents(ctx, agents, recs); err != nil {
			return nil, 0, err
		}
	}
	for _, r := range append(fresh, freshAgents...) {
		s.owned[part{ticket: r.Ticket, agent: r.Agent, id: r.part}].add(r.CenterID, r.ID)
	}
	var dups []event.Record
	for i := range recs {
		if s.eng.ApplyLooked(recs, i) {
			if keep != i {
				recs[keep] = recs[i]
			}
			keep++
		} else {
			dups = append(dups, recs[i])
		}
	}
	copy(recs[keep:], dups)
	return s.evaluate(), keep, nil
}

// newRef is a call or ticket first seen, with its partition.
type newRef struct {
	indicator.Ref
	part int32
}

// unknown sorts the calls and tickets of recs[missing] (not in memory) into
// those the store may know (to load) and those it cannot (fresh).
func (s *Stage) unknown(recs []event.Record, missing []int) (load []indicator.Ref, fresh []newRef) {
	if s.seen == nil {
		s.seen = map[indicator.Ref]bool{}
	}
	seen := s.seen
	defer clear(seen)
	for _, i := range missing {
		ev := &recs[i].Event
		ref := indicator.RefOf(ev)
		if seen[ref] {
			continue
		}
		seen[ref] = true
		p := part{ticket: ref.Ticket, id: recs[i].Origin.Partition}
		kn := s.owned[p]
		if kn == nil { // not assigned through Assign (tests, or a stray message): track it
			kn = newKnown()
			s.owned[p] = kn
		}
		if kn.mayHave(ref.CenterID, ref.ID) {
			load = append(load, ref)
		} else {
			fresh = append(fresh, newRef{ref, p.id})
		}
	}
	return load, fresh
}

// agentLoads sorts the agents of recs that must be read from the store
// first: those the engine holds but not back to the record's time (a late
// event changes a stored day), and those it does not hold that the store
// may know, each from the latest stored day before its earliest record's
// day; and the agents first seen.
func (s *Stage) agentLoads(recs []event.Record) (load []stored.AgentLoad, fresh []newRef) {
	at := map[indicator.Ref]int{} // index in load
	seen := map[indicator.Ref]bool{}
	for i := range recs {
		ev := &recs[i].Event
		if !ev.Type.IsAgent() {
			continue
		}
		held, within := s.eng.AgentRange(ev)
		if held && within {
			continue
		}
		ref := indicator.RefOf(ev)
		p := part{agent: true, id: recs[i].Origin.Partition}
		kn := s.owned[p]
		if kn == nil { // not assigned through Assign (tests, or a stray message): track it
			kn = newKnown()
			s.owned[p] = kn
		}
		if !held && !kn.mayHave(ref.CenterID, ref.ID) {
			if !seen[ref] {
				seen[ref] = true
				fresh = append(fresh, newRef{ref, p.id})
			}
			continue
		}
		day := s.eng.DayStart(ev.CenterID, ev.TS)
		if j, ok := at[ref]; ok {
			load[j].Before = min(load[j].Before, day)
			continue
		}
		at[ref] = len(load)
		load = append(load, stored.AgentLoad{CenterID: ref.CenterID, ID: ref.ID, Before: day})
	}
	return load, fresh
}

// loadAgents reads agents back from the store, leaving out the stored
// events recs repeat (they are applied after, as new), and evaluates them
// quietly, as load does for calls and tickets.
func (s *Stage) loadAgents(ctx context.Context, reqs []stored.AgentLoad, recs []event.Record) error {
	loaded, err := s.store.LoadAgents(ctx, reqs)
	if err != nil {
		return fmt.Errorf("load %d agents: %w", len(reqs), err)
	}
	parts := map[indicator.Ref]int32{}
	batch := make(map[string][]*event.Event)
	for i := range recs {
		if recs[i].Type.IsAgent() {
			parts[indicator.RefOf(&recs[i].Event)] = recs[i].Origin.Partition
			batch[recs[i].ID] = append(batch[recs[i].ID], &recs[i].Event)
		}
	}
	for _, a := range loaded {
		keep := a.Events[:0]
		for _, r := range a.Events {
			repeated := false
			for _, b := range batch[r.ID] {
				repeated = repeated || indicator.SameEvent(b, &r.Event)
			}
			if !repeated {
				keep = append(keep, r)
			}
		}
		s.eng.LoadAgent(a.CenterID, a.ID, parts[indicator.Ref{Agent: true, CenterID: a.CenterID, ID: a.ID}], a.FromDay, a.Carry, keep)
	}
	s.eng.AdvanceQuiet(s.asOf)
	if s.metrics != nil {
		s.metrics.loaded.Add(float64(len(reqs)))
	}
	return nil
}

// load restores calls and tickets from their stored events, leaving out
// those that recs repeat (same event_id, same content): those are applied
// after, so that their effect counts as new. A stored event that a record
// of recs contradicts (same event_id, other content) is loaded: the engine
// keeps whichever of the two wins.
func (s *Stage) load(ctx context.Context, refs []indicator.Ref, recs []event.Record) error {
	stored, err := s.store.LoadEvents(ctx, refs)
	if err != nil {
		return fmt.Errorf("load %d calls and tickets: %w", len(refs), err)
	}
	batch := make(map[string][]*event.Event, len(recs))
	for i := range recs {
		batch[recs[i].ID] = append(batch[recs[i].ID], &recs[i].Event)
	}
	repeated := func(e *event.Event) bool {
		for _, b := range batch[e.ID] {
			if indicator.SameEvent(b, e) {
				return true
			}
		}
		return false
	}
	keep := stored[:0]
	for _, r := range stored {
		if !repeated(&r.Event) {
			keep = append(keep, r)
		}
	}
	s.eng.Load(keep)
	// Loaded calls and tickets take their known state quietly, as of the
	// last evaluation: their contributions were counted before. Their
	// states stay among the changes, to be stored with the batch: the
	// stored events may be ahead of the stored state (a previous owner
	// stopped between the two writes), and the batch's records alone may
	// change nothing (replays, conflicting duplicates that lose).
	s.eng.AdvanceQuiet(s.asOf)
	if s.metrics != nil {
		s.metrics.loaded.Add(float64(len(refs)))
	}
	return nil
}

// Tick evaluates at the current time, so that deadlines pass without new
// events, refreshes the ticket gauges, and returns what changed.
func (s *Stage) Tick() []stored.StateRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.evaluate()
	if time.Since(s.gauged) >= gaugeEvery {
		s.setGauges()
	}
	return rows
}

// Reported numbers the states returned so far: the states returned by
// the latest Assign, Apply or Tick belong to report Reported().
func (s *Stage) Reported() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Reported()
}

// Evict forgets calls and tickets idle for EvictAfter that wait for no
// deadline and whose states are stored: those of every report up to
// stored (see Reported). An evicted call or ticket is read back from the
// store if an event comes for it.
func (s *Stage) Evict(stored uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.EvictAfter <= 0 {
		return 0
	}
	return len(s.eng.Evict(s.asOf-s.cfg.EvictAfter.Milliseconds(), stored))
}

// evaluate advances the engine to the current time and returns the state
// rows of what changed.
func (s *Stage) evaluate() []stored.StateRow {
	s.asOf = max(s.asOf, s.clock().UnixMilli())
	s.eng.Advance(s.asOf)
	if s.metrics != nil {
		s.metrics.publish(s.eng)
	}
	return s.rows()
}

// rows returns the state rows of what the engine evaluated since the
// last call.
func (s *Stage) rows() []stored.StateRow {
	rows := make([]stored.StateRow, 0, s.eng.Changed())
	s.eng.EachChange(func(st *indicator.EntityState) {
		topic := s.topicOf(st.Ticket)
		if st.Agent {
			topic = s.topics.Agents
		}
		rows = append(rows, stored.StateRow{EntityState: *st, Version: stored.Version(st.Events, s.asOf),
			AsOf: s.asOf, Topic: topic, Partition: st.Partition})
	})
	return rows
}

// setGauges counts the open tickets: the gauges and the backlog.
func (s *Stage) setGauges() {
	s.gauged = time.Now()
	gs := s.eng.TicketGauges(s.asOf)
	if s.metrics != nil {
		s.metrics.setGauges(gs, s.eng)
		s.metrics.setHeld(s.eng)
	}
	b := &stored.Backlog{Topic: s.topics.Tickets, AsOf: s.asOf}
	for k := range s.owned {
		if k.ticket {
			b.Partitions = append(b.Partitions, k.id)
		}
	}
	slices.Sort(b.Partitions)
	for _, g := range gs {
		if g.Open > 0 || g.AwaitingDispatch > 0 {
			b.Rows = append(b.Rows, stored.BacklogRow{Partition: g.Partition, Center: g.CenterID, Department: g.Department,
				Open: g.Open, Overdue: g.Overdue, Due4h: g.Due4h, Due24h: g.Due24h, Awaiting: g.AwaitingDispatch})
		}
	}
	s.backlog = b
}

// Backlog returns the latest count of the owned partitions' open tickets
// (made with the gauges, every few seconds), once; nil when none was made
// since the last call.
func (s *Stage) Backlog() *stored.Backlog {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.backlog
	s.backlog = nil
	return b
}

// Owns reports whether the stage owns a partition now.
func (s *Stage) Owns(p kafkaio.Partition) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.partOf(p)
	return ok && s.owned[k] != nil
}

// Size returns the calls and tickets in memory.
func (s *Stage) Size() (calls, tickets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Size()
}

// Agents returns how many agents the stage holds in memory.
func (s *Stage) Agents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Agents()
}

package indicator

import (
	"container/heap"
	"slices"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// This file is the engine's interface to a stateful stream processor: it
// reports which calls and tickets an evaluation changed (to be stored),
// loads calls and tickets back from stored events, and forgets idle ones.

// EntityState is a call's or ticket's evaluated state: its contributions
// to the aggregates and its facts, as a store keeps them.
type EntityState struct {
	Ticket    bool
	CenterID  string
	ID        string
	Partition int32 // the source partition of its events
	Events    int   // distinct events applied
	LastTS    int64 // latest event time
	Wake      int64 // the next deadline that will change it, 0 when none
	Volatile  bool  // depends on the evaluation time (an open suspension)
	Contribs  []Contribution
	// Prior are the contributions of the previous reported state, so
	// that a store keeping contributions by day rewrites only the days that
	// changed and clears those the entity left. When Restored is set, that
	// state is unknown (the entity was loaded from stored events, see Load)
	// and the stored one may have contributed to any instant of
	// RestoredSpan [from, to] (Unix ms).
	Prior        []Contribution
	Restored     bool
	RestoredSpan [2]int64
	Call         CallFacts
	Tick         TicketFacts
	// An agent's state is one of its days (revision 1.2): ID is the agent,
	// Day the local day's start (Unix ms), Contribs the spans its events
	// start, Carry the agent's context before its first event, Volatile a
	// session open at the evaluation time.
	Agent bool
	Day   int64
	Carry AgentCarry
}

// Contribution is one entity's part of one aggregate cell at the finest
// grain.
type Contribution struct {
	Indicator string
	Bucket    int64    // start of the 15-minute bucket, Unix ms
	Dims      []string // the family's dims tuple (see CallDims, TicketDims, AgentDims)
	Num, Den  int64
	// Entity is the family of Dims: the entity's own, except where an
	// entity counts in another's cells (a call's answer in its agent's
	// calls_per_agent_hour).
	Entity profile.Entity
}

// CallDims and TicketDims name the positions of a contribution's Dims.
func CallDims() []string { return append([]string(nil), callDims...) }

// TicketDims names the positions of a ticket contribution's Dims.
func TicketDims() []string { return append([]string(nil), ticketDims...) }

// CallFacts summarise a call.
type CallFacts struct {
	Queue, Channel, Agent, Team  string
	Offered, Answered, Abandoned bool
	OfferTS, WaitMs, TalkMs      int64
	HandleMs                     int64
	Rating                       string
	// The caller's keyed hash and the arrival (repeat calls), when the
	// call has a call.arrived.
	CallerHash string
	ArrivedTS  int64
}

// TicketFacts summarise a ticket.
type TicketFacts struct {
	Category, Channel, Urgency string
	CreatedTS, FirstDispatchTS int64
	DueTS, ReplyTS, CloseTS    int64
	Holder                     string // the department holding it at the evaluation time
	Dispatches                 int
	Reopened                   bool
	// Of ticket.created (revision 1.2): the caller's keyed hash, the topic
	// code and the area, as sent.
	CallerHash, Topic, Area string
}

// Delta is the net change of one indicator and dims tuple over the
// evaluations since it was last taken (amounts taken back are negative).
type Delta struct {
	Indicator string
	Entity    profile.Entity
	Unit      profile.Unit // of the numerator; the denominator is a count
	Dims      []string     // the entity's dims tuple
	Num, Den  int64
}

// Observer receives the samples of the live metrics.
type Observer interface {
	// Sample is a call's wait (avg_queue_seconds) or handle time
	// (aht_seconds) in milliseconds, reported once, when the call gets it.
	Sample(indicator string, dims []string, ms int64)
}

// Observe makes Advance (not AdvanceQuiet, Evict or Restore) net what
// every evaluation takes back and adds, per indicator and dims tuple, for
// TakeNet, and report wait and handle samples to o.
func (e *Engine) Observe(o Observer) {
	e.obs = o
	e.net = map[uint64][2]int64{}
}

// TakeNet calls fn with the net change of every indicator and dims tuple
// an evaluation touched since the last call (zero when what was taken back
// was added again), then forgets them.
func (e *Engine) TakeNet(fn func(Delta)) {
	for k, v := range e.net {
		ind := id(k >> 32)
		fn(Delta{Indicator: cat.defs[ind].ID, Entity: e.dims.fams[uint32(k)], Unit: cat.defs[ind].Unit, Dims: e.dims.tuples[uint32(k)], Num: v[0], Den: v[1]})
	}
	clear(e.net)
}

// AdvanceQuiet is Advance without observing: for calls and tickets just
// loaded from a store, whose contributions were counted before.
func (e *Engine) AdvanceQuiet(asOf int64) {
	e.quiet = true
	defer func() { e.quiet = false }()
	e.Advance(asOf)
}

func (e *Engine) observing() bool { return e.obs != nil && !e.quiet }

// before copies an entity's contributions before its evaluation reuses
// their slice, when evaluations are observed.
func (e *Engine) before(cs []contrib) []contrib {
	if !e.observing() {
		return nil
	}
	e.oldBuf = append(e.oldBuf[:0], cs...)
	return e.oldBuf
}

// report nets an evaluation's old contributions (taken back) and new ones,
// and reports the wait or handle time a call gets.
func (e *Engine) report(old, cur []contrib) {
	if !e.observing() {
		return
	}
	for _, c := range old {
		k := netKey(c.key)
		v := e.net[k]
		v[0], v[1] = v[0]-c.num, v[1]-c.den
		e.net[k] = v
	}
	for _, c := range cur {
		k := netKey(c.key)
		v := e.net[k]
		v[0], v[1] = v[0]+c.num, v[1]+c.den
		e.net[k] = v
		if c.den == 1 && cat.defs[c.key.ind()].sampled && !hasInd(old, c.key.ind()) {
			e.obs.Sample(cat.defs[c.key.ind()].ID, e.dims.tuples[c.key.dims()], c.num)
		}
	}
}

func netKey(k cellKey) uint64 { return uint64(k.ind())<<32 | uint64(k.dims()) }

func hasInd(cs []contrib, ind id) bool {
	for _, c := range cs {
		if c.key.ind() == ind && (c.num != 0 || c.den != 0) {
			return true
		}
	}
	return false
}

// WithoutAggregates makes the engine keep no aggregates: a stream
// processor that stores each call's and ticket's contributions elsewhere
// (and sums them there) saves their memory and upkeep. Results then
// answers nothing.
func (e *Engine) WithoutAggregates() { e.store = nil }

// TrackChanges makes Advance record the calls and tickets it evaluates,
// for Changes.
func (e *Engine) TrackChanges() { e.track = true }

// Changes returns the states of the calls and tickets evaluated since the
// last call, and forgets them. Each call of Changes is numbered: see
// Reported.
func (e *Engine) Changes() []EntityState {
	out := make([]EntityState, 0, e.Changed())
	e.EachChange(func(s *EntityState) { out = append(out, *s) })
	return out
}

// Changed returns how many states the next Changes holds (agents: at
// least as many).
func (e *Engine) Changed() int { return len(e.changedC) + len(e.changedT) + len(e.changedA) }

// EachChange is Changes without the slice: fn gets each state in turn (it
// may keep the state's slices, not the pointer).
func (e *Engine) EachChange(fn func(*EntityState)) {
	e.reports++
	n, np := 0, 0
	for _, c := range e.changedC {
		n, np = n+len(c.contribs), np+max(int(c.prior.n), 0)
	}
	for _, t := range e.changedT {
		n, np = n+len(t.contribs), np+max(int(t.prior.n), 0)
	}
	slab := make([]Contribution, n) // every state's contributions, in one allocation
	e.priorSlab = make([]Contribution, np)
	var s EntityState
	for _, c := range e.changedC {
		c.changed, c.reported = false, e.reports
		e.callState(c, &s, slab[:len(c.contribs):len(c.contribs)])
		slab = slab[len(c.contribs):]
		fn(&s)
	}
	for _, t := range e.changedT {
		t.changed, t.reported = false, e.reports
		e.ticketState(t, &s, slab[:len(t.contribs):len(t.contribs)])
		slab = slab[len(t.contribs):]
		fn(&s)
	}
	for _, a := range e.changedA {
		a.changed, a.reported = false, e.reports
		e.use(a.center)
		e.agentStates(a, fn)
	}
	e.changedC, e.changedT, e.changedA = e.changedC[:0], e.changedT[:0], e.changedA[:0]
	e.priorBuf, e.priorSlab = e.priorBuf[:0], nil
}

// prior is an entity's last reported state's contributions: n at
// priorBuf[at:], or unknown when n < 0 (restored).
type prior struct {
	at, n    int32
	restored bool // loaded from stored events, not reported since
}

// capture keeps cs, the contributions of the last reported state, before
// an evaluation replaces them.
func (e *Engine) capture(p *prior, cs []contrib) {
	if p.restored {
		p.restored, p.n = false, -1
		return
	}
	p.at, p.n = int32(len(e.priorBuf)), int32(len(cs))
	e.priorBuf = append(e.priorBuf, cs...)
}

// priorOf fills s's prior from p. A restored entity's stored state held
// contributions anchored at its events (a subset of those loaded) or at
// deadlines passed by its evaluation time (asOf, for tickets): the span
// runs from the earliest of its events and contributions to the latest of
// them and, for a ticket, asOf and its resolve deadline.
func (e *Engine) priorOf(p prior, s *EntityState, evTS func(yield func(int64) bool), until int64) {
	if p.n >= 0 {
		if p.n > 0 {
			s.Prior = e.contributions(e.priorBuf[p.at:p.at+p.n], e.priorSlab[:p.n:p.n])
			e.priorSlab = e.priorSlab[p.n:]
		}
		return
	}
	lo, hi := int64(never), until
	for ts := range evTS {
		lo, hi = min(lo, ts), max(hi, ts)
	}
	for _, c := range s.Contribs {
		lo, hi = min(lo, c.Bucket), max(hi, c.Bucket)
	}
	s.Restored, s.RestoredSpan = true, [2]int64{lo, max(lo, hi)}
}

func (e *Engine) noteCall(c *call) {
	if e.track && !c.changed {
		c.changed = true
		e.changedC = append(e.changedC, c)
	}
}

func (e *Engine) noteTicket(t *ticket) {
	if e.track && !t.changed {
		t.changed = true
		e.changedT = append(e.changedT, t)
	}
}

// contributions fills out (of cs's length) with cs as contributions.
func (e *Engine) contributions(cs []contrib, out []Contribution) []Contribution {
	for i, c := range cs {
		out[i] = Contribution{Indicator: cat.defs[c.key.ind()].ID, Bucket: c.key.bucket(),
			Dims: e.dims.tuples[c.key.dims()], Num: c.num, Den: c.den, Entity: e.dims.fams[c.key.dims()]}
	}
	return out
}

func (e *Engine) callState(c *call, s *EntityState, contribs []Contribution) {
	f := c.fact(e.cutoff)
	*s = EntityState{CenterID: c.center, ID: c.id, Partition: c.part, Events: len(c.evs), Contribs: e.contributions(c.contribs, contribs)}
	for _, v := range c.evs {
		s.LastTS = max(s.LastTS, v.ts)
	}
	e.priorOf(c.prior, s, func(yield func(int64) bool) {
		for _, v := range c.evs {
			if !yield(v.ts) {
				return
			}
		}
	}, 0)
	cf := CallFacts{Queue: f.queue, Channel: f.channel.String(), Agent: f.agent, Team: f.team, Offered: f.offered,
		CallerHash: f.caller, ArrivedTS: max(f.arrivedTS, 0),
		Answered: f.answered, Abandoned: f.abandoned, OfferTS: f.offerTS, Rating: f.rating.String()}
	switch {
	case f.answered && f.offered:
		cf.WaitMs = f.answerTS - f.offerTS
	case f.abandoned && f.offered:
		cf.WaitMs = f.abandonTS - f.offerTS
	}
	if f.answered && f.ended {
		cf.TalkMs = f.endTS - f.answerTS - f.holdMs
	}
	if f.answered && f.ended && f.wrapped {
		cf.HandleMs = f.wrapTS - f.answerTS
	}
	s.Call = cf
}

func (e *Engine) ticketState(t *ticket, s *EntityState, contribs []Contribution) {
	e.use(t.center)
	f := &e.scratch
	t.fact(f, e.cutoff, e.rules.firstDispatch)
	*s = EntityState{Ticket: true, CenterID: t.center, ID: t.id, Partition: t.part, Events: len(t.evs), Wake: t.wake,
		Contribs: e.contributions(t.contribs, contribs)}
	_, s.Volatile = e.open[t]
	for _, v := range t.evs {
		s.LastTS = max(s.LastTS, v.ts)
	}
	e.priorOf(t.prior, s, func(yield func(int64) bool) {
		for _, v := range t.evs {
			if !yield(v.ts) {
				return
			}
		}
	}, max(e.asOf, t.state.due))
	tf := TicketFacts{Category: f.category.String(), Channel: f.channel.String(), Urgency: f.urgency.String(),
		CallerHash: f.caller, Topic: f.topic, Area: f.area,
		DueTS: t.state.due, ReplyTS: f.replyTS, CloseTS: f.closeTS, Holder: f.holder(e.asOf),
		Dispatches: len(f.dispatches), Reopened: f.reopened}
	if f.created {
		tf.CreatedTS = f.createdTS
	}
	if len(f.dispatches) > 0 {
		tf.FirstDispatchTS = f.dispatches[0].ts
	}
	s.Tick = tf
}

// ApplyRecord is Apply for an event consumed from a partitioned source:
// the call or ticket remembers the partition its events come from (all of
// an entity's events share one partition, as the producer keys them by
// id), so that a stream processor can drop what it no longer owns. It
// reports whether the event is kept: new, or a conflicting duplicate that
// replaced the event kept before (a store of raw events must keep it).
func (e *Engine) ApplyRecord(rec *event.Record) bool {
	return kept(e.takeIn(&rec.Event, rec.Origin.Partition, held{}))
}

func kept(r addResult) bool { return r == added || r == conflictWins }

// Lookup finds the calls and tickets of recs, once each record, and
// returns the indices of the records whose call or ticket the engine does
// not hold. ApplyLooked then applies the records without looking again. In
// between, only Load may change the engine.
func (e *Engine) Lookup(recs []event.Record) (missing []int) {
	e.looked = slices.Grow(e.looked[:0], len(recs))[:len(recs)]
	for i := range recs {
		ev := &recs[i].Event
		var h held
		if ev.Type.IsAgent() {
			e.looked[i] = h // agents: see AgentRange
			continue
		}
		if ev.Type.IsCall() {
			h.c = e.calls[entityKey{ev.CenterID, ev.CallID}]
		} else {
			h.t = e.tickets[entityKey{ev.CenterID, ev.TicketID}]
		}
		if h.c == nil && h.t == nil {
			missing = append(missing, i)
		}
		e.looked[i] = h
	}
	return missing
}

// ApplyLooked is ApplyRecord for recs[i] of the latest Lookup.
func (e *Engine) ApplyLooked(recs []event.Record, i int) bool {
	return kept(e.takeIn(&recs[i].Event, recs[i].Origin.Partition, e.looked[i]))
}

// Load restores calls and tickets from their stored events. Every entity
// touched is evaluated again at the next Advance, even when all its events
// were known: its stored state may be older than its events. Loaded events
// are not counted as accepted; duplicates among them are dropped.
func (e *Engine) Load(recs []event.Record) {
	for i := range recs {
		ev := &recs[i].Event
		if ev.Type.IsCall() {
			e.applyCall(ev, recs[i].Origin.Partition, nil)
			c := e.calls[entityKey{ev.CenterID, ev.CallID}]
			c.prior.restored = true
			if !c.dirty {
				c.dirty = true
				e.dirtyC = append(e.dirtyC, c)
			}
		} else {
			e.applyTicket(ev, recs[i].Origin.Partition, nil)
			t := e.tickets[entityKey{ev.CenterID, ev.TicketID}]
			t.prior.restored = true
			e.markTicket(t)
		}
		e.maxTS = max(e.maxTS, ev.TS)
	}
}

// Drop forgets every call and ticket for which owned reports false, with
// their contributions, pending evaluations and deadlines, and returns how
// many it dropped. A stream processor drops the entities of partitions it
// no longer owns: their next owner loads them from the store.
func (e *Engine) Drop(owned func(ticket bool, part int32) bool) int {
	n := 0
	for k, c := range e.calls {
		if !owned(false, c.part) {
			e.store.apply(c.contribs, -1)
			e.noteDefects(c.center, &c.defects, 0)
			delete(e.calls, k)
			n++
		}
	}
	for k, t := range e.tickets {
		if !owned(true, t.part) {
			e.store.apply(t.contribs, -1)
			e.noteDefects(t.center, &t.defects, 0)
			delete(e.open, t)
			if t.inHeap {
				heap.Remove(&e.waiting, t.heapIdx)
			}
			delete(e.tickets, k)
			n++
		}
	}
	e.dirtyC = slices.DeleteFunc(e.dirtyC, func(c *call) bool { return !owned(false, c.part) })
	e.dirtyT = slices.DeleteFunc(e.dirtyT, func(t *ticket) bool { return !owned(true, t.part) })
	e.changedC = slices.DeleteFunc(e.changedC, func(c *call) bool { return !owned(false, c.part) })
	e.changedT = slices.DeleteFunc(e.changedT, func(t *ticket) bool { return !owned(true, t.part) })
	return n
}

// Ref names a call, a ticket or an agent.
type Ref struct {
	Ticket   bool
	CenterID string
	ID       string
	Agent    bool
}

// RefOf returns the call, ticket or agent of ev.
func RefOf(ev *event.Event) Ref {
	switch {
	case ev.Type.IsCall():
		return Ref{CenterID: ev.CenterID, ID: ev.CallID}
	case ev.Type.IsAgent():
		return Ref{Agent: true, CenterID: ev.CenterID, ID: ev.AgentID}
	}
	return Ref{Ticket: true, CenterID: ev.CenterID, ID: ev.TicketID}
}

// DayStart returns the start of the local day holding ts, in the time
// zone of center's profile (an agent's stored days).
func (e *Engine) DayStart(center string, ts int64) int64 {
	loc := e.ps.of(center).loc
	return windowStart(loc, WindowDay, bucketOf(loc, ts))
}

// Reported is the number of Changes calls so far: the states returned by
// Changes call r are those of report r.
func (e *Engine) Reported() uint64 { return e.reports }

// Evict forgets calls and tickets whose latest event is before before,
// that wait for no deadline and whose last report is at most stored (the
// caller has stored the states of every Changes call up to that number),
// taking their contributions out of the in-memory aggregates, and returns
// them. A stream processor evicts what it has stored, and loads it again
// if a late event comes.
func (e *Engine) Evict(before int64, stored uint64) []Ref {
	e.pruneAgents(before, stored)
	var out []Ref
	for k, c := range e.calls {
		if !c.dirty && !c.changed && c.reported <= stored && lastTS(c.evs) < before {
			e.store.apply(c.contribs, -1)
			e.noteDefects(c.center, &c.defects, 0)
			delete(e.calls, k)
			out = append(out, Ref{CenterID: k.center, ID: k.id})
		}
	}
	for k, t := range e.tickets {
		_, open := e.open[t]
		waiting := (t.state.due != 0 && t.state.replyTS == 0) || t.state.awaiting // counts in the gauges
		if !t.dirty && !t.changed && t.reported <= stored && !t.inHeap && !open && !waiting && lastTicketTS(t.evs) < before {
			e.store.apply(t.contribs, -1)
			e.noteDefects(t.center, &t.defects, 0)
			delete(e.tickets, k)
			out = append(out, Ref{Ticket: true, CenterID: k.center, ID: k.id})
		}
	}
	return out
}

func lastTS(evs []cev) int64 {
	var m int64
	for _, v := range evs {
		m = max(m, v.ts)
	}
	return m
}

func lastTicketTS(evs []tev) int64 {
	var m int64
	for _, v := range evs {
		m = max(m, v.ts)
	}
	return m
}

// TicketGauge counts a centre's and department's open tickets at an
// evaluation time.
type TicketGauge struct {
	CenterID, Department         string
	Partition                    int32 // the tickets' source partition
	Open, Overdue, Due4h, Due24h int
	AwaitingDispatch             int // created, not dispatched (department "")
}

// TicketGauges counts the open (dispatched, unreplied) tickets held in
// memory by source partition and the department holding them at asOf: all
// of them, those past their resolve deadline, and those due within 4 and
// 24 hours (预警).
func (e *Engine) TicketGauges(asOf int64) []TicketGauge {
	type key struct {
		c, d string
		p    int32
	}
	by := map[key]*TicketGauge{}
	get := func(k key) *TicketGauge {
		g := by[k]
		if g == nil {
			g = &TicketGauge{CenterID: k.c, Department: k.d, Partition: k.p}
			by[k] = g
		}
		return g
	}
	for k, t := range e.tickets {
		st := &t.state
		if st.awaiting {
			get(key{k.center, "", t.part}).AwaitingDispatch++
		}
		if st.due == 0 || (st.replyTS != 0 && st.replyTS <= asOf) {
			continue
		}
		g := get(key{k.center, t.holderAt(asOf), t.part})
		g.Open++
		switch left := st.due - asOf; {
		case left < 0:
			g.Overdue++
		case left < 4*3600_000:
			g.Due4h++
			g.Due24h++
		case left < 24*3600_000:
			g.Due24h++
		}
	}
	out := make([]TicketGauge, 0, len(by))
	for _, g := range by {
		out = append(out, *g)
	}
	return out
}

// Size returns how many calls and tickets the engine holds.
func (e *Engine) Size() (calls, tickets int) { return len(e.calls), len(e.tickets) }

// Package indicator is the pure core of hotlineqc: it assembles calls and
// ticket lifecycles from events that arrive in any order and more than once,
// and computes every indicator of the specification over any window and
// dimensions, against a profile's targets. It does no I/O. The batch
// `compute` command and the streaming pipeline drive the same Engine.
package indicator

import (
	"container/heap"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// Counts of the events an engine was given.
type Counts struct {
	Accepted   int64 `json:"accepted"`   // distinct events applied
	Duplicates int64 `json:"duplicates"` // events whose event_id was seen before
	// Conflicting counts the duplicates whose content differed (a subset
	// of Duplicates; indicators.md v1.1, decision 12).
	Conflicting int64 `json:"conflicting"`
	Rejected    int64 `json:"rejected"` // bad input, counted by the caller
}

// addResult is what taking an event into its call or ticket did.
type addResult uint8

const (
	added         addResult = iota // a new event_id
	duplicate                      // a known event_id, same content: a replay
	conflictLoses                  // a known event_id, different content, the known event stays
	conflictWins                   // a known event_id, different content, this event replaces it
)

type entityKey struct{ center, id string }

// Service-level denominators, resolved from the profile.
const (
	denomAnswered = iota
	denomOffered
	denomOfferedMinusShort
)

// rules are the profile settings in the form the hot path uses.
type rules struct {
	slThresholdMs  int64
	slDenominator  int
	shortAbandonMs int64
	excludeShort   bool
	closureByReply bool
	firstDispatch  bool    // resolve_clock: first_dispatch
	passPercent    float64 // qa.pass_percent
}

// Engine is an incremental state machine over events. Apply events in any
// order, then Advance to an evaluation time, then read Results. Applying
// more events and advancing again updates the results exactly: each changed
// call or ticket takes back what it contributed and adds its new
// contributions. An Engine is not safe for concurrent use.
type Engine struct {
	ps *Profiles
	// The profile of the call or ticket being evaluated (use).
	cur       *centre
	p         *profile.Profile
	cal       *workday.Calendar
	loc       *time.Location
	rules     rules
	satisfied [8]bool

	calls   map[entityKey]*call
	tickets map[entityKey]*ticket
	dirtyC  []*call
	dirtyT  []*ticket
	waiting wakeHeap // tickets with an undecided deadline
	open    map[*ticket]struct{}
	agents  map[entityKey]*agent
	dirtyA  []*agent
	openA   map[*agent]struct{} // agents with a session open: re-derived at every Advance

	scratch    ticketFact          // reused by every ticket evaluation
	callView   callView            // reused by every call evaluation
	ticketEval ticketEval          // reused by every ticket evaluation
	stored     []StoredTicket      // tickets restored from a store (Restore)
	contacts   []Contact           // contacts restored from a store (WithContacts)
	obs        Observer            // receives samples (Observe)
	net        map[uint64][2]int64 // net deltas by indicator and dims id (Observe)
	quiet      bool                // AdvanceQuiet: evaluations are not observed
	oldBuf     []contrib
	looked     []held // the latest Lookup
	track      bool   // record evaluated entities for Changes
	reports    uint64 // Changes calls so far
	changedC   []*call
	changedT   []*ticket
	changedA   []*agent       // agents with days to report
	priorBuf   []contrib      // the prior contributions of the calls and tickets to report
	priorSlab  []Contribution // EachChange: what is left of the states' prior contributions
	store      *store
	dims       *interner
	grain      Grain
	keepC      []bool     // call tuple positions the grain keeps
	keepT      []bool     // ticket tuple positions the grain keeps
	keepA      []bool     // agent tuple positions the grain keeps
	callsOn    bool       // the grain applies to calls
	ticketsOn  bool       // the grain applies to tickets
	agentsOn   bool       // the grain applies to agents
	agentAccs  []agentAcc // reused by every agent evaluation
	keyBuf     []byte
	lastStart  int64 // the last grain window seen, [lastStart, lastEnd)
	lastEnd    int64
	counts     Counts
	maxTS      int64
	asOf       int64
	cutoff     int64 // events after it are ignored (IgnoreAfter); never by default
	defectN    map[defectKey]int
}

// New returns an engine for the profiles ps that keeps the finest grain,
// so that it answers every query.
func New(ps *Profiles) *Engine {
	return NewAtGrain(ps, Finest())
}

// NewAtGrain returns an engine that keeps its aggregates at grain g: it
// answers queries at g or coarser, with less memory and work. With mixed
// profiles it also keeps the centre, whose profile gives each aggregate
// its time zone and target.
func NewAtGrain(ps *Profiles, g Grain) *Engine {
	e := &Engine{
		grain: g, keepC: keep(callDims, g.GroupBy), keepT: keep(ticketDims, g.GroupBy), keepA: keep(agentDims, g.GroupBy),
		callsOn: applies(callDims, g.GroupBy), ticketsOn: applies(ticketDims, g.GroupBy), agentsOn: applies(agentDims, g.GroupBy),
		ps: ps, calls: map[entityKey]*call{}, tickets: map[entityKey]*ticket{}, agents: map[entityKey]*agent{},
		open: map[*ticket]struct{}{}, openA: map[*agent]struct{}{}, store: newStore(), dims: newInterner(), cutoff: never,
	}
	if ps.Mixed() {
		e.keepC[0], e.keepT[0], e.keepA[0] = true, true, true // center_id
	}
	e.switchTo(ps.def)
	return e
}

// use makes the profile of center the one evaluations read.
func (e *Engine) use(center string) {
	if e.ps.by == nil {
		return
	}
	if c := e.ps.of(center); c != e.cur {
		e.switchTo(c)
	}
}

func (e *Engine) switchTo(c *centre) {
	e.cur, e.p, e.cal, e.loc, e.rules, e.satisfied = c, c.p, c.cal, c.loc, c.rules, c.satisfied
	e.lastStart, e.lastEnd = 0, 0 // the bucket cache is in the zone of the last profile
}

// IgnoreAfter makes evaluations ignore events with a time after ts, as if
// they had not happened yet (an evaluation "as of" ts; indicators.md v1.1,
// decision 6). They still count in Counts and as duplicates.
func (e *Engine) IgnoreAfter(ts int64) { e.cutoff = ts }

// Profiles returns the engine's profiles.
func (e *Engine) Profiles() *Profiles { return e.ps }

// Apply takes one event. It returns false when its call or ticket already
// has an event with the same event_id: a duplicate. A duplicate with other
// content is also counted as conflicting; of the two, the event with the
// earlier ts (then the smaller canonical JSON) is kept, whatever the
// arrival order. (Duplicates are recognised per call or ticket, as the raw
// tables collapse them; an event_id reused for a different call is a
// different event.)
func (e *Engine) Apply(ev *event.Event) bool { return e.take(ev) == added }

// take applies ev and counts it.
func (e *Engine) take(ev *event.Event) addResult { return e.takeIn(ev, noPart, held{}) }

// noPart is the partition of an event read from no partitioned source.
const noPart = -1

// held is the call or ticket of an event when a lookup found it (see
// Lookup), nil otherwise.
type held struct {
	c *call
	t *ticket
}

// takeIn applies ev to its call or ticket (h's when set, else looked up or
// created) and counts it; the entity remembers part (unless noPart).
func (e *Engine) takeIn(ev *event.Event, part int32, h held) addResult {
	var r addResult
	switch {
	case ev.Type.IsCall():
		r = e.applyCall(ev, part, h.c)
	case ev.Type.IsAgent():
		r = e.applyAgent(ev, part)
	default:
		r = e.applyTicket(ev, part, h.t)
	}
	if r != added {
		e.counts.Duplicates++
		if r != duplicate {
			e.counts.Conflicting++
		}
		return r
	}
	e.counts.Accepted++
	e.maxTS = max(e.maxTS, ev.TS)
	return r
}

func (e *Engine) applyCall(ev *event.Event, part int32, c *call) addResult {
	if c == nil {
		k := entityKey{ev.CenterID, ev.CallID}
		if c = e.calls[k]; c == nil {
			c = &call{center: ev.CenterID, id: ev.CallID, evs: make([]cev, 0, 8)}
			e.calls[k] = c
		}
	}
	if part != noPart {
		c.part = part
	}
	r := c.add(ev)
	if (r == added || r == conflictWins) && !c.dirty {
		c.dirty = true
		e.dirtyC = append(e.dirtyC, c)
	}
	return r
}

func (e *Engine) applyTicket(ev *event.Event, part int32, t *ticket) addResult {
	if t == nil {
		k := entityKey{ev.CenterID, ev.TicketID}
		if t = e.tickets[k]; t == nil {
			t = &ticket{center: ev.CenterID, id: ev.TicketID, evs: make([]tev, 0, 4)}
			e.tickets[k] = t
		}
	}
	if part != noPart {
		t.part = part
	}
	r := t.add(ev)
	if r == added || r == conflictWins {
		e.markTicket(t)
	}
	return r
}

func (e *Engine) markTicket(t *ticket) {
	if !t.dirty {
		t.dirty = true
		e.dirtyT = append(e.dirtyT, t)
	}
}

// CountRejected records n rejected input messages, for the counts report.
func (e *Engine) CountRejected(n int64) { e.counts.Rejected += n }

// Counts returns the event counts so far.
func (e *Engine) Counts() Counts { return e.counts }

// MaxTS returns the latest event time applied (Unix ms), 0 when none.
func (e *Engine) MaxTS() int64 { return e.maxTS }

// AsOf returns the evaluation time of the last Advance.
func (e *Engine) AsOf() int64 { return e.asOf }

// Advance brings the aggregates up to date as of evaluation time asOf,
// which must not go back in time between calls. It
// re-derives every call and ticket changed since the last Advance, and every
// ticket whose deadlines asOf has passed.
func (e *Engine) Advance(asOf int64) {
	e.asOf = asOf
	for _, c := range e.dirtyC {
		c.dirty = false
		if !e.callsOn {
			continue // the grain has a dimension calls lack
		}
		e.use(c.center)
		if e.track && !c.changed {
			e.capture(&c.prior, c.contribs)
		}
		old := e.before(c.contribs)
		e.store.apply(c.contribs, -1)
		if c.contribs == nil {
			c.contribs = make([]contrib, 0, 12)
		}
		f := c.fact(e.cutoff)
		c.contribs = e.callContribs(c, f, c.contribs[:0])
		e.store.apply(c.contribs, +1)
		e.report(old, c.contribs)
		c.anchor = f.anchor
		e.noteDefects(c.center, &c.defects, e.callDefects(c, &f))
		e.noteCall(c)
	}
	e.dirtyC = e.dirtyC[:0]
	for e.waiting.Len() > 0 && e.waiting[0].wake < asOf {
		e.markTicket(heap.Pop(&e.waiting).(*ticket))
	}
	for t := range e.open {
		e.markTicket(t)
	}
	for _, t := range e.dirtyT {
		if !e.ticketsOn {
			t.dirty = false // the grain has a dimension tickets lack
			continue
		}
		e.evalTicket(t, asOf)
	}
	e.dirtyT = e.dirtyT[:0]
	for a := range e.openA {
		if !a.dirty {
			a.dirty = true
			e.dirtyA = append(e.dirtyA, a)
		}
	}
	for _, a := range e.dirtyA {
		if !e.agentsOn {
			a.dirty = false // the grain has a dimension agents lack
			continue
		}
		e.evalAgent(a, asOf)
	}
	e.dirtyA = e.dirtyA[:0]
}

func (e *Engine) evalTicket(t *ticket, asOf int64) {
	e.use(t.center)
	if e.track && !t.changed {
		e.capture(&t.prior, t.contribs)
	}
	old := e.before(t.contribs)
	e.store.apply(t.contribs, -1)
	f := &e.scratch
	t.fact(f, e.cutoff, e.rules.firstDispatch)
	contribs, wake, due, volatile := e.ticketContribs(t, f, asOf, t.contribs[:0])
	t.contribs = contribs
	e.store.apply(t.contribs, +1)
	e.report(old, t.contribs)
	t.anchor = f.createdTS
	if !f.created && len(t.evs) > 0 {
		t.anchor = t.evs[0].ts
	}
	e.noteDefects(t.center, &t.defects, e.ticketDefects(t, f, due))
	t.dirty = false
	tp := t.state.topicDims // set by ticketContribs
	t.state = ticketState{evaluated: true, due: due, replyTS: f.replyTS, category: f.category, channel: f.channel, urgency: f.urgency,
		awaiting: f.created && len(f.dispatches) == 0 && f.resolvedOnIntake == 0 && f.closeTS == 0,
		created:  f.created, createdTS: f.createdTS, caller: f.caller, topic: f.topic, topicDims: tp}
	if f.caller != "" && f.topic != "" {
		t.state.contactDims = e.dimsID(profile.Tickets, t.center, "", f.category.String(), f.channel.String(), f.urgency.String(),
			tp[0], tp[1], tp[2], tp[3])
	}
	e.noteTicket(t)
	if volatile {
		e.open[t] = struct{}{}
	} else {
		delete(e.open, t)
	}
	if t.inHeap {
		heap.Remove(&e.waiting, t.heapIdx)
	}
	t.wake = wake
	if wake != 0 {
		heap.Push(&e.waiting, t)
	}
}

// wakeHeap orders tickets by the instant after which they must be
// re-evaluated.
type wakeHeap []*ticket

func (h wakeHeap) Len() int           { return len(h) }
func (h wakeHeap) Less(i, j int) bool { return h[i].wake < h[j].wake }
func (h wakeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *wakeHeap) Push(x any) {
	t := x.(*ticket)
	t.heapIdx, t.inHeap = len(*h), true
	*h = append(*h, t)
}
func (h *wakeHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	t.inHeap = false
	return t
}

// ApplyAll applies a batch of events in order.
func (e *Engine) ApplyAll(evs []event.Event) {
	for i := range evs {
		e.Apply(&evs[i])
	}
}

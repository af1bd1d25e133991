package indicator

import (
	"cmp"
	"slices"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Agents (坐席, revision 1.2). An agent's events make sessions: from
// agent.logged_in to agent.logged_out, or to the agent's next
// agent.logged_in, or, with no event for agent_session_timeout, to the
// session's last event; a session still open runs to the evaluation time.
// Inside a session the agent is in one state at a time, from each state
// event to the next. Every span of time counts in each 15-minute bucket it
// overlaps, split at the bucket edges, so that four 15m windows add up to
// their hour. The agent's events are ordered by time, then a logout before
// a login before a state change (a sign-out and sign-in at one instant is
// a re-login), then by content: the arrival order never matters.

// Dimensions of agent indicators, in tuple order.
var agentDims = []string{"center_id", "agent_id", "team"}

// AgentDims names the positions of an agent contribution's Dims.
func AgentDims() []string { return slices.Clone(agentDims) }

// aev is the part of an agent event the indicators need.
type aev struct {
	eid    string // event_id, to recognise duplicates
	h      uint64 // contentHash, to recognise conflicting duplicates
	ts     int64
	typ    event.Type
	state  event.AgentState
	reason string
	team   string
	queues []string // logged_in: kept for the canonical form only
	day    int64    // its local day (stream), computed once; 0 until then
}

// rank orders an agent's events of one instant: a logout ends the session
// before a login starts the next, and a state change applies to the
// session a login of the same instant started.
func (a *aev) rank() int {
	switch a.typ {
	case event.AgentLoggedOut:
		return 0
	case event.AgentLoggedIn:
		return 1
	}
	return 2
}

// less orders agent events by time, rank, then content.
func (a *aev) less(b *aev) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if ra, rb := a.rank(), b.rank(); ra != rb {
		return ra < rb
	}
	if a.state != b.state {
		return a.state < b.state
	}
	if a.reason != b.reason {
		return a.reason < b.reason
	}
	if a.team != b.team {
		return a.team < b.team
	}
	if c := slices.Compare(a.queues, b.queues); c != 0 {
		return c < 0
	}
	return a.eid < b.eid
}

// agent is one agent's state: its events, in arrival order.
//
// A stream processor keeps an agent's recent days only: the events of
// every local day from fromDay on (whole days, as each day's row is
// stored whole), and carry, the agent's context before the first of them.
// A batch evaluation holds every event (fromDay minDay).
type agent struct {
	center, id string
	part       int32
	evs        []aev
	contribs   []contrib
	dirty      bool
	open       bool  // a session open at the last evaluation: it grows with the evaluation time
	orphans    int   // state changes and logouts outside a session, at the last evaluation
	orphanTS   int64 // the first of them (the audit's month)
	defects    defects
	conflicts  uint16
	fromDay    int64
	carry      carry
	days       map[int64]*agentDay // by local day start: what each held day last reported (TrackChanges)
	changed    bool                // has days to report
	reported   uint64              // the Changes call that last reported it
	ids        map[string]int32    // event_id → position in evs, past a few events (see find)
	evented    bool                // events came since the last evaluation
	notedAt    int64               // evaluation time of the last noteAgentDays
	now        AgentGauge          // at the last evaluation, when a session was open
}

// agentNoteEvery spaces the rows of an agent whose only change is its open
// session growing with the evaluation time: at most one a minute of
// evaluation time (events, a session ending or timing out are reported at
// once).
const agentNoteEvery = 60_000

// minDay is the fromDay of an agent holding all its history.
const minDay = -never

// carry is an agent's context at an instant: whether a session is open,
// its state and team, and the session's last event (for the timeout).
type carry struct {
	open  bool
	state event.AgentState
	team  string
	last  int64
}

// AgentCarry is an agent's context before the first event of a day, as a
// store keeps it with the day's row: what evaluating the day from its
// stored events needs of the days before.
type AgentCarry struct {
	Open   bool
	State  string
	Team   string
	LastTS int64
}

func (c carry) export() AgentCarry {
	return AgentCarry{Open: c.open, State: c.state.String(), Team: c.team, LastTS: c.last}
}

func (c AgentCarry) carry() carry {
	st, _ := event.ParseAgentState(c.State)
	return carry{open: c.Open, state: st, team: c.Team, last: c.LastTS}
}

// agentDay is one held day of an agent: its contributions (the spans that
// start at its events) and its carry at the last evaluation, and what was
// last reported of them.
type agentDay struct {
	contribs []contrib
	carryIn  carry
	events   int
	lastTS   int64
	sig      uint64 // of the last report; 0: never reported
	changed  bool
}

// add takes e into the agent (see addResult).
func (a *agent) add(e *event.Event) addResult {
	v := aev{eid: e.ID, h: contentHash(e), ts: e.TS, typ: e.Type, state: e.State, reason: e.Reason, team: e.Team, queues: e.Queues}
	i, seen := a.find(v.eid)
	if !seen {
		a.evs = append(a.evs, v)
		if a.ids != nil {
			a.ids[v.eid] = int32(len(a.evs) - 1)
		}
		return added
	}
	o := &a.evs[i]
	if o.h == v.h {
		return duplicate
	}
	a.conflicts++
	if replaces(v.ts, o.ts, func() ([]byte, []byte) { return v.canonical(a.center, a.id), o.canonical(a.center, a.id) }) {
		*o = v
		return conflictWins
	}
	return conflictLoses
}

// find returns the index of the event with id eid. An agent has many
// events (a state change a minute): past a few, an index by id saves a
// scan per event; it is rebuilt after the events are reordered or pruned.
func (a *agent) find(eid string) (int, bool) {
	if a.ids == nil && len(a.evs) >= 32 {
		a.ids = make(map[string]int32, len(a.evs)*2)
		for i := range a.evs {
			a.ids[a.evs[i].eid] = int32(i)
		}
	}
	if a.ids != nil {
		i, ok := a.ids[eid]
		return int(i), ok
	}
	for i := range a.evs {
		if a.evs[i].eid == eid {
			return i, true
		}
	}
	return 0, false
}

func (v *aev) canonical(center, id string) []byte {
	c := canon{}
	c.str("event_id", v.eid)
	c.str("type", v.typ.String())
	c.time("ts", v.ts)
	c.str("center_id", center)
	c.str("agent_id", id)
	c.str("team", v.team)
	c.str("reason", v.reason)
	if v.typ != event.AgentLoggedOut {
		c.str("state", v.state.String())
	}
	if len(v.queues) > 0 {
		c.str("queues", strings.Join(v.queues, "\x00"))
	}
	return c.bytes()
}

// agentAcc is an agent's time in each state (ms) within one 15-minute
// bucket, for one team.
type agentAcc struct {
	day    int64 // the local day of the event that started the spans (their owner)
	bucket int64
	team   string
	ms     [event.NumAgentStates]int64
}

// agentTime is the time in each state of the accumulator: what the
// catalogue's agent functions read.
type agentTime = [event.NumAgentStates]int64

func online(t *agentTime) int64 {
	var n int64
	for _, v := range t {
		n += v
	}
	return n
}

func staffed(t *agentTime) int64 {
	return t[event.AgentReady] + t[event.AgentBusy] + t[event.AgentWrapup]
}

// agentWalk lays the agent's sessions out as time in each state, by bucket
// and team, as of asOf, from its carry on. It reports whether a session is
// still open (its time grows with the evaluation time) and how many events
// fell outside any session (orphans: ignored). Spans belong to the day of
// the event that starts them; those of days before fromDay (the carry's)
// are stored and left out. With TrackChanges it records each day's carry.
func (e *Engine) agentWalk(a *agent, asOf int64, accs []agentAcc) (out []agentAcc, open bool, orphans int) {
	a.orphanTS = 0
	for i := 1; i < len(a.evs); i++ {
		if a.evs[i].less(&a.evs[i-1]) {
			inOrder(a.evs, (*aev).less)
			a.ids = nil // the index is by position
			break
		}
	}
	timeout := e.p.SessionTimeout().Milliseconds()
	c := a.carry
	open = c.open
	st, team, last := c.state, c.team, c.last
	reason := ""
	lastDay, curDay := e.dayOf(a, last), int64(minDay)
	for i := range a.evs {
		v := &a.evs[i]
		if v.ts > e.cutoff {
			break
		}
		if a.days != nil {
			if d := e.evDay(a, v); d != curDay {
				curDay = d
				e.heldDay(a, d).carryIn = carry{open: open, state: st, team: team, last: last}
			}
		}
		if open {
			if v.ts-last >= timeout {
				open = false // ended at its last event
			} else if lastDay >= a.fromDay {
				accs = e.span(accs, lastDay, team, st, last, v.ts)
			}
		}
		switch v.typ {
		case event.AgentLoggedIn:
			open, st, last, team, reason = true, v.state, v.ts, v.team, v.reason
			lastDay = e.evDay(a, v)
			if team == "" {
				team = e.p.AgentTeams[a.id]
			}
		case event.AgentStateChanged:
			if !open {
				orphans++
				a.orphanTS = cmp.Or(a.orphanTS, v.ts)
				continue
			}
			st, last, reason = v.state, v.ts, v.reason
			lastDay = e.evDay(a, v)
		case event.AgentLoggedOut:
			if !open {
				orphans++
				a.orphanTS = cmp.Or(a.orphanTS, v.ts)
			}
			open = false
		}
	}
	if open {
		if asOf-last >= timeout {
			open = false
		} else if lastDay >= a.fromDay {
			accs = e.span(accs, lastDay, team, st, last, max(asOf, last))
		}
	}
	if st != event.AgentNotReady {
		reason = ""
	}
	a.now = AgentGauge{CenterID: a.center, Team: team, State: st.String(), Reason: reason, Agents: 1}
	return accs, open, orphans
}

// AgentGauge counts the agents signed in now in one state.
type AgentGauge struct {
	CenterID, Team, State string
	Reason                string // not_ready only (示忙); at most 32 characters
	Agents                int
}

// AgentGauges counts the agents held with a session open at the last
// evaluation, by centre, team, state and reason.
func (e *Engine) AgentGauges() []AgentGauge {
	by := map[AgentGauge]int{}
	for a := range e.openA {
		g := a.now
		g.Reason = truncateLabel(g.Reason)
		g.Agents = 0
		by[g]++
	}
	out := make([]AgentGauge, 0, len(by))
	for g, n := range by {
		g.Agents = n
		out = append(out, g)
	}
	return out
}

// truncateLabel bounds a free-text label value (a 示忙 reason).
func truncateLabel(s string) string {
	if r := []rune(s); len(r) > 32 {
		return string(r[:32])
	}
	return s
}

// evDay is dayOf an event, computed once.
func (e *Engine) evDay(a *agent, v *aev) int64 {
	if a.days == nil {
		return minDay + 1
	}
	if v.day == 0 {
		v.day = e.dayOf(a, v.ts)
	}
	return v.day
}

// dayOf is the local day start of ts, in a stream processor (every day
// is one in batch: days are not reported there).
func (e *Engine) dayOf(a *agent, ts int64) int64 {
	if a.days == nil {
		return minDay + 1
	}
	return windowStart(e.loc, WindowDay, bucketOf(e.loc, ts))
}

func (e *Engine) heldDay(a *agent, d int64) *agentDay {
	ad := a.days[d]
	if ad == nil {
		ad = &agentDay{}
		a.days[d] = ad
	}
	return ad
}

// span adds [from, to) in state st to the accumulators of day, split at
// the 15-minute bucket edges.
func (e *Engine) span(accs []agentAcc, day int64, team string, st event.AgentState, from, to int64) []agentAcc {
	for from < to {
		b := bucketOf(e.loc, from)
		end := min(to, b+bucketMs)
		i := len(accs) - 1
		for i >= 0 && accs[i].bucket == b && (accs[i].team != team || accs[i].day != day) {
			i--
		}
		if i < 0 || accs[i].bucket != b {
			accs = append(accs, agentAcc{day: day, bucket: b, team: team})
			i = len(accs) - 1
		}
		accs[i].ms[st] += end - from
		from = end
	}
	return accs
}

// evalAgent re-derives an agent's contributions as of asOf. With
// TrackChanges it notes the days whose contributions or carry changed.
func (e *Engine) evalAgent(a *agent, asOf int64) {
	e.use(a.center)
	old := e.before(a.contribs)
	e.store.apply(a.contribs, -1)
	if e.track && a.days == nil {
		a.days = map[int64]*agentDay{}
	}
	wasOpen := a.open
	for _, ad := range a.days {
		ad.contribs, ad.events, ad.lastTS = ad.contribs[:0], 0, 0
	}
	accs, open, orphans := e.agentWalk(a, asOf, e.agentAccs[:0])
	e.agentAccs = accs
	out := a.contribs[:0]
	for i := range accs {
		acc := &accs[i]
		dims := e.dimsID(profile.Agents, a.center, a.id, acc.team)
		for _, ind := range cat.agents {
			if num, den, ok := cat.defs[ind].agent(&acc.ms); ok {
				n := len(out)
				out = e.put(out, ind, acc.bucket, dims, num, den)
				if a.days != nil && len(out) > n {
					ad := e.heldDay(a, acc.day)
					ad.contribs = append(ad.contribs, out[n])
				}
			}
		}
	}
	a.contribs = out
	e.store.apply(a.contribs, +1)
	e.report(old, a.contribs)
	a.dirty, a.orphans = false, orphans
	var d defects
	d.add(DefectAgentOrphans, orphans > 0)
	e.noteDefects(a.center, &a.defects, d)
	if a.open = open; open {
		e.openA[a] = struct{}{}
	} else {
		delete(e.openA, a)
	}
	if a.days != nil && (a.evented || open != wasOpen || asOf-a.notedAt >= agentNoteEvery) {
		e.noteAgentDays(a)
		a.notedAt = asOf
	}
	a.evented = false
}

// noteAgentDays counts each held day's events and marks the days whose
// row would change: contributions, carry, events, or the session's being
// open (the last day's row says whether to load the agent on assignment).
func (e *Engine) noteAgentDays(a *agent) {
	for i := range a.evs {
		if v := &a.evs[i]; v.ts <= e.cutoff {
			ad := e.heldDay(a, e.evDay(a, v))
			ad.events++
			ad.lastTS = max(ad.lastTS, v.ts)
		}
	}
	for d, ad := range a.days {
		if d < a.fromDay {
			continue
		}
		h := fnvInit
		h = fnvInt(h, int64(ad.events))
		h = fnvInt(h, ad.lastTS)
		h = fnvInt(h, int64(b2i(ad.carryIn.open))<<8|int64(ad.carryIn.state)|int64(b2i(a.open))<<9)
		h = fnvInt(h, ad.carryIn.last)
		h = fnvStr(h, ad.carryIn.team)
		for _, c := range ad.contribs {
			h = fnvInt(fnvInt(h, int64(c.key)), c.num)
			h = fnvInt(h, c.den)
		}
		h |= 1 // never 0: 0 is "never reported"
		if h != ad.sig {
			ad.sig, ad.changed = h, true
			if !a.changed {
				a.changed = true
				e.changedA = append(e.changedA, a)
			}
		}
	}
}

const fnvInit = uint64(14695981039346656037)

func fnvInt(h uint64, v int64) uint64 {
	for i := 0; i < 8; i++ {
		h = (h ^ uint64(byte(v>>(8*i)))) * 1099511628211
	}
	return h
}

func fnvStr(h uint64, s string) uint64 {
	h = fnvInt(h, int64(len(s)))
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func (e *Engine) applyAgent(ev *event.Event, part int32) addResult {
	k := entityKey{ev.CenterID, ev.AgentID}
	a := e.agents[k]
	if a == nil {
		a = &agent{center: ev.CenterID, id: ev.AgentID, evs: make([]aev, 0, 16), fromDay: minDay}
		e.agents[k] = a
	}
	if part != noPart {
		a.part = part
	}
	r := a.add(ev)
	if r == added || r == conflictWins {
		a.evented = true
		if !a.dirty {
			a.dirty = true
			e.dirtyA = append(e.dirtyA, a)
		}
	}
	return r
}

// This part is the agents' interface to a stream processor (see state.go
// for calls and tickets): each changed day of an agent is a row to store,
// an agent is loaded from a stored day on, and its old days are pruned.

// agentStates appends the rows of the agent's changed days.
func (e *Engine) agentStates(a *agent, fn func(*EntityState)) {
	var s EntityState
	for d, ad := range a.days {
		if !ad.changed {
			continue
		}
		ad.changed = false
		s = EntityState{Agent: true, CenterID: a.center, ID: a.id, Partition: a.part, Day: d, Events: ad.events,
			LastTS: ad.lastTS, Volatile: a.open, Carry: ad.carryIn.export(),
			Contribs: e.contributions(ad.contribs, make([]Contribution, len(ad.contribs)))}
		fn(&s)
		if ad.events == 0 {
			delete(a.days, d) // reported empty: the day's events moved (a conflicting duplicate won)
		}
	}
}

// AgentRange reports whether the engine holds the agent of an agent event
// and, if so, whether the event falls in what it holds: at or after its
// first held event (or anywhere, holding all its history). An event
// before it changes a day a store holds, which must be loaded first.
func (e *Engine) AgentRange(ev *event.Event) (held, within bool) {
	a := e.agents[entityKey{ev.CenterID, ev.AgentID}]
	if a == nil {
		return false, false
	}
	if a.fromDay == minDay {
		return true, true
	}
	first := int64(never)
	for i := range a.evs {
		first = min(first, a.evs[i].ts)
	}
	return true, ev.TS >= first
}

// LoadAgent restores an agent's days from fromDay on from its stored
// events, with its carry before them (the stored row of day fromDay's);
// fromDay minDay (MinDay) when the store holds no earlier day. Days it
// already holds keep their events (the stored ones are duplicates). The
// agent is evaluated at the next Advance, and its loaded days reported.
func (e *Engine) LoadAgent(center, id string, part int32, fromDay int64, c AgentCarry, recs []event.Record) {
	k := entityKey{center, id}
	a := e.agents[k]
	if a == nil {
		a = &agent{center: center, id: id, part: part, evs: make([]aev, 0, len(recs)+16), fromDay: never}
		e.agents[k] = a
	}
	if fromDay < a.fromDay {
		a.fromDay, a.carry = fromDay, c.carry()
	}
	for i := range recs {
		a.add(&recs[i].Event)
		e.maxTS = max(e.maxTS, recs[i].TS)
	}
	a.evented = true
	if !a.dirty {
		a.dirty = true
		e.dirtyA = append(e.dirtyA, a)
	}
}

// MinDay is the fromDay of LoadAgent for an agent loaded from its first
// stored event.
const MinDay = minDay

// pruneAgents forgets the days of agents whose rows are stored (report at
// most stored) before before or before yesterday (whole days; the latest
// kept while a session is open): an agent's events are many (a state
// change a minute or more), and a late event for a day forgotten reads it
// back. Whole agents with nothing recent and no open session are
// forgotten. It returns how many agents it forgot.
func (e *Engine) pruneAgents(before int64, stored uint64) int {
	n := 0
	for k, a := range e.agents {
		if a.dirty || a.changed || a.reported > stored || a.days == nil {
			continue
		}
		e.use(a.center)
		cut := max(before, e.dayOf(a, e.asOf)-24*3600_000)
		keep := int64(never) // the first day kept
		for i := range a.evs {
			if v := &a.evs[i]; v.ts >= cut {
				keep = min(keep, e.evDay(a, v))
			}
		}
		if keep == never && !a.open {
			e.store.apply(a.contribs, -1)
			e.noteDefects(a.center, &a.defects, 0)
			delete(e.agents, k)
			n++
			continue
		}
		if keep == never { // open, idle: keep its last day
			for i := range a.evs {
				keep = max(keep, e.evDay(a, &a.evs[i]))
			}
			if keep == never {
				continue
			}
		}
		if keep <= a.fromDay {
			continue
		}
		kept := a.evs[:0]
		for i := range a.evs {
			if e.evDay(a, &a.evs[i]) >= keep {
				kept = append(kept, a.evs[i])
			}
		}
		clear(a.evs[len(kept):])
		a.evs, a.ids = kept, nil
		if ad := a.days[keep]; ad != nil {
			a.carry = ad.carryIn
		}
		a.fromDay = keep
		e.store.apply(a.contribs, -1)
		a.contribs = a.contribs[:0]
		for d, ad := range a.days {
			if d < keep {
				delete(a.days, d)
				continue
			}
			a.contribs = append(a.contribs, ad.contribs...)
		}
		e.store.apply(a.contribs, +1)
	}
	return n
}

// DropAgents forgets the agents of the partitions for which owned reports
// false (a stream processor's revoked partitions), and returns how many.
func (e *Engine) DropAgents(owned func(part int32) bool) int {
	n := 0
	for k, a := range e.agents {
		if !owned(a.part) {
			e.store.apply(a.contribs, -1)
			e.noteDefects(a.center, &a.defects, 0)
			delete(e.openA, a)
			delete(e.agents, k)
			n++
		}
	}
	e.dirtyA = slices.DeleteFunc(e.dirtyA, func(a *agent) bool { return !owned(a.part) })
	e.changedA = slices.DeleteFunc(e.changedA, func(a *agent) bool { return !owned(a.part) })
	return n
}

// Agents returns how many agents the engine holds.
func (e *Engine) Agents() int { return len(e.agents) }

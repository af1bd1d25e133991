package indicator

import (
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
type agent struct {
	center, id string
	part       int32
	evs        []aev
	contribs   []contrib
	dirty      bool
	open       bool // a session open at the last evaluation: it grows with the evaluation time
	orphans    int  // state changes and logouts outside a session, at the last evaluation
	conflicts  uint16
}

// add takes e into the agent (see addResult).
func (a *agent) add(e *event.Event) addResult {
	v := aev{eid: e.ID, h: contentHash(e), ts: e.TS, typ: e.Type, state: e.State, reason: e.Reason, team: e.Team, queues: e.Queues}
	for i := range a.evs {
		o := &a.evs[i]
		if o.eid != v.eid {
			continue
		}
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
	a.evs = append(a.evs, v)
	return added
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
// and team, as of asOf. It reports whether a session is still open (its
// time grows with the evaluation time) and how many events fell outside
// any session (orphans: ignored).
func (e *Engine) agentWalk(a *agent, asOf int64, accs []agentAcc) (out []agentAcc, open bool, orphans int) {
	inOrder(a.evs, (*aev).less)
	timeout := e.p.SessionTimeout().Milliseconds()
	var (
		st   event.AgentState
		team string
		last int64 // the session's last event
	)
	for i := range a.evs {
		v := &a.evs[i]
		if v.ts > e.cutoff {
			break
		}
		if open {
			if v.ts-last >= timeout {
				open = false // ended at its last event
			} else {
				accs = e.span(accs, team, st, last, v.ts)
			}
		}
		switch v.typ {
		case event.AgentLoggedIn:
			open, st, last, team = true, v.state, v.ts, v.team
			if team == "" {
				team = e.p.AgentTeams[a.id]
			}
		case event.AgentStateChanged:
			if !open {
				orphans++
				continue
			}
			st, last = v.state, v.ts
		case event.AgentLoggedOut:
			if !open {
				orphans++
			}
			open = false
		}
	}
	if open {
		if asOf-last >= timeout {
			open = false
		} else {
			accs = e.span(accs, team, st, last, max(asOf, last))
		}
	}
	return accs, open, orphans
}

// span adds [from, to) in state st to the accumulators, split at the
// 15-minute bucket edges.
func (e *Engine) span(accs []agentAcc, team string, st event.AgentState, from, to int64) []agentAcc {
	for from < to {
		b := bucketOf(e.loc, from)
		end := min(to, b+bucketMs)
		i := len(accs) - 1
		for i >= 0 && accs[i].bucket == b && accs[i].team != team {
			i--
		}
		if i < 0 || accs[i].bucket != b {
			accs = append(accs, agentAcc{bucket: b, team: team})
			i = len(accs) - 1
		}
		accs[i].ms[st] += end - from
		from = end
	}
	return accs
}

// evalAgent re-derives an agent's contributions as of asOf.
func (e *Engine) evalAgent(a *agent, asOf int64) {
	e.use(a.center)
	old := e.before(a.contribs)
	e.store.apply(a.contribs, -1)
	accs, open, orphans := e.agentWalk(a, asOf, e.agentAccs[:0])
	e.agentAccs = accs
	out := a.contribs[:0]
	for i := range accs {
		acc := &accs[i]
		dims := e.dimsID(profile.Agents, a.center, a.id, acc.team)
		for _, ind := range cat.agents {
			if num, den, ok := cat.defs[ind].agent(&acc.ms); ok {
				out = e.put(out, ind, acc.bucket, dims, num, den)
			}
		}
	}
	a.contribs = out
	e.store.apply(a.contribs, +1)
	e.report(old, a.contribs)
	a.dirty, a.orphans = false, orphans
	if a.open = open; open {
		e.openA[a] = struct{}{}
	} else {
		delete(e.openA, a)
	}
}

func (e *Engine) applyAgent(ev *event.Event, part int32) addResult {
	k := entityKey{ev.CenterID, ev.AgentID}
	a := e.agents[k]
	if a == nil {
		a = &agent{center: ev.CenterID, id: ev.AgentID, evs: make([]aev, 0, 16)}
		e.agents[k] = a
	}
	if part != noPart {
		a.part = part
	}
	r := a.add(ev)
	if (r == added || r == conflictWins) && !a.dirty {
		a.dirty = true
		e.dirtyA = append(e.dirtyA, a)
	}
	return r
}

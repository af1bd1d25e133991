package sim

import "time"

// Agents (Config.Agents, revision 1.2): each agent signs in when its shift
// starts and out when it ends (after the call in hand, if any), takes two
// breaks and a meal (示忙) spread around fixed points of the shift, and is
// busy, in wrap-up, then ready around each call. An agent on a break takes
// no call; a break that falls during a call starts when it is wrapped up.

// pause is a planned break of a shift.
type pause struct {
	reason string
	dur    time.Duration
}

// shiftPauses are the breaks of a 12-hour shift, by their time after its
// start.
var shiftPauses = []struct {
	after time.Duration
	p     pause
}{
	{2 * time.Hour, pause{"break", 15 * time.Minute}},
	{5 * time.Hour, pause{"meal", 30 * time.Minute}},
	{9 * time.Hour, pause{"break", 15 * time.Minute}},
}

// changeShift signs in the agents whose shift starts and out those whose
// shift ends.
func (c *center) changeShift() {
	if !c.s.cfg.Agents {
		return
	}
	for _, q := range c.queues {
		for _, a := range q.agents {
			switch on := c.onShift(a); {
			case on && !a.in:
				c.signIn(a)
			case !on && a.in && a.busy:
				a.leaving = true
			case !on && a.in:
				c.signOut(a)
			}
		}
	}
}

func (c *center) signIn(a *agent) {
	s := c.s
	a.in, a.leaving, a.away, a.due = true, false, false, nil
	a.session++
	s.emit(wire{Type: "agent.logged_in", CenterID: c.cfg.ID, AgentID: a.id, Team: a.team(), Queues: []string{a.q.cfg.Name}})
	if c.cfg.Erlang > 0 {
		return // on duty without breaks
	}
	session := a.session
	for _, sp := range shiftPauses {
		p := sp.p
		if sp.p.reason == "meal" && s.chance(0.1) {
			p = pause{"training", 45 * time.Minute}
		}
		at := s.now + sp.after.Milliseconds() + s.uniform(-20*time.Minute, 20*time.Minute)
		s.at(at, func() {
			switch {
			case !a.in || a.session != session || a.away:
			case a.busy:
				a.due = &p
			default:
				c.startPause(a, p)
			}
		})
	}
}

func (c *center) signOut(a *agent) {
	a.in, a.leaving, a.away, a.due = false, false, false, nil
	c.s.emit(wire{Type: "agent.logged_out", CenterID: c.cfg.ID, AgentID: a.id})
}

func (c *center) startPause(a *agent, p pause) {
	s := c.s
	a.away, a.due = true, nil
	c.agentState(a, "not_ready", p.reason)
	session := a.session
	s.at(s.now+p.dur.Milliseconds(), func() {
		if !a.in || a.session != session {
			return
		}
		a.away = false
		c.agentState(a, "ready", "")
		a.q.dispatch()
	})
}

// agentState emits an agent's state change, with Config.Agents.
func (c *center) agentState(a *agent, state, reason string) {
	if c.s.cfg.Agents && a.in {
		c.s.emit(wire{Type: "agent.state_changed", CenterID: c.cfg.ID, AgentID: a.id, State: state, Reason: reason})
	}
}

// callDone frees the agent after a call's wrap-up: it signs out if its
// shift has ended, takes a break that fell due, or is ready again.
func (c *center) callDone(a *agent) {
	a.busy = false
	switch {
	case !c.s.cfg.Agents:
	case a.leaving:
		c.signOut(a)
	case a.due != nil:
		c.startPause(a, *a.due)
	default:
		c.agentState(a, "ready", "")
	}
	a.q.dispatch()
}

package sim

import (
	"fmt"
	"time"
)

// center runs one centre's calls and tickets.
type center struct {
	s      *Sim
	cfg    *Center
	queues []*queue
	depts  []*Department
	needs  *needs
}

type queue struct {
	c       *center
	cfg     Queue
	waiting []*call
	agents  []*agent
}

type agent struct {
	id    string
	q     *queue
	night bool // works 20:00–08:00
	busy  bool
	// With Config.Agents (agents.go): signed in, on a break (示忙), a
	// break due once the current call is wrapped up, signing out then.
	in, away bool
	due      *pause
	leaving  bool
	session  int // sign-ins so far: a break planned for an earlier shift is dropped
}

// team is the agent's team: the night shift is run by an outsourced
// operator (外包), as in many centres.
func (a *agent) team() string {
	if a.night {
		return "outsourced-night"
	}
	return "in-house"
}

type call struct {
	id       string
	q        *queue
	offered  int64
	answered bool
	gone     bool   // abandoned or answered: no longer waiting
	caller   string // the caller's number (the simulator's own; hashed downstream)
}

func newCenter(s *Sim, cfg *Center) *center {
	c := &center{s: s, cfg: cfg, needs: newNeeds()}
	for i := range cfg.Departments {
		c.depts = append(c.depts, &cfg.Departments[i])
	}
	n := 0
	for _, qc := range cfg.Queues {
		q := &queue{c: c, cfg: qc}
		for i := range qc.DayAgents + qc.NightAgents {
			n++
			q.agents = append(q.agents, &agent{id: fmt.Sprintf("%s-a%03d", cfg.ID, n), q: q, night: i >= qc.DayAgents && cfg.Erlang == 0})
		}
		c.queues = append(c.queues, q)
	}
	return c
}

func (c *center) start() {
	if c.cfg.Erlang > 0 {
		c.s.poissonFlat(c.cfg.PeakCallsPerHour, c.arrive)
	} else {
		c.s.poisson(c.cfg.PeakCallsPerHour, c.arrive)
		c.s.poisson(c.cfg.WrittenPerHour, c.written)
	}
	// Agents come on shift at 08:00 and 20:00 and pick up waiting calls.
	var shift func()
	shift = func() {
		c.changeShift()
		for _, q := range c.queues {
			q.dispatch()
		}
		c.s.at(c.nextShiftChange(), shift)
	}
	c.s.at(c.s.now, shift)
}

func (c *center) nextShiftChange() int64 {
	t := time.UnixMilli(c.s.now).In(c.s.cal.Location())
	for _, h := range []int{8, 20, 32} {
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()).Add(time.Duration(h) * time.Hour)
		if d.After(t) {
			return d.UnixMilli()
		}
	}
	return c.s.now + 12*3600_000
}

func (c *center) onShift(a *agent) bool {
	if c.cfg.Erlang > 0 {
		return true
	}
	h := time.UnixMilli(c.s.now).In(c.s.cal.Location()).Hour()
	day := h >= 8 && h < 20
	return day != a.night
}

// arrive is a call reaching the hotline.
func (c *center) arrive() {
	s := c.s
	k := &call{id: s.nextID("k")}
	s.truth.CallsArrived++
	k.caller = c.caller(fmt.Sprintf("1%02d%08d", 30+s.rng.IntN(60), s.rng.IntN(100_000_000)))
	s.emit(wire{Type: "call.arrived", CenterID: c.cfg.ID, CallID: k.id, Channel: "voice", Caller: k.caller})
	if c.cfg.Erlang > 0 {
		c.pickQueue().enter(k) // no IVR
		return
	}
	ivr := s.uniform(8*time.Second, 45*time.Second)
	if s.chance(0.18) { // served by the IVR, or hung up there
		s.at(s.now+ivr, func() {
			s.truth.IVROnly++
			s.emit(wire{Type: "call.abandoned", CenterID: c.cfg.ID, CallID: k.id})
		})
		return
	}
	s.at(s.now+ivr, func() { c.pickQueue().enter(k) })
}

func (c *center) pickQueue() *queue {
	r := c.s.rng.Float64()
	for _, q := range c.queues {
		if r < q.cfg.Share {
			return q
		}
		r -= q.cfg.Share
	}
	return c.queues[0]
}

// enter puts a call in the queue (转人工): it is offered.
func (q *queue) enter(k *call) {
	s := q.c.s
	k.q, k.offered = q, s.now
	s.truth.CallsOffered++
	s.emit(wire{Type: "call.queued", CenterID: q.c.cfg.ID, CallID: k.id, Queue: q.cfg.Name})
	q.waiting = append(q.waiting, k)
	if q.c.cfg.Erlang > 0 {
		q.dispatch() // infinite patience
		return
	}
	patience := s.lognormal(70*time.Second, 0.9)
	s.at(s.now+patience, func() {
		if k.gone {
			return
		}
		k.gone = true
		q.remove(k)
		s.truth.CallsAbandoned++
		s.emit(wire{Type: "call.abandoned", CenterID: q.c.cfg.ID, CallID: k.id, Queue: q.cfg.Name})
		q.c.abandoned(k.caller)
	})
	q.dispatch()
}

func (q *queue) remove(k *call) {
	for i, w := range q.waiting {
		if w == k {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			return
		}
	}
}

// dispatch gives waiting calls to free agents on shift, first come first
// served.
func (q *queue) dispatch() {
	for len(q.waiting) > 0 {
		a := q.freeAgent()
		if a == nil {
			return
		}
		k := q.waiting[0]
		q.waiting = q.waiting[1:]
		k.gone = true
		q.answer(a, k)
	}
}

func (q *queue) freeAgent() *agent {
	for _, a := range q.agents {
		if !a.busy && !a.away && q.c.onShift(a) && (a.in || !q.c.s.cfg.Agents) {
			return a
		}
	}
	return nil
}

// answer runs a conversation: talk, perhaps a hold or a transfer to a
// department, the end, wrap-up, a rating, perhaps a ticket.
func (q *queue) answer(a *agent, k *call) {
	s, c := q.c.s, q.c
	a.busy = true
	k.answered = true
	s.truth.CallsAnswered++
	if s.now-k.offered <= 15_000 {
		s.truth.AnsweredWithin15s++
	}
	s.emit(wire{Type: "call.answered", CenterID: c.cfg.ID, CallID: k.id, AgentID: a.id, Queue: q.cfg.Name, Team: a.team()})
	c.agentState(a, "busy", "")
	if c.cfg.Erlang > 0 {
		s.at(s.now+s.exp(c.cfg.Erlang), func() {
			s.emit(wire{Type: "call.ended", CenterID: c.cfg.ID, CallID: k.id, EndedBy: "caller"})
			s.emit(wire{Type: "call.wrapup_ended", CenterID: c.cfg.ID, CallID: k.id, AgentID: a.id})
			c.callDone(a)
		})
		return
	}
	talk := max(s.lognormal(200*time.Second, 0.6), 20_000)
	if s.chance(0.15) {
		at := s.now + talk/3
		hold := s.uniform(20*time.Second, 120*time.Second)
		s.at(at, func() { s.emit(wire{Type: "call.held", CenterID: c.cfg.ID, CallID: k.id, AgentID: a.id}) })
		s.at(at+hold, func() { s.emit(wire{Type: "call.retrieved", CenterID: c.cfg.ID, CallID: k.id, AgentID: a.id}) })
		talk += hold
	}
	if s.chance(0.04) {
		dept := c.depts[s.rng.IntN(len(c.depts))].ID
		s.at(s.now+talk/2, func() {
			s.emit(wire{Type: "call.transferred", CenterID: c.cfg.ID, CallID: k.id, ToDepartmentID: dept})
		})
	}
	s.at(s.now+talk, func() {
		by := "caller"
		if s.chance(0.3) {
			by = "agent"
		}
		s.emit(wire{Type: "call.ended", CenterID: c.cfg.ID, CallID: k.id, EndedBy: by})
		c.agentState(a, "wrapup", "")
		rated := s.chance(0.6)
		if rated {
			s.at(s.now+s.uniform(5*time.Second, 40*time.Second), func() {
				r := c.rating(0.985)
				s.emit(wire{Type: "call.rated", CenterID: c.cfg.ID, CallID: k.id, Rating: r})
				c.inspectCall(k.id, a.id, r == "dissatisfied" || r == "very_dissatisfied")
			})
		} else {
			c.inspectCall(k.id, a.id, false)
		}
		wrap := s.uniform(20*time.Second, 90*time.Second)
		s.at(s.now+wrap, func() {
			s.emit(wire{Type: "call.wrapup_ended", CenterID: c.cfg.ID, CallID: k.id, AgentID: a.id})
			if s.chance(c.cfg.TicketFromCall) {
				c.newTicket("voice", k.id, k.caller)
			}
			c.callDone(a)
		})
	})
}

// rating draws a rating: satisfied (in the default satisfied set) with
// probability p.
func (c *center) rating(p float64) string {
	s := c.s
	if s.chance(p) {
		return []string{"very_satisfied", "satisfied", "satisfied", "basically_satisfied"}[s.rng.IntN(4)]
	}
	return []string{"dissatisfied", "dissatisfied", "very_dissatisfied"}[s.rng.IntN(3)]
}

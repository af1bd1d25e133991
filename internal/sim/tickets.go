package sim

import (
	"fmt"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

var categories = []struct {
	name   string
	weight float64
	intake float64 // share answered by the hotline itself (一次办结)
}{
	{"consultation", 0.35, 0.98}, {"help", 0.2, 0.9}, {"complaint", 0.25, 0.82},
	{"report", 0.08, 0.75}, {"suggestion", 0.08, 0.95}, {"praise", 0.04, 0.99},
}

var writtenChannels = []string{"sms", "web", "wechat", "app", "email"}

// ticket is one ticket's lifecycle as the simulation decides it.
type ticket struct {
	id        string
	category  string
	urgent    bool
	due       int64 // resolve deadline of the clock's dispatch, 0 before
	replied   int64
	firstDisp int64
	respond   int64 // when the written first response goes out, 0 for none
}

// closeAt is when a ticket whose closure is due after delay may close:
// not before its written first response.
func (t *ticket) closeAt(now, delay int64) int64 {
	if t.respond > 0 {
		return max(now+delay, t.respond+60_000)
	}
	return now + delay
}

// written is a request arriving on a written channel.
func (c *center) written() {
	s := c.s
	ch := writtenChannels[s.rng.IntN(len(writtenChannels))]
	t := c.newTicket(ch, "", c.caller(fmt.Sprintf("1%02d%08d", 30+s.nd.IntN(60), s.nd.IntN(100_000_000))))
	limit := 3 * time.Minute
	if ch == "email" {
		limit = 24 * time.Hour
	}
	delay := s.uniform(limit/10, limit*9/10)
	if s.chance(0.03) {
		delay = s.uniform(limit, limit*3)
	}
	t.respond = s.now + delay
	s.at(t.respond, func() {
		s.emit(wire{Type: "ticket.responded", CenterID: c.cfg.ID, TicketID: t.id})
	})
}

// newTicket registers a request (受理) and runs its lifecycle.
func (c *center) newTicket(channel, callID, caller string) *ticket {
	s := c.s
	cat, r := categories[len(categories)-1], s.rng.Float64()
	for _, ct := range categories {
		if r < ct.weight {
			cat = ct
			break
		}
		r -= ct.weight
	}
	t := &ticket{id: s.nextID("t"), category: cat.name, urgent: s.chance(0.04)}
	urgency := "normal"
	if t.urgent {
		urgency = "urgent"
	}
	s.truth.TicketsCreated++
	topic, area := c.topic(caller)
	s.emit(wire{Type: "ticket.created", CenterID: c.cfg.ID, TicketID: t.id, Category: cat.name,
		Urgency: urgency, Channel: channel, CallID: callID, Caller: caller, Topic: topic, Area: area})
	if s.chance(cat.intake * c.intakeFactor()) {
		s.truth.TicketsResolvedOnIntake++
		s.at(s.now+s.uniform(time.Minute, 10*time.Minute), func() {
			s.emit(wire{Type: "ticket.resolved_on_intake", CenterID: c.cfg.ID, TicketID: t.id})
			s.at(t.closeAt(s.now, s.uniform(time.Minute, 30*time.Minute)), func() {
				s.emit(wire{Type: "ticket.closed", CenterID: c.cfg.ID, TicketID: t.id})
				c.inspectTicket(t.id, "")
				c.callback(t, 0.95, 0.99)
			})
		})
		return t
	}
	c.dispatchLater(t, nil)
	return t
}

// intakeFactor scales the share of requests answered on intake.
func (c *center) intakeFactor() float64 {
	if c.cfg.IntakeFactor > 0 {
		return c.cfg.IntakeFactor
	}
	return 1
}

// dispatchLater sends the ticket to a department after the centre's
// triage delay; at night it waits for the morning shift. avoid is the
// department that returned it, if any.
func (c *center) dispatchLater(t *ticket, avoid *Department) {
	s := c.s
	delay := s.uniform(10*time.Minute, 5*time.Hour)
	if t.urgent {
		delay = s.uniform(5*time.Minute, 50*time.Minute)
	} else if h := time.UnixMilli(s.now).In(s.cal.Location()).Hour(); h >= 20 || h < 7 {
		delay += s.uniform(8*time.Hour, 10*time.Hour)
	}
	s.at(s.now+delay, func() {
		d := c.depts[s.rng.IntN(len(c.depts))]
		for d == avoid && len(c.depts) > 1 {
			d = c.depts[s.rng.IntN(len(c.depts))]
		}
		c.handle(t, d)
	})
}

// handle is one department's work on a ticket.
func (c *center) handle(t *ticket, d *Department) {
	s := c.s
	s.emit(wire{Type: "ticket.dispatched", CenterID: c.cfg.ID, TicketID: t.id, DepartmentID: d.ID})
	if t.firstDisp == 0 {
		t.firstDisp = s.now
		s.truth.TicketsDispatched++
		t.due = c.resolveDue(t)
		s.truth.due(t)
	} else if s.latestClock && t.replied == 0 {
		t.due = c.resolveDue(t) // a re-dispatch starts a new clock
	}
	scale := 1.0
	if t.urgent {
		scale = 0.1
	}
	accept := s.now + int64(float64(s.exp(time.Duration(d.AcceptHours*float64(time.Hour))))*scale)
	s.at(accept, func() {
		s.emit(wire{Type: "ticket.accepted", CenterID: c.cfg.ID, TicketID: t.id, DepartmentID: d.ID})
		if s.chance(d.ReturnRate) {
			s.at(s.now+s.uniform(10*time.Minute, 3*time.Hour), func() {
				s.emit(wire{Type: "ticket.returned", CenterID: c.cfg.ID, TicketID: t.id, DepartmentID: d.ID, Reason: "非本单位职责"})
				c.dispatchLater(t, d)
			})
			return
		}
		contact := s.now + int64(float64(s.exp(time.Duration(d.ContactHours*float64(time.Hour))))*scale)
		s.at(contact, func() {
			s.emit(wire{Type: "ticket.contacted", CenterID: c.cfg.ID, TicketID: t.id, DepartmentID: d.ID})
		})
		work := s.rng.ExpFloat64()*0.6*d.ResolveWorkdays + 0.4*d.ResolveWorkdays
		reply := s.cal.AddWorkingMillis(s.now, int64(work*float64(scale)*86_400_000))
		s.at(max(reply, contact+60_000), func() { c.reply(t, d) }) // the citizen is contacted before the reply
	})
}

// reply finishes handling: reply, close, call back, perhaps reopen.
func (c *center) reply(t *ticket, d *Department) {
	s := c.s
	s.emit(wire{Type: "ticket.replied", CenterID: c.cfg.ID, TicketID: t.id, DepartmentID: d.ID})
	if t.replied == 0 {
		t.replied = s.now
		s.truth.replied(t)
	}
	s.at(t.closeAt(s.now, s.uniform(time.Hour, 20*time.Hour)), func() {
		s.emit(wire{Type: "ticket.closed", CenterID: c.cfg.ID, TicketID: t.id})
		c.inspectTicket(t.id, d.ID)
		resolve := 0.985
		if d.ResolveWorkdays > 2.8 { // a slow department resolves less
			resolve = 0.93
		}
		c.callback(t, 0.97, resolve)
	})
}

// callback calls the citizen back after a ticket closed: reached with
// probability reach, the request resolved with probability resolve, a
// rating after that; an unresolved ticket may be reopened.
func (c *center) callback(t *ticket, reach, resolve float64) {
	s := c.s
	s.at(s.now+s.uniform(2*time.Hour, 24*time.Hour), func() {
		if !s.chance(reach) {
			s.emit(wire{Type: "ticket.callback", CenterID: c.cfg.ID, TicketID: t.id, Reached: ptr(false)})
			return
		}
		resolved := s.chance(resolve)
		rating := c.rating(0.995)
		if !resolved {
			rating = c.rating(0.4)
		}
		s.emit(wire{Type: "ticket.callback", CenterID: c.cfg.ID, TicketID: t.id, Reached: ptr(true),
			Resolved: ptr(resolved), Rating: rating})
		if !resolved && s.chance(0.5) {
			s.at(s.now+s.uniform(time.Hour, 6*time.Hour), func() {
				s.emit(wire{Type: "ticket.reopened", CenterID: c.cfg.ID, TicketID: t.id, Reason: "回访未解决"})
			})
		}
	})
}

// resolveDue is the resolve deadline of a dispatch made now under
// the profile's rules, for the ground truth.
func (c *center) resolveDue(t *ticket) int64 {
	urg := event.UrgencyNormal
	if t.urgent {
		urg = event.UrgencyUrgent
	}
	var cat event.Category
	for v := event.CategoryConsultation; v <= event.CategoryPraise; v++ {
		if v.String() == t.category {
			cat = v
		}
	}
	l := c.s.rules.ResolveLimit(cat, urg)
	switch l.Unit {
	case event.UnitWorkdays:
		return c.s.cal.AddWorkdays(c.s.now, l.Amount)
	case event.UnitHours:
		return c.s.now + int64(l.Amount)*3600_000
	default:
		return c.s.now + int64(l.Amount)*60_000
	}
}

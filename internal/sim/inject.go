package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// Records faults (assessment.md, records audit). With Config.Inject, the
// simulation adds calls and tickets whose history has one fault each, of a
// known class, at a known rate. Each is a plausible history with that one
// fault and no other, so that an audit of the output must find exactly the
// injected ones beside what the natural traffic shows. Injection draws from
// its own random stream and numbers its own ids ("x…"), so the natural
// traffic is the same event for event with or without it.

// injector adds the faulty calls and tickets of one run.
type injector struct {
	s   *Sim
	rng *rand.Rand
	ids int
	// found: class → the ids whose fault is in the output.
	found map[indicator.Defect]map[string]bool
	// later: faults that show only if the run lasts long enough (an
	// answer a day without an end, a deadline passed without a reply),
	// checked when it ends.
	later []pending
}

type pending struct {
	d       indicator.Defect
	id      string
	showsAt int64 // the fault shows in an audit as of a time after this
}

// injectable are the classes the simulation can inject.
var injectable = []indicator.Defect{
	indicator.DefectTicketWithoutCreated, indicator.DefectWorkWithoutDispatch, indicator.DefectClosedWithoutReply,
	indicator.DefectEventsAfterClose, indicator.DefectOverdueWithoutReply, indicator.DefectCallWithoutQueue,
	indicator.DefectAnswerWithoutEnd, indicator.DefectImpossibleOrder, indicator.DefectConflicting,
	indicator.DefectEvaluatedUnanswered,
}

// InjectableClasses returns the ids of the classes Config.Inject takes.
func InjectableClasses() []string {
	out := make([]string, len(injectable))
	for i, d := range injectable {
		out[i] = d.String()
	}
	return out
}

func validateInject(m map[string]float64) error {
	for k, v := range m {
		d, ok := indicator.DefectOf(k)
		if !ok || !slices.Contains(injectable, d) {
			return fmt.Errorf("inject: unknown class %q (want one of %v)", k, InjectableClasses())
		}
		if v < 0 {
			return fmt.Errorf("inject: %s: rate %g is negative", k, v)
		}
	}
	return nil
}

func newInjector(s *Sim) *injector {
	return &injector{s: s, rng: rand.New(rand.NewPCG(s.cfg.Seed, 0xfa17)), found: map[indicator.Defect]map[string]bool{}}
}

// start schedules the faults of centre c: each class arrives as a Poisson
// process at its rate per day, in sorted class order for a stable run.
func (in *injector) start(c *center) {
	keys := make([]string, 0, len(in.s.cfg.Inject))
	for k := range in.s.cfg.Inject {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rate := in.s.cfg.Inject[k]
		if rate <= 0 {
			continue
		}
		d, _ := indicator.DefectOf(k)
		var next func()
		next = func() {
			gap := int64(in.rng.ExpFloat64() * 86_400_000 / rate)
			in.s.at(in.s.now+gap, func() {
				in.flow(c, d)
				next()
			})
		}
		next()
	}
}

// span is how long a flow's events take; a flow starts only if they all
// fit in the run, so that none is cut short into another fault.
const flowSpan = 4 * time.Hour

func (in *injector) id(prefix string) string {
	in.ids++
	return "x" + prefix + itoa(in.s.cfg.Seed) + "-" + itoa(uint64(in.ids))
}

func (in *injector) record(d indicator.Defect, id string) {
	if in.found[d] == nil {
		in.found[d] = map[string]bool{}
	}
	in.found[d][id] = true
}

// emit sends w now under a new event id, and returns the id.
func (in *injector) emit(w wire) string {
	w.EventID = in.id("ev-")
	in.s.send(w, true)
	return w.EventID
}

// after runs fn d after now.
func (in *injector) after(d time.Duration, fn func()) { in.s.at(in.s.now+d.Milliseconds(), fn) }

// flow emits one call or ticket with a fault of class d.
func (in *injector) flow(c *center, d indicator.Defect) {
	s := in.s
	if s.now+flowSpan.Milliseconds() >= s.end {
		return
	}
	ct := c.cfg.ID
	agent := c.queues[0].agents[0].id
	queue := c.queues[0].cfg.Name
	dept := c.depts[0].ID
	switch d {
	case indicator.DefectCallWithoutQueue: // the CTI lost the arrival and the queueing
		k := in.id("k")
		in.emit(wire{Type: "call.answered", CenterID: ct, CallID: k, AgentID: agent, Queue: queue})
		in.record(d, k)
		in.after(3*time.Minute, func() { in.emit(wire{Type: "call.ended", CenterID: ct, CallID: k, EndedBy: "caller"}) })
	case indicator.DefectAnswerWithoutEnd: // the end never came
		k := in.id("k")
		in.emit(wire{Type: "call.arrived", CenterID: ct, CallID: k, Channel: "voice"})
		in.after(20*time.Second, func() {
			in.emit(wire{Type: "call.queued", CenterID: ct, CallID: k, Queue: queue})
			in.after(10*time.Second, func() {
				in.emit(wire{Type: "call.answered", CenterID: ct, CallID: k, AgentID: agent, Queue: queue})
				in.later = append(in.later, pending{d: d, id: k, showsAt: s.now + 24*3600_000})
			})
		})
	case indicator.DefectImpossibleOrder: // answered before it was queued (clocks out of step)
		k := in.id("k")
		in.emit(wire{Type: "call.arrived", CenterID: ct, CallID: k, Channel: "voice"})
		in.after(20*time.Second, func() {
			in.emit(wire{Type: "call.answered", CenterID: ct, CallID: k, AgentID: agent, Queue: queue})
			in.after(5*time.Second, func() {
				in.emit(wire{Type: "call.queued", CenterID: ct, CallID: k, Queue: queue})
				in.record(d, k)
				in.after(3*time.Minute, func() { in.emit(wire{Type: "call.ended", CenterID: ct, CallID: k, EndedBy: "agent"}) })
			})
		})
	case indicator.DefectConflicting: // one event_id sent twice with another time
		k := in.id("k")
		in.emit(wire{Type: "call.arrived", CenterID: ct, CallID: k, Channel: "voice"})
		in.after(20*time.Second, func() {
			in.emit(wire{Type: "call.queued", CenterID: ct, CallID: k, Queue: queue})
			in.after(10*time.Second, func() {
				in.emit(wire{Type: "call.answered", CenterID: ct, CallID: k, AgentID: agent, Queue: queue})
				in.after(3*time.Minute, func() {
					end := wire{Type: "call.ended", CenterID: ct, CallID: k, EndedBy: "caller"}
					end.EventID = in.emit(end)
					in.after(time.Second, func() {
						s.send(end, false) // the same event_id, a second later: not a new event
						in.record(d, k)
					})
				})
			})
		})
	case indicator.DefectEvaluatedUnanswered: // an inspector scored a call nobody answered (a wrong call id)
		k := in.id("k")
		in.emit(wire{Type: "call.queued", CenterID: ct, CallID: k, Queue: queue})
		in.after(40*time.Second, func() {
			in.emit(wire{Type: "call.abandoned", CenterID: ct, CallID: k, Queue: queue})
			in.after(time.Hour, func() {
				in.emit(wire{Type: "call.evaluated", CenterID: ct, CallID: k, EvaluationID: in.id("v"), Form: "voice-2026",
					Score: ptr(90.0), MaxScore: ptr(100.0), Evaluator: "qa-1"})
				in.record(d, k)
			})
		})
	case indicator.DefectTicketWithoutCreated: // the intake record is missing
		t := in.id("t")
		in.emit(wire{Type: "ticket.dispatched", CenterID: ct, TicketID: t, DepartmentID: dept})
		in.after(time.Hour, func() {
			in.emit(wire{Type: "ticket.accepted", CenterID: ct, TicketID: t, DepartmentID: dept})
			in.after(time.Hour, func() {
				in.emit(wire{Type: "ticket.replied", CenterID: ct, TicketID: t, DepartmentID: dept})
				in.record(d, t)
				in.after(time.Hour, func() { in.emit(wire{Type: "ticket.closed", CenterID: ct, TicketID: t}) })
			})
		})
	case indicator.DefectWorkWithoutDispatch: // worked on, but the dispatch was never recorded
		t := in.id("t")
		in.emit(wire{Type: "ticket.created", CenterID: ct, TicketID: t, Category: "help", Urgency: "normal", Channel: "web"})
		in.after(10*time.Minute, func() {
			in.emit(wire{Type: "ticket.accepted", CenterID: ct, TicketID: t, DepartmentID: dept})
			in.record(d, t)
			in.after(10*time.Minute, func() {
				in.emit(wire{Type: "ticket.replied", CenterID: ct, TicketID: t, DepartmentID: dept})
				in.after(time.Hour, func() { in.emit(wire{Type: "ticket.closed", CenterID: ct, TicketID: t}) })
			})
		})
	case indicator.DefectClosedWithoutReply: // closed with no answer to the citizen
		t := in.id("t")
		in.emit(wire{Type: "ticket.created", CenterID: ct, TicketID: t, Category: "help", Urgency: "normal", Channel: "web"})
		in.after(10*time.Minute, func() {
			in.emit(wire{Type: "ticket.dispatched", CenterID: ct, TicketID: t, DepartmentID: dept})
			in.after(time.Hour, func() {
				in.emit(wire{Type: "ticket.accepted", CenterID: ct, TicketID: t, DepartmentID: dept})
				in.after(time.Hour, func() {
					in.emit(wire{Type: "ticket.closed", CenterID: ct, TicketID: t})
					in.record(d, t)
				})
			})
		})
	case indicator.DefectEventsAfterClose: // worked on after it was closed
		t := in.id("t")
		in.emit(wire{Type: "ticket.created", CenterID: ct, TicketID: t, Category: "help", Urgency: "normal", Channel: "web"})
		in.after(10*time.Minute, func() {
			in.emit(wire{Type: "ticket.dispatched", CenterID: ct, TicketID: t, DepartmentID: dept})
			in.after(time.Hour, func() {
				in.emit(wire{Type: "ticket.replied", CenterID: ct, TicketID: t, DepartmentID: dept})
				in.after(time.Hour, func() {
					in.emit(wire{Type: "ticket.closed", CenterID: ct, TicketID: t})
					in.after(time.Hour, func() {
						in.emit(wire{Type: "ticket.contacted", CenterID: ct, TicketID: t, DepartmentID: dept})
						in.record(d, t)
					})
				})
			})
		})
	case indicator.DefectOverdueWithoutReply: // the department never answers
		tk := &ticket{id: in.id("t"), category: "help"}
		in.emit(wire{Type: "ticket.created", CenterID: ct, TicketID: tk.id, Category: "help", Urgency: "normal", Channel: "web"})
		in.after(10*time.Minute, func() {
			in.emit(wire{Type: "ticket.dispatched", CenterID: ct, TicketID: tk.id, DepartmentID: dept})
			in.later = append(in.later, pending{d: d, id: tk.id, showsAt: c.resolveDue(tk)})
		})
	}
}

// finish records the faults that show by the end of the run.
func (in *injector) finish(end int64) map[string][]string {
	for _, p := range in.later {
		if p.showsAt < end {
			in.record(p.d, p.id)
		}
	}
	out := map[string][]string{}
	for d, ids := range in.found {
		for id := range ids {
			out[d.String()] = append(out[d.String()], id)
		}
		sort.Strings(out[d.String()])
	}
	return out
}

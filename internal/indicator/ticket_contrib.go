package indicator

import (
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// ticketEval collects one ticket's contributions as of an evaluation time.
type ticketEval struct {
	e    *Engine
	t    *ticket
	f    *ticketFact
	asOf int64
	out  []contrib
	wake int64 // earliest undecided deadline, 0 when none
	due  int64 // the resolve deadline, 0 when not dispatched

	lastDept string
	lastDims uint32
	haveDims bool
	topic    [4]string // topic_l1, topic_l2, topic, area
}

func (ev *ticketEval) dims(dept string) uint32 {
	if ev.haveDims && dept == ev.lastDept {
		return ev.lastDims
	}
	f := ev.f
	tp := &ev.topic
	ev.lastDims = ev.e.dimsID(profile.Tickets, ev.t.center, dept, f.category.String(), f.channel.String(), f.urgency.String(),
		tp[0], tp[1], tp[2], tp[3])
	ev.lastDept, ev.haveDims = dept, true
	return ev.lastDims
}

// at attributes ind to instant ts and the department holding the ticket then.
func (ev *ticketEval) at(ind id, ts int64, num, den int64) {
	ev.out = ev.e.put(ev.out, ind, ts, ev.dims(ev.f.holder(ts)), num, den)
}

// limit counts a time limit once it is decided: the action happened (on
// time if at or before the deadline), or the deadline passed without it.
// Until then it only sets when the ticket must be looked at again.
func (ev *ticketEval) limit(ind id, anchor int64, dims uint32, deadline, actionTS int64) {
	switch {
	case actionTS != 0:
		ev.out = ev.e.put(ev.out, ind, anchor, dims, b2i(actionTS <= deadline), 1)
	case deadline < ev.asOf:
		ev.out = ev.e.put(ev.out, ind, anchor, dims, 0, 1)
	default:
		ev.wakeAt(deadline)
	}
}

func (ev *ticketEval) wakeAt(ts int64) {
	if ev.wake == 0 || ts < ev.wake {
		ev.wake = ts
	}
}

// ticketContribs evaluates a ticket as of asOf: each ticket indicator of
// the catalogue adds its contributions.
func (e *Engine) ticketContribs(t *ticket, f *ticketFact, asOf int64, out []contrib) (contribs []contrib, wake int64, due int64, volatile bool) {
	ev := &e.ticketEval // reused: the catalogue's functions are called indirectly
	*ev = ticketEval{e: e, t: t, f: f, asOf: asOf, out: out}
	l1, l2, code, _ := e.p.TopicTable.Levels(f.topic)
	ev.topic = [4]string{l1, l2, code, f.area}
	if len(f.dispatches) > 0 {
		ev.due, volatile = e.resolveDeadline(f, asOf)
	}
	for _, ind := range cat.tickets {
		cat.defs[ind].ticket(ev, ind)
	}
	contribs, wake, due = ev.out, ev.wake, ev.due
	t.state.topicDims = ev.topic
	*ev = ticketEval{} // holds no ticket between evaluations
	return contribs, wake, due, volatile
}

// dispatchTimeliness counts a ticket's first dispatch against the dispatch
// limit from its creation; a created ticket without a dispatch counts once
// the limit passes (decision 3).
func (ev *ticketEval) dispatchTimeliness(ind id) {
	f := ev.f
	if !f.created {
		return
	}
	limit := ev.e.addLimit(f.createdTS, ev.e.p.Deadlines.Dispatch.For(f.urgency))
	if len(f.dispatches) == 0 {
		ev.undispatched(ind, limit)
		return
	}
	d := &f.dispatches[0]
	ev.out = ev.e.put(ev.out, ind, d.ts, ev.dims(d.dept), b2i(d.ts <= limit), 1)
}

// undispatched counts a created ticket that has no dispatch against its
// dispatch limit (decision 3): late once the limit passes unless it was
// resolved on intake or closed by then, anchored at the limit.
func (ev *ticketEval) undispatched(ind id, limit int64) {
	f := ev.f
	settled := min(nonZero(f.resolvedOnIntake), nonZero(f.closeTS))
	switch {
	case settled <= limit:
		// resolved on intake or closed without dispatch: not in the rate
	case limit < ev.asOf:
		ev.at(ind, limit, 0, 1)
	default:
		ev.wakeAt(limit)
	}
}

// earliest returns the earlier of two instants, 0 meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// nonZero maps "none" (0) to never, for min.
func nonZero(ts int64) int64 {
	if ts == 0 {
		return never
	}
	return ts
}

// onTimeClosure counts a dispatched ticket against its resolve deadline:
// in the window of its reply (window_by: reply) or of its deadline, once
// decided, by the department holding it then.
func (ev *ticketEval) onTimeClosure(ind id) {
	f := ev.f
	if len(f.dispatches) == 0 {
		return
	}
	if ev.e.rules.closureByReply {
		if f.replyTS != 0 {
			ev.at(ind, f.replyTS, b2i(f.replyTS <= ev.due), 1)
		}
		return
	}
	ev.limit(ind, ev.due, ev.dims(f.holder(ev.due)), ev.due, f.replyTS)
}

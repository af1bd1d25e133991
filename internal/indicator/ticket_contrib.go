package indicator

import (
	"github.com/hotlineqc/hotlineqc/internal/event"
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

	lastDept string
	lastDims uint32
	haveDims bool
}

func (ev *ticketEval) dims(dept string) uint32 {
	if ev.haveDims && dept == ev.lastDept {
		return ev.lastDims
	}
	f := ev.f
	ev.lastDims = ev.e.dimsID(profile.Tickets, ev.t.center, dept, f.category.String(), f.channel.String(), f.urgency.String())
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

// ticketContribs evaluates a ticket as of asOf.
func (e *Engine) ticketContribs(t *ticket, f *ticketFact, asOf int64, out []contrib) (contribs []contrib, wake int64, due int64, volatile bool) {
	ev := &ticketEval{e: e, t: t, f: f, asOf: asOf, out: out}
	dl := &e.p.Deadlines
	if f.created {
		ev.at(ticketsCreated, f.createdTS, 1, 0)
		ev.at(firstContactResolution, f.createdTS, b2i(f.resolvedOnIntake != 0), 1)
		if l, ok := e.p.WrittenLimit(f.channel); ok && f.channel.Written() {
			ev.limit(writtenResponseTimeliness, f.createdTS, ev.dims(f.holder(f.createdTS)), e.addLimit(f.createdTS, l), f.respondedTS)
		}
	}
	if f.created && len(f.dispatches) == 0 {
		ev.undispatched(e.addLimit(f.createdTS, dl.Dispatch.For(f.urgency)))
	}
	for i := range f.dispatches {
		d := &f.dispatches[i]
		dims := ev.dims(d.dept)
		if i == 0 && f.created {
			ev.out = e.put(ev.out, dispatchTimeliness, d.ts, dims, b2i(d.ts <= e.addLimit(f.createdTS, dl.Dispatch.For(f.urgency))), 1)
		}
		// A return answers the dispatch: returned by the accept limit, it was
		// accepted on time (decision 2).
		ev.limit(acceptanceTimeliness, d.ts, dims, e.addLimit(d.ts, dl.Accept.For(f.urgency)), earliest(d.acceptTS, d.returnTS))
		if d.returnTS == 0 || (d.contactTS != 0 && d.contactTS <= d.returnTS) {
			// returned before any contact: not in the response rate
			ev.limit(responseTimeliness, d.ts, dims, e.addLimit(d.ts, dl.Contact.For(f.urgency)), d.contactTS)
		}
		ev.out = e.put(ev.out, returnRate, d.ts, dims, b2i(d.returnTS != 0), 1)
	}
	if len(f.dispatches) > 0 {
		due, volatile = e.resolveDeadline(f, asOf)
		e.closure(ev, due)
	}
	if f.closeTS != 0 {
		ev.at(reopenRate, f.closeTS, b2i(f.reopened), 1)
		ev.at(callbackRate, f.closeTS, b2i(f.reachedCallback), 1)
	}
	for i := range f.callbacks {
		cb := &f.callbacks[i]
		if cb.reached == event.True && cb.resolved != event.Unset {
			ev.at(resolutionRate, cb.ts, b2i(cb.resolved == event.True), 1)
		}
		if cb.rating != event.RatingNone {
			ev.at(ticketSatisfaction, cb.ts, b2i(e.satisfied[cb.rating]), 1)
		}
	}
	return ev.out, ev.wake, due, volatile
}

// undispatched counts a created ticket that has no dispatch against its
// dispatch limit (decision 3): late once the limit passes unless it was
// resolved on intake or closed by then, anchored at the limit.
func (ev *ticketEval) undispatched(limit int64) {
	f := ev.f
	settled := min(nonZero(f.resolvedOnIntake), nonZero(f.closeTS))
	switch {
	case settled <= limit:
		// resolved on intake or closed without dispatch: not in the rate
	case limit < ev.asOf:
		ev.at(dispatchTimeliness, limit, 0, 1)
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

// closure adds on-time closure and resolve time for a dispatched ticket.
func (e *Engine) closure(ev *ticketEval, due int64) {
	f := ev.f
	if f.replyTS != 0 {
		ev.at(avgResolveWorkdays, f.replyTS, e.cal.WorkingMillis(f.dispatches[f.clock].ts, f.replyTS), 1)
	}
	if e.rules.closureByReply {
		if f.replyTS != 0 {
			ev.at(onTimeClosure, f.replyTS, b2i(f.replyTS <= due), 1)
		}
		return
	}
	ev.limit(onTimeClosure, due, ev.dims(f.holder(due)), due, f.replyTS)
}

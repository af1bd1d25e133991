package indicator

import (
	"github.com/hotlineqc/hotlineqc/internal/event"
)

// addLimit returns the deadline of limit l started at instant start:
// working days by the Civil Code rule, hours and minutes by the wall clock.
func (e *Engine) addLimit(start int64, l event.Limit) int64 {
	switch l.Unit {
	case event.UnitWorkdays:
		return e.cal.AddWorkdays(start, l.Amount)
	case event.UnitHours:
		return start + int64(l.Amount)*3600_000
	case event.UnitMinutes:
		return start + int64(l.Amount)*60_000
	}
	return never
}

// resolveDeadline returns the effective resolve deadline of a dispatched
// ticket as of asOf, and whether it depends on asOf (an open suspension).
//
// The resolve clock runs from the clock's dispatch (f.clock: the latest
// dispatch by default, the first with resolve_clock: first_dispatch) with
// the profile's limit for the ticket's category and urgency. With the
// latest-dispatch clock, that dispatch's own explicit deadline (used as is)
// or time_limit (from the dispatch) overrides the rule; with the
// first-dispatch clock, the latest dispatch carrying one does. The latest
// ticket.extended at or after the clock's start replaces the deadline (it
// already includes the suspensions before it). Each suspension after that
// moves the deadline later, in time order: by the working days d with
// suspend-date < d ≤ resume-date for a working-day limit, by the suspended
// wall-clock time otherwise; a suspension not yet resumed runs until asOf,
// and one that starts after the deadline has passed changes nothing.
func (e *Engine) resolveDeadline(f *ticketFact, asOf int64) (due int64, volatile bool) {
	c := &f.dispatches[f.clock]
	start := c.ts
	limit := e.p.Deadlines.ResolveLimit(f.category, f.urgency)
	due = e.addLimit(start, limit)
	workdays := limit.Unit == event.UnitWorkdays
	for i := len(f.dispatches) - 1; i >= f.clock; i-- {
		d := &f.dispatches[i] // i > f.clock only with the first-dispatch clock
		if d.deadline != 0 {
			due, start, workdays = d.deadline, d.ts, false
			break
		}
		if !d.limit.IsZero() {
			due, start, workdays = e.addLimit(d.ts, d.limit), d.ts, d.limit.Unit == event.UnitWorkdays
			break
		}
	}
	if n := len(f.extensions); n > 0 && f.extensions[n-1].ts >= c.ts {
		x := &f.extensions[n-1]
		due, start, workdays = x.deadline, x.ts, false
	}
	for _, span := range suspensions(f.suspends, f.resumes, start, asOf) {
		if due < span.from {
			break // the deadline had passed: later suspensions change nothing
		}
		if span.open {
			volatile = true
		}
		if workdays {
			k := e.cal.WorkdaysBetween(e.cal.DayAt(span.from), e.cal.DayAt(span.to))
			if k > 0 {
				due = e.cal.End(e.cal.NthWorkdayAfter(e.cal.DayAt(due), k))
			}
		} else {
			due += span.to - span.from
		}
	}
	return due, volatile
}

type span struct {
	from, to int64
	open     bool // not resumed yet: runs to asOf
}

// suspensions pairs sorted suspend and resume instants into spans starting
// at or after start. A suspend while already suspended is ignored, as is a
// resume without a suspend.
func suspensions(sus, res []int64, start, asOf int64) []span {
	var out []span
	j := 0
	for i := 0; i < len(sus); i++ {
		s := sus[i]
		if s < start || (len(out) > 0 && s < out[len(out)-1].to) {
			continue
		}
		for j < len(res) && res[j] < s {
			j++
		}
		if j < len(res) {
			out = append(out, span{from: s, to: res[j]})
			j++
			continue
		}
		if asOf > s {
			out = append(out, span{from: s, to: asOf, open: true})
		} else {
			out = append(out, span{from: s, to: s, open: true})
		}
		break
	}
	return out
}

package indicator

import (
	"slices"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Dimensions of ticket indicators, in tuple order.
var ticketDims = []string{"center_id", "department_id", "category", "channel", "urgency", "topic_l1", "topic_l2", "topic", "area"}

// tev is the part of a ticket event the indicators need.
type tev struct {
	eid      string // event_id, to recognise duplicates
	h        uint64 // contentHash, to recognise conflicting duplicates
	ts       int64
	typ      event.Type
	dept     string
	deadline int64
	limit    event.Limit
	reached  event.Tri
	resolved event.Tri
	rating   event.Rating
	category event.Category
	urgency  event.Urgency
	channel  event.Channel
	ev       *evaluation // ticket.evaluated
	in       *intake     // ticket.created with a caller, topic or area
}

// intake is what ticket.created says of who asked and about what
// (revision 1.2: citizen needs).
type intake struct{ caller, topic, area string }

func intakeOf(e *event.Event) *intake {
	if e.Type != event.TicketCreated || e.CallerHash == "" && e.Topic == "" && e.Area == "" {
		return nil
	}
	return &intake{caller: e.CallerHash, topic: e.Topic, area: e.Area}
}

// lessIntake orders intakes: none first, then by caller, topic and area.
func lessIntake(a, b *intake) bool {
	switch {
	case a == nil || b == nil:
		return a == nil && b != nil
	case a.caller != b.caller:
		return a.caller < b.caller
	case a.topic != b.topic:
		return a.topic < b.topic
	}
	return a.area < b.area
}

// less orders ticket events by time, then by content, so that arrival
// order never matters.
func (a *tev) less(b *tev) bool {
	switch {
	case a.ts != b.ts:
		return a.ts < b.ts
	case a.typ != b.typ:
		return a.typ < b.typ
	case a.dept != b.dept:
		return a.dept < b.dept
	case a.deadline != b.deadline:
		return a.deadline < b.deadline
	case a.limit != b.limit:
		return a.limit.Unit < b.limit.Unit || (a.limit.Unit == b.limit.Unit && a.limit.Amount < b.limit.Amount)
	case a.reached != b.reached:
		return a.reached < b.reached
	case a.resolved != b.resolved:
		return a.resolved < b.resolved
	case a.rating != b.rating:
		return a.rating < b.rating
	case a.category != b.category:
		return a.category < b.category
	case a.urgency != b.urgency:
		return a.urgency < b.urgency
	case a.channel != b.channel:
		return a.channel < b.channel
	}
	return lessIntake(a.in, b.in)
}

// ticket is one ticket's state: its events, in arrival order.
type ticket struct {
	center, id string
	part       int32 // the source partition of its events (see ApplyRecord)
	evs        []tev
	contribs   []contrib
	dirty      bool
	changed    bool   // evaluated since the last Changes
	reported   uint64 // the Changes call that last reported it (see Reported)
	anchor     int64  // creation (or first event) time of the last evaluation
	prior      prior  // where the reported state contributed (TrackChanges)
	defects    defects
	conflicts  uint16 // conflicting duplicates seen
	// wake is the instant after which the ticket's contributions change by
	// the passing of time alone (a deadline passes); 0 when none.
	wake    int64
	heapIdx int
	inHeap  bool
	state   ticketState
}

// ticketState is what the last evaluation found, for snapshot indicators
// (overdue_open).
type ticketState struct {
	evaluated bool
	awaiting  bool  // created, not dispatched, not answered on intake, not closed
	due       int64 // resolve deadline, 0 when not dispatched
	replyTS   int64
	category  event.Category
	channel   event.Channel
	urgency   event.Urgency
	// the ticket's contact (repeat requests, needs.go) and topic dims
	created       bool
	createdTS     int64
	caller, topic string
	topicDims     [4]string // topic_l1, topic_l2, topic, area
	contactDims   uint32    // its tuple with the department empty
}

// holderAt returns the department holding the ticket at instant at, from
// its events (sorted by the last evaluation): as ticketFact.holder.
func (t *ticket) holderAt(at int64) string {
	dept, returned := "", false
	for i := range t.evs {
		v := &t.evs[i]
		if v.ts > at {
			break
		}
		switch v.typ {
		case event.TicketDispatched:
			dept, returned = v.dept, false
		case event.TicketReturned:
			returned = true
		}
	}
	if returned {
		return ""
	}
	return dept
}

// add takes e into the ticket (see addResult).
func (t *ticket) add(e *event.Event) addResult {
	v := tev{
		eid: e.ID, h: contentHash(e), ts: e.TS, typ: e.Type, dept: e.DepartmentID, deadline: e.Deadline, limit: e.TimeLimit,
		reached: e.Reached, resolved: e.Resolved, rating: e.Rating,
		category: e.Category, urgency: e.Urgency, channel: e.Channel, ev: evaluationOf(e), in: intakeOf(e),
	}
	for i := range t.evs {
		o := &t.evs[i]
		if o.eid != v.eid {
			continue
		}
		if o.h == v.h {
			return duplicate
		}
		t.conflicts++
		if replaces(v.ts, o.ts, func() ([]byte, []byte) { return v.canonical(t.center, t.id), o.canonical(t.center, t.id) }) {
			*o = v
			return conflictWins
		}
		return conflictLoses
	}
	t.evs = append(t.evs, v)
	return added
}

// dispatch is one assignment of the ticket to a department, with the first
// acceptance, contact and return that followed it before the next dispatch.
type dispatch struct {
	ts, end                       int64 // [ts, end): until the next dispatch
	dept                          string
	deadline                      int64
	limit                         event.Limit
	acceptTS, contactTS, returnTS int64 // 0: none
}

// ticketFact is what a ticket's events say.
type ticketFact struct {
	created           bool
	createdTS         int64
	category          event.Category
	urgency           event.Urgency
	channel           event.Channel
	caller            string // of the first ticket.created, with its topic and area
	topic, area       string
	resolvedOnIntake  int64 // the first ticket.resolved_on_intake; 0: none
	respondedTS       int64
	dispatches        []dispatch
	clock             int   // the dispatch the resolve clock runs from
	replyTS           int64 // the first reply at or after the clock's dispatch
	replies           []int64
	closeTS           int64
	reopened          bool
	reachedCallback   bool
	callbacks         []tev
	suspends, resumes []int64
	extensions        []tev // ticket.extended, in time order
	qa                qaFact
}

const never = int64(1) << 62

// fact derives the ticket's fact into f, reusing f's slices, from its
// events at or before cutoff (later events have not happened yet as of the
// evaluation time; indicators.md v1.1, decision 6). The resolve clock runs
// from the latest dispatch unless firstDispatch.
func (t *ticket) fact(f *ticketFact, cutoff int64, firstDispatch bool) {
	inOrder(t.evs, (*tev).less)
	*f = ticketFact{urgency: event.UrgencyNormal, dispatches: f.dispatches[:0], callbacks: f.callbacks[:0],
		suspends: f.suspends[:0], resumes: f.resumes[:0], replies: f.replies[:0], extensions: f.extensions[:0]}
	upto := 0 // the events at or before the cutoff: the first ones of evs
	for i := range t.evs {
		v := &t.evs[i]
		if v.ts > cutoff {
			break
		}
		upto++
		switch v.typ {
		case event.TicketEvaluated:
			f.qa.standing = -1 // marks: evaluations to read below
		case event.TicketCreated:
			if !f.created {
				f.created, f.createdTS = true, v.ts
				f.category, f.urgency, f.channel = v.category, v.urgency, v.channel
				if v.in != nil {
					f.caller, f.topic, f.area = v.in.caller, v.in.topic, v.in.area
				}
			}
		case event.TicketResolvedOnIntake:
			f.resolvedOnIntake = first(f.resolvedOnIntake, v.ts)
		case event.TicketResponded:
			f.respondedTS = first(f.respondedTS, v.ts)
		case event.TicketDispatched:
			if n := len(f.dispatches); n > 0 {
				f.dispatches[n-1].end = v.ts
			}
			f.dispatches = append(f.dispatches, dispatch{ts: v.ts, end: never, dept: v.dept, deadline: v.deadline, limit: v.limit})
		case event.TicketAccepted, event.TicketContacted, event.TicketReturned:
			if n := len(f.dispatches); n > 0 {
				d := &f.dispatches[n-1]
				switch v.typ {
				case event.TicketAccepted:
					d.acceptTS = first(d.acceptTS, v.ts)
				case event.TicketContacted:
					d.contactTS = first(d.contactTS, v.ts)
				default:
					d.returnTS = first(d.returnTS, v.ts)
				}
			}
		case event.TicketExtended:
			f.extensions = append(f.extensions, *v)
		case event.TicketSuspended:
			f.suspends = append(f.suspends, v.ts)
		case event.TicketResumed:
			f.resumes = append(f.resumes, v.ts)
		case event.TicketReplied:
			f.replies = append(f.replies, v.ts)
		case event.TicketCallback:
			f.callbacks = append(f.callbacks, *v)
			f.reachedCallback = f.reachedCallback || v.reached == event.True
		case event.TicketClosed:
			f.closeTS = first(f.closeTS, v.ts)
		case event.TicketReopened:
			f.reopened = true
		}
	}
	if f.qa.standing < 0 {
		f.qa = qaOf(t.evs[:upto], func(v *tev) (int64, *evaluation) { return v.ts, v.ev },
			func(v *tev) []byte { return v.canonical(t.center, t.id) })
	}
	if n := len(f.dispatches); n > 0 && !firstDispatch {
		f.clock = n - 1
	}
	start := int64(0)
	if len(f.dispatches) > 0 {
		start = f.dispatches[f.clock].ts
	}
	for _, r := range f.replies {
		if r >= start {
			f.replyTS = r // the first reply of the clock's dispatch (decision 8)
			break
		}
	}
}

// first keeps the earliest non-zero instant; events come sorted, so the
// first one seen is kept.
func first(have, ts int64) int64 {
	if have == 0 {
		return ts
	}
	return have
}

// holder returns the department holding the ticket at instant at: that of
// the latest dispatch at or before it, unless that dispatch was returned by
// then (the ticket then waits at the centre, department "").
func (f *ticketFact) holder(at int64) string {
	for i := len(f.dispatches) - 1; i >= 0; i-- {
		d := &f.dispatches[i]
		if d.ts <= at {
			if d.returnTS != 0 && d.returnTS <= at {
				return ""
			}
			return d.dept
		}
	}
	return ""
}

// inOrder sorts a call's or ticket's events by less. They nearly always
// are in order already (events are kept as they arrive), and checking costs
// far less than sorting.
func inOrder[E any](evs []E, less func(a, b *E) bool) {
	for i := 1; i < len(evs); i++ {
		if less(&evs[i], &evs[i-1]) {
			slices.SortFunc(evs, func(a, b E) int {
				switch {
				case less(&a, &b):
					return -1
				case less(&b, &a):
					return 1
				}
				return 0
			})
			return
		}
	}
}

package indicator

import (
	"slices"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Cell is one aggregate cell at the finest grain, read back from a store:
// the sums of the contributions of every call or ticket to it.
type Cell struct {
	Indicator string
	Bucket    int64    // 15-minute bucket start, Unix ms
	Dims      []string // the family's dims tuple (CallDims or TicketDims)
	Num, Den  int64
	N         int64 // how many contributions
	// Entity whose dims tuple Dims is; zero: the indicator's own (an
	// indicator of calls and tickets, qa_reviews, needs it said).
	Entity profile.Entity
}

// StoredTicket is what overdue_open needs of a stored ticket.
type StoredTicket struct {
	Dims  []string // the ticket tuple, department = holder at evaluation
	Due   int64    // resolve deadline, 0 when not dispatched
	Reply int64    // first reply, 0 when none
}

// StoredTicketDims is a ticket's dims tuple as a store keeps it: the topic
// code and the area; Restore derives the topic levels from the profile's
// table, so that stored and computed figures follow the same table.
func StoredTicketDims(center, dept, category, channel, urgency, topic, area string) []string {
	return []string{center, dept, category, channel, urgency, "", "", topic, area}
}

// withTopicLevels sets a stored ticket tuple's topic levels from the
// topic code in it, under its centre's table.
func (ps *Profiles) withTopicLevels(t []string) []string {
	if len(t) != len(ticketDims) {
		return t
	}
	out := slices.Clone(t)
	out[5], out[6], out[7], _ = ps.of(t[0]).p.TopicTable.Levels(t[7])
	return out
}

// Restore returns an engine holding stored aggregates instead of events,
// evaluated as of asOf: Results reads it like any engine.
func Restore(ps *Profiles, cells []Cell, tickets []StoredTicket, asOf int64) *Engine {
	e := New(ps)
	e.asOf = asOf
	for _, c := range cells {
		ind, ok := idOf(c.Indicator)
		if !ok {
			continue
		}
		f := c.Entity
		if f == 0 {
			f = cat.defs[ind].Entity
		}
		prefix := "t"
		switch f {
		case profile.Calls:
			prefix = "c"
		case profile.Agents:
			prefix = "a"
		}
		tuple := c.Dims
		if f == profile.Tickets {
			tuple = ps.withTopicLevels(tuple)
		}
		key := prefix + "\x00" + strings.Join(tuple, "\x00")
		dims := e.dims.id(f, key, func() []string { return append([]string(nil), tuple...) })
		k := makeKey(ind, c.Bucket, dims)
		at, ok := e.store.index[k]
		if !ok {
			at = e.store.alloc()
			e.store.index[k] = at
		}
		cell := &e.store.cells[at]
		cell.num += c.Num
		cell.den += c.Den
		cell.n += c.N
	}
	e.stored = make([]StoredTicket, len(tickets))
	for i, t := range tickets {
		t.Dims = ps.withTopicLevels(t.Dims)
		e.stored[i] = t
	}
	return e
}

// WithContacts gives a restored engine the stored contacts its repeat
// rates are derived from.
func (e *Engine) WithContacts(cs []Contact) *Engine {
	e.contacts = make([]Contact, len(cs))
	for i, c := range cs {
		if c.Ticket {
			c.Dims = e.ps.withTopicLevels(c.Dims)
		}
		e.contacts[i] = c
	}
	return e
}

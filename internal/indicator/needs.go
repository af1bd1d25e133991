package indicator

import (
	"cmp"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Citizen needs (revision 1.2): repeat calls and repeat requests.
//
// Whether a call is a repeat call depends on the caller's other calls,
// which the contract keys by call id: they are on other partitions, held
// by other instances, and may arrive late. So, like the staffing
// indicators, the repeat rates are derived at query time, from every
// contact (a call's arrival, a ticket's creation, with its caller's keyed
// hash) the engine holds or the store read back: exact whatever the order
// and the instance events came through, and nothing to keep in memory
// while streaming beyond each call's and ticket's own state.

// Contact is one call's arrival or one ticket's creation by a caller.
type Contact struct {
	Ticket bool
	Center string
	Caller string // keyed hash of the caller's number
	TS     int64  // arrival (calls) or creation (tickets), Unix ms
	// Dims is the entity's dims tuple (CallDims, or TicketDims with the
	// department empty: repeat_request_rate has none).
	Dims  []string
	Topic string // tickets: the topic code
}

// contactsInto appends the contacts the engine holds: restored ones and
// those of its evaluated calls and tickets.
func (e *Engine) contactsInto(out []Contact) []Contact {
	out = append(out, e.contacts...)
	for _, c := range e.calls {
		if c.caller != "" && c.hasDims {
			out = append(out, Contact{Center: c.center, Caller: c.caller, TS: c.arrivedTS, Dims: e.dims.tuples[c.dims]})
		}
	}
	for _, t := range e.tickets {
		if st := &t.state; st.evaluated && st.created && st.caller != "" && st.topic != "" {
			out = append(out, Contact{Ticket: true, Center: t.center, Caller: st.caller, TS: st.createdTS,
				Dims: e.dims.tuples[st.contactDims], Topic: st.topic})
		}
	}
	return out
}

// Contacts returns the contacts the engine holds (for a store's tests and
// the hot-spot views).
func (e *Engine) Contacts() []Contact { return e.contactsInto(nil) }

// repeatKey groups the contacts a repeat is looked for among.
type repeatKey struct {
	ticket                bool
	center, caller, topic string
}

// Repeats reports, for each contact, whether it is a repeat: an earlier
// contact of the same kind, centre and caller (tickets: of the same topic
// at the profile's repeat_request.level, known topics only) within the
// profile's look-back (inclusive), and for calls at least min_gap before.
// Contacts of tickets with an unknown topic are not counted: ok is false.
func Repeats(ps *Profiles, cs []Contact) (repeat, ok []bool) {
	repeat, ok = make([]bool, len(cs)), make([]bool, len(cs))
	// Contacts sorted by a hash of their group (kind, centre, caller,
	// topic), then the group itself (only equal hashes compare strings),
	// then time: integer comparisons for nearly every pair, no map of
	// millions of keys.
	type member struct {
		h  uint64
		ts int64
		i  int32
	}
	keys := make([]repeatKey, len(cs))
	order := make([]member, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		if c.Caller == "" {
			continue
		}
		k := repeatKey{ticket: c.Ticket, center: c.Center, caller: c.Caller}
		if c.Ticket {
			p := ps.of(c.Center).p
			if c.Topic == "" || !p.TopicTable.Known(c.Topic) {
				continue
			}
			k.topic = p.TopicTable.At(c.Topic, p.RepeatRequest.Level)
		}
		keys[i], ok[i] = k, true
		order = append(order, member{k.hash(), c.TS, int32(i)})
	}
	slices.SortFunc(order, func(a, b member) int {
		if a.h != b.h {
			return cmp.Compare(a.h, b.h)
		}
		if c := keys[a.i].compare(&keys[b.i]); c != 0 {
			return c
		}
		return cmp.Compare(a.ts, b.ts)
	})
	for lo := 0; lo < len(order); {
		k := &keys[order[lo].i]
		hi := lo + 1
		for hi < len(order) && order[hi].h == order[lo].h && keys[order[hi].i] == *k {
			hi++
		}
		p := ps.of(k.center).p
		w, m := time.Duration(p.RepeatCall.Window), time.Duration(p.RepeatCall.MinGap)
		if k.ticket {
			w, m = time.Duration(p.RepeatRequest.Window), 0
		}
		window := int64(w / time.Millisecond)
		gap := max(int64(m/time.Millisecond), 1) // an earlier contact: at the same instant is not earlier
		// j: the latest contact at least gap before contact i (lo-1: none)
		j := lo - 1
		for i := lo; i < hi; i++ {
			ts := order[i].ts
			for j+1 < i && order[j+1].ts <= ts-gap {
				j++
			}
			repeat[order[i].i] = j >= lo && ts-order[j].ts <= window
		}
		lo = hi
	}
	return repeat, ok
}

var repeatSeed = maphash.MakeSeed()

func (k *repeatKey) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(repeatSeed)
	if k.ticket {
		h.WriteByte(1)
	}
	h.WriteString(k.center)
	h.WriteByte(0)
	h.WriteString(k.caller)
	h.WriteByte(0)
	h.WriteString(k.topic)
	return h.Sum64()
}

func (k *repeatKey) compare(o *repeatKey) int {
	switch {
	case k.ticket != o.ticket:
		if k.ticket {
			return 1
		}
		return -1
	case k.center != o.center:
		return cmp.Compare(k.center, o.center)
	case k.caller != o.caller:
		return cmp.Compare(k.caller, o.caller)
	}
	return cmp.Compare(k.topic, o.topic)
}

// shownFor reports whether an indicator with restricted dimensions (dims)
// answers a grouping.
func shownFor(d *Def, groupBy []string) bool {
	for _, g := range groupBy {
		if d.dims != nil && !slices.Contains(d.dims, g) {
			return false
		}
	}
	if d.byAny != nil {
		return slices.ContainsFunc(groupBy, func(g string) bool { return slices.Contains(d.byAny, g) })
	}
	return true
}

// repeatResults adds the repeat rates, from every contact of the engines,
// to a query's sums: each contact counts in the window of its arrival or
// creation, a repeat in the numerator.
func (qs *query) repeatResults(engines []*Engine) {
	calls, _ := idOf("repeat_call_rate")
	tickets, _ := idOf("repeat_request_rate")
	showC, showT := shownFor(&cat.defs[calls], qs.q.GroupBy), shownFor(&cat.defs[tickets], qs.q.GroupBy)
	if !showC && !showT {
		return
	}
	var cs []Contact
	for _, e := range engines {
		cs = e.contactsInto(cs)
	}
	repeat, ok := Repeats(qs.e.ps, cs)
	for i := range cs {
		c := &cs[i]
		ind, fam, show := calls, profile.Calls, showC
		if c.Ticket {
			ind, fam, show = tickets, profile.Tickets, showT
		}
		if !ok[i] || !show {
			continue
		}
		g := qs.group(fam, c.Dims)
		if g < 0 {
			continue
		}
		z := qs.e.ps.of(c.Center)
		qs.add(groupKey{ind, qs.start(z, bucketOf(z.loc, c.TS)), g}, b2i(repeat[i]), 1, 1<<z.idx)
	}
}

// TopicDims returns the topic dimensions of a ticket (topic_l1, topic_l2,
// topic, area) under the topic table of its centre's profile.
func (ps *Profiles) TopicDims(center, topic, area string) [4]string {
	l1, l2, code, _ := ps.of(center).p.TopicTable.Levels(topic)
	return [4]string{l1, l2, code, area}
}

// Hotspot is one topic group that was a hot spot on a day (indicators.md,
// "Hot spots").
type Hotspot struct {
	Day    int64  // the local day's start, Unix ms
	Center string // empty when the counts were not by centre
	Group  string // the topic code at the level asked
	Area   string // when by area
	Count  int64
	Mean   float64 // the mean daily count over the baseline days before
	Score  float64
}

// DayCount is one group's tickets created on one local day.
type DayCount struct {
	Day                 int64 // the local day's start, Unix ms
	Center, Group, Area string
	Count               int64
}

// Hotspots finds the hot spots among daily counts: a group is hot on day d
// when c ≥ min_count and c > μ + z·√max(μ, 1), μ the mean of its counts
// over the baseline_days before d (days without tickets count 0). A day is
// judged only once the data cover its whole baseline: from the first day
// (first, a local day's start) plus baseline_days. Days are those of loc;
// only days in [from, to) are reported, newest first, then by score. With
// baseline_by day_type, μ averages the baseline's days of d's type
// (workday tells a local day's start is a working day), all of them when
// it has none.
func Hotspots(h profile.Hotspot, loc *time.Location, workday func(day int64) bool, first int64, counts []DayCount, from, to int64) []Hotspot {
	type gk struct{ center, group, area string }
	byGroup := map[gk]map[int64]int64{}
	for _, c := range counts {
		k := gk{c.Center, c.Group, c.Area}
		if byGroup[k] == nil {
			byGroup[k] = map[int64]int64{}
		}
		byGroup[k][c.Day] += c.Count
	}
	judged := addDays(loc, first, h.BaselineDays)
	var out []Hotspot
	for k, days := range byGroup {
		for d, c := range days {
			if d < from || d >= to || d < judged || c < int64(h.MinCount) {
				continue
			}
			var sum, same, n, nSame int64
			typ := h.BaselineBy == profile.BaselineDayType && workday(d)
			for i := 1; i <= h.BaselineDays; i++ {
				b := addDays(loc, d, -i)
				sum, n = sum+days[b], n+1
				if h.BaselineBy == profile.BaselineDayType && workday(b) == typ {
					same, nSame = same+days[b], nSame+1
				}
			}
			if nSame > 0 {
				sum, n = same, nSame
			}
			mu := float64(sum) / float64(n)
			sd := math.Sqrt(max(mu, 1))
			if float64(c) > mu+h.Z*sd {
				out = append(out, Hotspot{Day: d, Center: k.center, Group: k.group, Area: k.area, Count: c, Mean: mu, Score: (float64(c) - mu) / sd})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		switch {
		case a.Day != b.Day:
			return a.Day > b.Day
		case a.Score != b.Score:
			return a.Score > b.Score
		case a.Center != b.Center:
			return a.Center < b.Center
		case a.Group != b.Group:
			return a.Group < b.Group
		}
		return a.Area < b.Area
	})
	return out
}

// addDays moves a local day's start by n days in loc.
func addDays(loc *time.Location, day int64, n int) int64 {
	t := time.UnixMilli(day).In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+n, 0, 0, 0, 0, loc).UnixMilli()
}

// DayStart returns the start of the local day holding ms in loc.
func DayStart(loc *time.Location, ms int64) int64 { return windowStart(loc, WindowDay, ms) }

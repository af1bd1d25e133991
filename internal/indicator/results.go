package indicator

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Window names.
const (
	Window15m   = "15m"
	WindowHour  = "hour"
	WindowDay   = "day"
	WindowMonth = "month"
)

// Windows lists the window names.
func Windows() []string { return []string{Window15m, WindowHour, WindowDay, WindowMonth} }

// Dimensions lists every dimension a query may group by.
func Dimensions() []string {
	return []string{"center_id", "queue", "channel", "agent_id", "team", "department_id", "category", "urgency",
		"topic_l1", "topic_l2", "topic", "area"}
}

// Query selects the window and the dimensions of results.
type Query struct {
	Window  string
	GroupBy []string
}

// Validate checks the window and dimension names.
func (q Query) Validate() error {
	if !slices.Contains(Windows(), q.Window) {
		return fmt.Errorf("window %q: want one of %s", q.Window, strings.Join(Windows(), ", "))
	}
	seen := map[string]bool{}
	for _, d := range q.GroupBy {
		if !slices.Contains(Dimensions(), d) {
			return fmt.Errorf("group-by %q: want dimensions from %s", d, strings.Join(Dimensions(), ", "))
		}
		if seen[d] {
			return fmt.Errorf("group-by %q given twice", d)
		}
		seen[d] = true
	}
	return nil
}

// Result is one indicator value for one window and dims, in the JSON shape
// of cli.md.
type Result struct {
	Indicator   string            `json:"indicator"`
	Window      string            `json:"window"`
	WindowStart string            `json:"window_start"`
	Dims        map[string]string `json:"dims"`
	Numerator   *float64          `json:"numerator,omitempty"`
	Denominator *float64          `json:"denominator,omitempty"`
	Value       float64           `json:"value"`
	Target      *profile.Target   `json:"target,omitempty"`
	Met         *bool             `json:"met,omitempty"`

	start int64
	key   []string
}

type groupKey struct {
	ind   id
	start int64
	group int32 // index into the query's projected dims
}

// sum adds up a result; profiles has a bit per profile (centre.idx) of the
// centres that contributed, which give its target and time zone.
type sum struct {
	num, den int64
	profiles uint64
}

// query is one Results call's working state: the projected group of every
// dims tuple and the window start of every bucket, each computed once.
type query struct {
	e       *Engine
	q       Query
	proj    projections
	groupOf []int32   // per dims tuple id: projected group, -1 when n/a
	zoneOf  []*centre // per dims tuple id: the profile of its centre
	groups  [][]string
	ids     map[string]int32
	starts  map[startKey]int64
	sums    map[groupKey]*sum
	extra   []Result // derived at query time (staffing)
}

type startKey struct {
	bucket int64
	zone   *centre
}

func (qs *query) group(f profile.Entity, tuple []string) int32 {
	key, ok := qs.proj.key(f, tuple)
	if !ok {
		return -1
	}
	k := strings.Join(key, "\x00")
	g, seen := qs.ids[k]
	if !seen {
		g = int32(len(qs.groups))
		qs.ids[k] = g
		qs.groups = append(qs.groups, key)
	}
	return g
}

// start returns the start of the query window holding bucket, in the time
// zone of profile c.
func (qs *query) start(c *centre, bucket int64) int64 {
	k := startKey{bucket, c}
	s, ok := qs.starts[k]
	if !ok {
		s = windowStart(c.loc, qs.q.Window, bucket)
		qs.starts[k] = s
	}
	return s
}

// add adds to a result the sums of centres with the profiles in mask.
func (qs *query) add(k groupKey, num, den int64, profiles uint64) {
	s := qs.sums[k]
	if s == nil {
		s = &sum{}
		qs.sums[k] = s
	}
	s.num += num
	s.den += den
	s.profiles |= profiles
}

// target returns the target of indicator ind for a result whose centres
// have the profiles in mask: none when their profiles' targets differ.
func (qs *query) target(ind string, mask uint64) (profile.Target, bool) {
	var (
		t     profile.Target
		found bool
	)
	for _, c := range qs.e.ps.all {
		if mask&(1<<c.idx) == 0 {
			continue
		}
		ct, ok := c.p.Targets[ind]
		if !ok || (found && ct != t) {
			return profile.Target{}, false
		}
		t, found = ct, true
	}
	return t, found
}

// zone returns the time zone a result is written in: its first profile's.
func (qs *query) zone(mask uint64) *time.Location {
	for _, c := range qs.e.ps.all {
		if mask&(1<<c.idx) != 0 {
			return c.loc
		}
	}
	return qs.e.ps.def.loc
}

// Results returns every indicator for the query as of the last Advance,
// sorted by indicator, window start, then dims. Rates and means without a
// denominator are omitted. The counts of a family (calls_offered, ...,
// tickets_created) appear, zero or not, for every window and dims that has
// any result of that family; overdue_open appears in the window holding the
// evaluation time, for the dims of every ticket.
//
// The query must be answerable at the engine's grain (see Grain); otherwise
// Results returns nil.
func (e *Engine) Results(q Query) []Result { return results([]*Engine{e}, q) }

// results sums the aggregates of engines that share a profile, grain and
// evaluation time but hold different calls and tickets (shards).
func results(engines []*Engine, q Query) []Result {
	e := engines[0]
	if e.grain.answers(q) != nil {
		return nil
	}
	qs := &query{e: e, q: q, proj: e.projections(q.GroupBy), ids: map[string]int32{},
		starts: map[startKey]int64{}, sums: map[groupKey]*sum{}}
	hidden := make([]bool, len(cat.defs)) // indicators this grouping does not show
	for i := range cat.defs {
		hidden[i] = !shownFor(&cat.defs[i], q.GroupBy)
	}
	present := map[groupKey]uint64{} // family has data in this window and group: the profiles
	for _, sh := range engines {
		if sh.store == nil {
			continue // kept without aggregates
		}
		qs.groupOf, qs.zoneOf = qs.groupOf[:0], qs.zoneOf[:0]
		for i, t := range sh.dims.tuples {
			qs.groupOf = append(qs.groupOf, qs.group(sh.dims.fams[i], t))
			qs.zoneOf = append(qs.zoneOf, e.ps.of(t[0])) // center_id, kept when profiles are mixed
		}
		for k, at := range sh.store.index {
			g := qs.groupOf[k.dims()]
			if g < 0 || hidden[k.ind()] {
				continue
			}
			c := &sh.store.cells[at]
			z := qs.zoneOf[k.dims()]
			gk := groupKey{k.ind(), qs.start(z, k.bucket()), g}
			qs.add(gk, c.num, c.den, 1<<z.idx)
			present[groupKey{cat.marker[sh.dims.fams[k.dims()]], gk.start, g}] |= 1 << z.idx
		}
		sh.snapshots(qs)
	}
	for g, mask := range present {
		for _, ind := range cat.presence[cat.defs[g.ind].Entity] { // g.ind: the entity's marker
			qs.add(groupKey{ind, g.start, g.group}, 0, 0, mask)
		}
	}
	qs.repeatResults(engines)
	qs.staffingResults(engines)
	return e.emit(qs)
}

// snapshots counts the snapshot indicators (overdue_open) over the open
// tickets, live and restored, as of the evaluation time, by the department
// holding each then.
func (e *Engine) snapshots(qs *query) {
	if len(cat.snapshots) == 0 || !qs.proj.applies(profile.Tickets) {
		return
	}
	// The window holding the evaluation time, in each centre's time zone.
	start := func(center string) (int64, uint64) {
		c := e.ps.of(center)
		return qs.start(c, bucketOf(c.loc, e.asOf)), 1 << c.idx
	}
	for _, t := range e.tickets {
		st := &t.state
		if !st.evaluated {
			continue
		}
		tp := &st.topicDims
		g := qs.group(profile.Tickets, []string{t.center, t.holderAt(e.asOf), st.category.String(), st.channel.String(), st.urgency.String(),
			tp[0], tp[1], tp[2], tp[3]})
		at, mask := start(t.center)
		e.snap(qs, ticketSnap{due: st.due, reply: st.replyTS, asOf: e.asOf}, at, g, mask)
	}
	for _, t := range e.stored {
		g := qs.group(profile.Tickets, t.Dims)
		at, mask := start(t.Dims[0])
		e.snap(qs, ticketSnap{due: t.Due, reply: t.Reply, asOf: e.asOf}, at, g, mask)
	}
}

func (e *Engine) snap(qs *query, s ticketSnap, at int64, g int32, mask uint64) {
	for _, ind := range cat.snapshots {
		qs.add(groupKey{ind, at, g}, b2i(cat.defs[ind].snapshot(s)), 0, mask)
	}
}

func (e *Engine) emit(qs *query) []Result {
	out := make([]Result, 0, len(qs.sums))
	for gk, s := range qs.sums {
		key := qs.groups[gk.group]
		r := Result{Indicator: cat.defs[gk.ind].ID, Window: qs.q.Window, start: gk.start, key: key,
			WindowStart: time.UnixMilli(gk.start).In(qs.zone(s.profiles)).Format(time.RFC3339)}
		r.Dims = make(map[string]string, len(qs.q.GroupBy))
		for i, d := range qs.q.GroupBy {
			r.Dims[d] = key[i]
		}
		d := &cat.defs[gk.ind]
		if d.Kind != profile.Count && s.den == 0 && d.den != denWindow {
			continue // no denominator (calls of an agent without a session)
		}
		switch d.Kind {
		case profile.Count:
			r.Value = d.Unit.Scale(s.num) // agent_online_seconds: milliseconds → seconds
		case profile.Rate:
			num, den := float64(s.num), float64(s.den)
			if d.den == denSeconds {
				num, den = num/1000, den/1000 // a rate of two durations
			}
			r.Numerator, r.Denominator = ptr(num), ptr(den)
			r.Value = float64(s.num) / float64(s.den)
		case profile.Mean:
			total := d.Unit.Scale(s.num) // milliseconds → seconds, working days
			den := float64(s.den)
			switch d.den {
			case denHours:
				den /= 3_600_000
			case denWindow:
				loc := qs.zone(s.profiles)
				den = float64(windowEnd(loc, qs.q.Window, gk.start)-gk.start) / 1000
			}
			r.Numerator, r.Denominator = ptr(total), ptr(den)
			r.Value = total / den
		}
		if t, ok := qs.target(r.Indicator, s.profiles); ok && cat.defs[gk.ind].Kind == profile.Rate {
			r.Target, r.Met = &t, ptr(t.Met(r.Value))
		}
		out = append(out, r)
	}
	out = append(out, qs.extra...)
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Indicator != b.Indicator {
			return a.Indicator < b.Indicator
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return slices.Compare(a.key, b.key) < 0
	})
	return out
}

func ptr[T any](v T) *T { return &v }

// windowEnd returns the end (exclusive) of the window starting at start,
// in time zone loc.
func windowEnd(loc *time.Location, window string, start int64) int64 {
	t := time.UnixMilli(start).In(loc)
	switch window {
	case WindowHour:
		return t.Add(time.Hour).UnixMilli()
	case WindowDay:
		return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc).UnixMilli()
	case WindowMonth:
		return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc).UnixMilli()
	}
	return start + bucketMs
}

// windowStart returns the start of the window holding a bucket, in time
// zone loc.
func windowStart(loc *time.Location, window string, bucket int64) int64 {
	t := time.UnixMilli(bucket).In(loc)
	switch window {
	case WindowHour:
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc).UnixMilli()
	case WindowDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).UnixMilli()
	case WindowMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc).UnixMilli()
	}
	return bucket
}

// projections map the dims tuples of each family onto the group-by list.
type projections struct {
	calls, tickets, agents []int // tuple index per group-by dimension, nil: n/a
}

func (e *Engine) projections(groupBy []string) projections {
	idx := func(tuple []string) []int {
		out := make([]int, 0, len(groupBy))
		for _, d := range groupBy {
			i := slices.Index(tuple, d)
			if i < 0 {
				return nil
			}
			out = append(out, i)
		}
		return out
	}
	return projections{calls: idx(callDims), tickets: idx(ticketDims), agents: idx(agentDims)}
}

// of returns the projection of entity f.
func (p projections) of(f profile.Entity) []int {
	switch f {
	case profile.Calls:
		return p.calls
	case profile.Agents:
		return p.agents
	}
	return p.tickets
}

func (p projections) applies(f profile.Entity) bool { return p.of(f) != nil }

func (p projections) key(f profile.Entity, tuple []string) ([]string, bool) {
	ix := p.of(f)
	if ix == nil {
		return nil, false
	}
	key := make([]string, len(ix))
	for i, j := range ix {
		key[i] = tuple[j]
	}
	return key, true
}

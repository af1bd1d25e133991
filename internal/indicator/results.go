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
	return []string{"center_id", "queue", "channel", "agent_id", "department_id", "category", "urgency"}
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
	dims  string
}

type sum struct {
	num, den int64
	key      []string
}

// Results returns every indicator for the query as of the last Advance,
// sorted by indicator, window start, then dims. Rates and means without a
// denominator are omitted. The counts of a family (calls_offered, ...,
// tickets_created) appear, zero or not, for every window and dims that has
// any result of that family; overdue_open appears in the window holding the
// evaluation time, for the dims of every ticket.
func (e *Engine) Results(q Query) []Result {
	proj := e.projections(q.GroupBy)
	starts := map[int64]int64{}
	sums := map[groupKey]*sum{}
	groups := map[groupKey][]string{} // family presence per window and dims
	for k, c := range e.store.cells {
		fam := fams[k.ind]
		key, ok := proj.key(fam, e.dims.tuples[k.dims])
		if !ok {
			continue
		}
		start, seen := starts[k.bucket]
		if !seen {
			start = e.windowStart(q.Window, k.bucket)
			starts[k.bucket] = start
		}
		gk := groupKey{k.ind, start, strings.Join(key, "\x00")}
		s := sums[gk]
		if s == nil {
			s = &sum{key: key}
			sums[gk] = s
		}
		s.num += c.num
		s.den += c.den
		groups[groupKey{familyMarker(fam), start, gk.dims}] = key
	}
	e.zeroCounts(sums, groups)
	e.overdue(q, proj, sums)
	return e.emit(q, proj, sums)
}

// familyMarker stands for "this family has data here" in the groups map.
func familyMarker(f profile.Family) id {
	if f == profile.Calls {
		return callsOffered
	}
	return ticketsCreated
}

// zeroCounts makes the counts of a family appear wherever the family has data.
func (e *Engine) zeroCounts(sums map[groupKey]*sum, groups map[groupKey][]string) {
	for g, key := range groups {
		counts := []id{ticketsCreated}
		if g.ind == callsOffered {
			counts = []id{callsOffered, callsAnswered, callsAbandoned}
		}
		for _, ind := range counts {
			k := groupKey{ind, g.start, g.dims}
			if sums[k] == nil {
				sums[k] = &sum{key: key}
			}
		}
	}
}

// overdue counts dispatched tickets past their resolve deadline and not
// replied as of the evaluation time, by the department holding them then.
func (e *Engine) overdue(q Query, proj projections, sums map[groupKey]*sum) {
	if !proj.applies(profile.Tickets) {
		return
	}
	start := e.windowStart(q.Window, bucketOf(e.loc, e.asOf))
	for _, t := range e.tickets {
		st := &t.state
		if st.fact == nil {
			continue
		}
		f := st.fact
		dept := f.holder(e.asOf)
		key, _ := proj.key(profile.Tickets, []string{t.center, dept, f.category.String(), f.channel.String(), f.urgency.String()})
		gk := groupKey{overdueOpen, start, strings.Join(key, "\x00")}
		s := sums[gk]
		if s == nil {
			s = &sum{key: key}
			sums[gk] = s
		}
		replied := f.replyTS != 0 && f.replyTS <= e.asOf
		if st.due != 0 && st.due < e.asOf && !replied {
			s.num++
		}
	}
}

func (e *Engine) emit(q Query, proj projections, sums map[groupKey]*sum) []Result {
	out := make([]Result, 0, len(sums))
	for gk, s := range sums {
		r := Result{Indicator: names[gk.ind], Window: q.Window, start: gk.start, key: s.key,
			WindowStart: time.UnixMilli(gk.start).In(e.loc).Format(time.RFC3339)}
		r.Dims = make(map[string]string, len(q.GroupBy))
		for i, d := range q.GroupBy {
			r.Dims[d] = s.key[i]
		}
		switch kinds[gk.ind] {
		case profile.Count:
			r.Value = float64(s.num)
		case profile.Rate:
			r.Numerator, r.Denominator = ptr(float64(s.num)), ptr(float64(s.den))
			r.Value = float64(s.num) / float64(s.den)
		case profile.Mean:
			scale := 1000.0 // milliseconds → seconds
			if gk.ind == avgResolveWorkdays {
				scale = 86_400_000 // milliseconds → working days
			}
			total := float64(s.num) / scale
			r.Numerator, r.Denominator = ptr(total), ptr(float64(s.den))
			r.Value = total / float64(s.den)
		}
		if t, ok := e.p.Targets[r.Indicator]; ok && kinds[gk.ind] == profile.Rate {
			r.Target, r.Met = &t, ptr(t.Met(r.Value))
		}
		out = append(out, r)
	}
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

// windowStart returns the start of the window holding a bucket.
func (e *Engine) windowStart(window string, bucket int64) int64 {
	t := time.UnixMilli(bucket).In(e.loc)
	switch window {
	case WindowHour:
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, e.loc).UnixMilli()
	case WindowDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, e.loc).UnixMilli()
	case WindowMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, e.loc).UnixMilli()
	}
	return bucket
}

// projections map the dims tuples of each family onto the group-by list.
type projections struct {
	calls, tickets []int // tuple index per group-by dimension, nil: n/a
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
	return projections{calls: idx(callDims), tickets: idx(ticketDims)}
}

func (p projections) applies(f profile.Family) bool {
	if f == profile.Calls {
		return p.calls != nil
	}
	return p.tickets != nil
}

func (p projections) key(f profile.Family, tuple []string) ([]string, bool) {
	ix := p.tickets
	if f == profile.Calls {
		ix = p.calls
	}
	if ix == nil {
		return nil, false
	}
	key := make([]string, len(ix))
	for i, j := range ix {
		key[i] = tuple[j]
	}
	return key, true
}

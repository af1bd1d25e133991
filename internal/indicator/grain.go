package indicator

import (
	"fmt"
	"slices"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Grain is the finest window and the dimensions an engine keeps its
// aggregates at. Results can be read at that grain or any coarser one: a
// longer window (15m < hour < day < month) and a subset of the dimensions.
// The streaming pipeline keeps the finest grain; a batch evaluation that
// knows its query keeps exactly that, and so keeps far fewer cells.
type Grain struct {
	Window string
	// GroupBy lists the dimensions kept; nil keeps every dimension of each
	// family (an empty, non-nil list keeps none).
	GroupBy []string
}

// Finest is the grain that answers every query.
func Finest() Grain { return Grain{Window: Window15m} }

var windowRank = map[string]int{Window15m: 0, WindowHour: 1, WindowDay: 2, WindowMonth: 3}

// answers reports whether results at grain g can answer q.
func (g Grain) answers(q Query) error {
	if windowRank[q.Window] < windowRank[g.Window] {
		return fmt.Errorf("window %s is finer than the engine's grain %s", q.Window, g.Window)
	}
	for _, d := range q.GroupBy {
		if g.GroupBy != nil && !slices.Contains(g.GroupBy, d) {
			return fmt.Errorf("dimension %s is not kept by the engine (grain %v)", d, g.GroupBy)
		}
	}
	return nil
}

// keep marks, for each position of a family's dims tuple, whether the
// grain keeps it; dimensions not kept are blanked before interning.
func keep(tuple []string, groupBy []string) []bool {
	k := make([]bool, len(tuple))
	for i, d := range tuple {
		k[i] = groupBy == nil || slices.Contains(groupBy, d)
	}
	return k
}

// applies reports whether every grain dimension exists for the family; a
// family without one of them contributes nothing at this grain.
func applies(tuple []string, groupBy []string) bool {
	for _, d := range groupBy {
		if !slices.Contains(tuple, d) {
			return false
		}
	}
	return true
}

// dimsID interns the family's dims tuple as the grain keeps it. It builds
// the lookup key in a reused buffer, so a known tuple costs no allocation.
func (e *Engine) dimsID(f profile.Entity, vals ...string) uint32 {
	kept := e.keepT
	b := append(e.keyBuf[:0], 't')
	switch f {
	case profile.Calls:
		kept, b[0] = e.keepC, 'c'
	case profile.Agents:
		kept, b[0] = e.keepA, 'a'
	}
	for i, v := range vals {
		b = append(b, 0)
		if kept[i] {
			b = append(b, v...)
		}
	}
	e.keyBuf = b
	if id, ok := e.dims.ids[string(b)]; ok {
		return id
	}
	tuple := make([]string, len(vals))
	for i, v := range vals {
		if kept[i] {
			tuple[i] = v
		}
	}
	return e.dims.id(f, string(b), func() []string { return tuple })
}

// bucket returns the start of the grain window holding ms, remembering the
// last one: contributions of one entity mostly share it.
func (e *Engine) bucket(ms int64) int64 {
	if ms >= e.lastStart && ms < e.lastEnd {
		return e.lastStart
	}
	b := bucketOf(e.loc, ms)
	e.lastStart = windowStart(e.loc, e.grain.Window, b)
	e.lastEnd = windowEnd(e.loc, e.grain.Window, e.lastStart)
	return e.lastStart
}

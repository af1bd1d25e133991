package indicator

import (
	"slices"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/staffing"
)

// Staffing (revision 1.2): for each window of the profile's
// staffing.interval, the Erlang C model (package staffing) applied to the
// window's offered calls and mean handle time gives the agents required,
// beside the agents the centre had (agents_staffed of the same window).
// It is derived at query time from the 15-minute aggregates, so the batch
// and the streaming paths, and `hotlineqc staffing`, share it.

// StaffingRow is one staffing interval of one centre.
type StaffingRow struct {
	CenterID   string
	Start, End int64 // Unix ms
	Offered    int64 // calls offered (calls_offered)
	// AHT is the mean handle time of the interval's answered calls that
	// have one (AHTCalls of them), else the profile's default (AHTCalls 0).
	AHT      time.Duration
	AHTCalls int64
	Traffic  float64 // erlangs
	Required int
	// Staffed is the mean number of agents ready, busy or in wrap-up
	// (agents_staffed); Agents says whether the centre sent agent events
	// that day (without them the gap says nothing).
	Staffed float64
	Agents  bool
}

// Gap is agents_required − agents_staffed (negative: a surplus).
func (r StaffingRow) Gap() float64 { return float64(r.Required) - r.Staffed }

// Understaffed reports whether the interval had fewer agents than it needed.
func (r StaffingRow) Understaffed() bool { return r.Agents && r.Staffed < float64(r.Required) }

// staffingGrain is the coarsest grain window that still tells the staffing
// intervals apart.
func staffingGrain(interval string) string {
	if interval == WindowHour {
		return WindowHour
	}
	return Window15m
}

// GrainFor returns the grain a batch evaluation of q keeps: q's, made fine
// enough for the staffing indicators when q shows them (by centre, in day
// or month windows: understaffed_intervals counts staffing intervals).
func GrainFor(q Query, ps *Profiles) Grain {
	g := Grain(q)
	if staffingShown(q) && windowRank[q.Window] >= windowRank[WindowDay] {
		fine := WindowHour
		for _, c := range ps.all {
			if staffingGrain(c.p.Staffing.Interval) == Window15m {
				fine = Window15m
			}
		}
		g.Window = fine
	}
	return g
}

// staffingShown reports whether a query shows staffing indicators: they
// are of centres (grouped by center_id only).
func staffingShown(q Query) bool { return slices.Equal(q.GroupBy, []string{"center_id"}) }

type staffingKey struct {
	center string
	start  int64
}

type staffingAcc struct {
	offered, ahtMs, ahtN, staffedMs int64
	online                          bool
}

// Staffing returns the staffing intervals of every centre with calls
// offered or agents signed in, by centre and start. The engines' grain
// must tell the intervals apart (see GrainFor); nil otherwise.
func (e *Engine) Staffing() []StaffingRow { return staffingRows([]*Engine{e}) }

// Staffing is Engine.Staffing over the shards.
func (s *Sharded) Staffing() []StaffingRow { return staffingRows(s.shards) }

func staffingRows(engines []*Engine) []StaffingRow {
	e := engines[0]
	for _, c := range e.ps.all {
		if windowRank[e.grain.Window] > windowRank[staffingGrain(c.p.Staffing.Interval)] {
			return nil
		}
	}
	offered, _ := idOf("calls_offered")
	aht, _ := idOf("aht_seconds")
	staffed, _ := idOf("agents_staffed")
	accs := map[staffingKey]*staffingAcc{}
	agentDays := map[staffingKey]bool{} // centres with agent data, by local day
	for _, sh := range engines {
		if sh.store == nil {
			continue
		}
		for k, at := range sh.store.index {
			ind := k.ind()
			if ind != offered && ind != aht && ind != staffed {
				continue
			}
			center := sh.dims.tuples[k.dims()][0]
			c := e.ps.of(center)
			start := intervalStart(c.loc, profile.StaffingIntervals[c.p.Staffing.Interval], k.bucket())
			a := accs[staffingKey{center, start}]
			if a == nil {
				a = &staffingAcc{}
				accs[staffingKey{center, start}] = a
			}
			cell := &sh.store.cells[at]
			switch ind {
			case offered:
				a.offered += cell.num
			case aht:
				a.ahtMs += cell.num
				a.ahtN += cell.den
			case staffed:
				a.staffedMs += cell.num
				a.online = true
				agentDays[staffingKey{center, windowStart(c.loc, WindowDay, k.bucket())}] = true
			}
		}
	}
	out := make([]StaffingRow, 0, len(accs))
	for k, a := range accs {
		if a.offered == 0 && !a.online {
			continue
		}
		c := e.ps.of(k.center)
		p := c.p
		length := profile.StaffingIntervals[p.Staffing.Interval]
		r := StaffingRow{CenterID: k.center, Start: k.start, End: k.start + length.Milliseconds(), Offered: a.offered,
			AHT: p.Staffing.DefaultAHT, AHTCalls: a.ahtN,
			Staffed: float64(a.staffedMs) / float64(length.Milliseconds()),
			Agents:  agentDays[staffingKey{k.center, windowStart(c.loc, WindowDay, k.start)}]}
		if a.ahtN > 0 {
			r.AHT = time.Duration(a.ahtMs) * time.Millisecond / time.Duration(a.ahtN)
		}
		res := staffing.Required(Demand(p, float64(a.offered), length, r.AHT))
		r.Traffic, r.Required = res.Traffic, res.Agents
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b StaffingRow) int {
		if a.CenterID != b.CenterID {
			if a.CenterID < b.CenterID {
				return -1
			}
			return 1
		}
		return int(a.Start - b.Start)
	})
	return out
}

// Demand is the Erlang C demand of calls offered over an interval of the
// given length with handle time aht, held to profile p's service level.
func Demand(p *profile.Profile, calls float64, length, aht time.Duration) staffing.Demand {
	return staffing.Demand{Calls: calls, Interval: length, AHT: aht,
		Threshold: time.Duration(p.Calls.ServiceLevel.ThresholdSeconds * float64(time.Second)),
		Target:    p.Targets[profile.ServiceLevelID].Value, MaxOccupancy: p.Staffing.MaxOccupancy}
}

// intervalStart returns the start of the local staffing interval of length
// d holding ms.
func intervalStart(loc *time.Location, d time.Duration, ms int64) int64 {
	_, off := time.UnixMilli(ms).In(loc).Zone()
	local := ms + int64(off)*1000
	return local - mod(local, d.Milliseconds()) - int64(off)*1000
}

// staffingResults adds the staffing indicators to a query's results:
// agents_required and staffing_gap per interval when the query's window is
// the staffing interval, understaffed_intervals per day or month window.
func (qs *query) staffingResults(engines []*Engine) {
	if !staffingShown(qs.q) {
		return
	}
	required, _ := idOf("agents_required")
	gap, _ := idOf("staffing_gap")
	under, _ := idOf("understaffed_intervals")
	type win struct {
		group int32
		start int64
	}
	counts := map[win]int64{}
	zone := map[win]*centre{}
	for _, r := range staffingRows(engines) {
		c := qs.e.ps.of(r.CenterID)
		g := qs.group(profile.Agents, []string{r.CenterID, "", ""})
		switch {
		case qs.q.Window == c.p.Staffing.Interval:
			qs.extra = append(qs.extra, qs.result(required, r.Start, g, c, float64(r.Required)))
			if r.Agents {
				qs.extra = append(qs.extra, qs.result(gap, r.Start, g, c, r.Gap()))
			}
		case windowRank[qs.q.Window] >= windowRank[WindowDay] && r.Agents:
			w := win{g, windowStart(c.loc, qs.q.Window, r.Start)}
			counts[w] += b2i(r.Understaffed())
			zone[w] = c
		}
	}
	for w, n := range counts {
		qs.extra = append(qs.extra, qs.result(under, w.start, w.group, zone[w], float64(n)))
	}
}

// result is a derived count of group g in the window starting at start.
func (qs *query) result(ind id, start int64, g int32, c *centre, v float64) Result {
	key := qs.groups[g]
	r := Result{Indicator: cat.defs[ind].ID, Window: qs.q.Window, start: start, key: key, Value: v,
		WindowStart: time.UnixMilli(start).In(c.loc).Format(time.RFC3339), Dims: map[string]string{}}
	for i, d := range qs.q.GroupBy {
		r.Dims[d] = key[i]
	}
	return r
}

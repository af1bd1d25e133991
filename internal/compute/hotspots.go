package compute

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Hot spots (热点诉求, indicators.md "Hot spots"): the topic groups whose
// requests of a day stand out against their baseline, from the daily
// tickets_by_topic of the one engine that compute, the store and the
// reports share.

// HotspotQuery selects hot spots.
type HotspotQuery struct {
	Level  int  // topic level 1, 2 or 3; 0: each centre's profile's hotspot.level
	ByArea bool // groups by topic and area
	// From and To bound the days reported (local dates, inclusive; empty:
	// every judged day).
	From, To string
}

// HotspotRow is one hot spot, in the shape of `hotlineqc hotspots`.
type HotspotRow struct {
	Day      string  `json:"day"`
	CenterID string  `json:"center_id"`
	Level    int     `json:"level"`
	Topic    string  `json:"topic"`
	Name     string  `json:"name"`
	Area     string  `json:"area,omitempty"`
	Count    int64   `json:"count"`
	Baseline float64 `json:"baseline"`
	Score    float64 `json:"score"`
}

// levelDims names the dimension of each topic level.
var levelDims = map[int]string{1: "topic_l1", 2: "topic_l2", 3: "topic"}

func (hq HotspotQuery) query(set *profile.Set) (indicator.Query, int, error) {
	level := hq.Level
	if level == 0 {
		level = set.Default.Hotspot.Level
	}
	dim, ok := levelDims[level]
	if !ok {
		return indicator.Query{}, 0, fmt.Errorf("level %d: want 1, 2 or 3", hq.Level)
	}
	q := indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id", dim}}
	if hq.ByArea {
		q.GroupBy = append(q.GroupBy, "area")
	}
	for _, d := range []string{hq.From, hq.To} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			return q, 0, fmt.Errorf("day %q: want YYYY-MM-DD", d)
		}
	}
	return q, level, nil
}

// Hotspots evaluates the files and returns their hot spots, newest first.
func Hotspots(ctx context.Context, o Options, hq HotspotQuery) ([]HotspotRow, error) {
	q, level, err := hq.query(o.Profiles)
	if err != nil {
		return nil, err
	}
	o.Query = q
	out, err := Run(ctx, o)
	if err != nil {
		return nil, err
	}
	return hotspotRows(o.Profiles, out.Results, level, hq, nil)
}

// HotspotsFromStore is Hotspots over the aggregates a pipeline stored.
func HotspotsFromStore(ctx context.Context, st *stored.Aggregates, set *profile.Set, hq HotspotQuery) ([]HotspotRow, error) {
	q, level, err := hq.query(set)
	if err != nil {
		return nil, err
	}
	out, err := FromStore(ctx, st, set, q, time.Time{})
	if err != nil {
		return nil, err
	}
	return hotspotRows(set, out.Results, level, hq, nil)
}

// HotspotsOf finds the hot spots in daily results already computed by
// centre and topic group (the query HotspotQuery.Query gives), each
// centre's data starting on first's day (the live figures read only the
// recent days: the earliest result is not the data's first day).
func HotspotsOf(set *profile.Set, results []indicator.Result, hq HotspotQuery, first map[string]int64) ([]HotspotRow, error) {
	_, level, err := hq.query(set)
	if err != nil {
		return nil, err
	}
	return hotspotRows(set, results, level, hq, first)
}

// Query returns the query whose daily results the hot spots are found in.
func (hq HotspotQuery) Query(set *profile.Set) (indicator.Query, error) {
	q, _, err := hq.query(set)
	return q, err
}

// hotspotRows turns daily results by centre and topic group into hot
// spots: each centre with its profile's settings, time zone and table,
// judged from its first day with data plus the baseline.
func hotspotRows(set *profile.Set, results []indicator.Result, level int, hq HotspotQuery, known map[string]int64) ([]HotspotRow, error) {
	dim := levelDims[level]
	counts := map[string][]indicator.DayCount{}
	first := map[string]int64{}
	for c, f := range known {
		first[c] = indicator.DayStart(set.For(c).Location(), f)
	}
	for _, r := range results {
		ts, err := time.Parse(time.RFC3339, r.WindowStart)
		if err != nil {
			return nil, err
		}
		c := r.Dims["center_id"]
		if f, ok := first[c]; known == nil && (!ok || ts.UnixMilli() < f) {
			first[c] = ts.UnixMilli() // the centre's first day with data of any kind
		}
		if r.Indicator != "tickets_by_topic" || r.Dims[dim] == "" {
			continue
		}
		counts[c] = append(counts[c], indicator.DayCount{Day: ts.UnixMilli(), Center: c, Group: r.Dims[dim], Area: r.Dims["area"], Count: int64(r.Value)})
	}
	var out []HotspotRow
	for c, cs := range counts {
		p := set.For(c)
		loc := p.Location()
		from, to := int64(-1<<62), int64(1<<62)
		if hq.From != "" {
			t, _ := time.ParseInLocation(time.DateOnly, hq.From, loc)
			from = t.UnixMilli()
		}
		if hq.To != "" {
			t, _ := time.ParseInLocation(time.DateOnly, hq.To, loc)
			to = t.AddDate(0, 0, 1).UnixMilli()
		}
		cal, err := p.NewCalendar()
		if err != nil {
			return nil, err
		}
		workday := func(day int64) bool { return cal.IsWorkday(cal.DayAt(day)) }
		for _, h := range indicator.Hotspots(p.Hotspot, loc, workday, first[c], cs, from, to) {
			out = append(out, HotspotRow{Day: time.UnixMilli(h.Day).In(loc).Format(time.DateOnly), CenterID: c, Level: level,
				Topic: h.Group, Name: p.TopicTable.PathName(h.Group), Area: h.Area, Count: h.Count, Baseline: h.Mean, Score: h.Score})
		}
	}
	sortHotspots(out)
	return out, nil
}

// sortHotspots orders rows newest first, then by score, centre and group.
func sortHotspots(rs []HotspotRow) {
	less := func(a, b *HotspotRow) bool {
		switch {
		case a.Day != b.Day:
			return a.Day > b.Day
		case a.Score != b.Score:
			return a.Score > b.Score
		case a.CenterID != b.CenterID:
			return a.CenterID < b.CenterID
		case a.Topic != b.Topic:
			return a.Topic < b.Topic
		}
		return a.Area < b.Area
	}
	slices.SortFunc(rs, func(a, b HotspotRow) int {
		switch {
		case less(&a, &b):
			return -1
		case less(&b, &a):
			return 1
		}
		return 0
	})
}

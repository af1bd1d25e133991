package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// WeekTopic is one of a week's top topic groups (热点诉求, revision 1.2):
// its requests that week and the days it was a hot spot.
type WeekTopic struct {
	Week       string // "2026-10-05 至 2026-10-11": Monday to Sunday, clipped to the month
	Rank       int
	Topic      string // the group's code at the profile's hotspot.level
	Name       string // from the profile's topic table
	Count      int64
	HotDays    int
	MaxScore   float64 // the highest score on a hot day, 0 when none
	FirstHotOn string  // the first hot day of the week, "" when none
}

// weekTop is how many groups each week lists.
const weekTop = 5

// weeklyTopics lists, for each week of the month, the centre's topic
// groups with the most requests, with their hot-spot days: the hot spots
// of `hotlineqc hotspots`, from the same daily counts.
func weeklyTopics(src Source, p *profile.Profile, center string, start time.Time) ([]WeekTopic, error) {
	set := profile.Single(p)
	hq := compute.HotspotQuery{}
	q, err := hq.Query(set)
	if err != nil {
		return nil, err
	}
	var rs []indicator.Result
	for _, r := range src.Results(q) {
		if r.Dims["center_id"] == center {
			rs = append(rs, r)
		}
	}
	hot, err := compute.HotspotsOf(set, rs, hq, nil)
	if err != nil {
		return nil, err
	}
	dim := q.GroupBy[1]
	end := start.AddDate(0, 1, 0)
	var out []WeekTopic
	for w := start; w.Before(end); {
		next := time.Date(w.Year(), w.Month(), w.Day()+1, 0, 0, 0, 0, w.Location())
		for next.Weekday() != time.Monday && next.Before(end) {
			next = next.AddDate(0, 0, 1)
		}
		label := w.Format(time.DateOnly) + " 至 " + next.AddDate(0, 0, -1).Format(time.DateOnly)
		by := map[string]*WeekTopic{}
		for _, r := range rs {
			ts, err := time.Parse(time.RFC3339, r.WindowStart)
			if err != nil || r.Indicator != "tickets_by_topic" || r.Dims[dim] == "" || ts.Before(w) || !ts.Before(next) {
				continue
			}
			g := r.Dims[dim]
			if by[g] == nil {
				by[g] = &WeekTopic{Week: label, Topic: g, Name: p.TopicTable.PathName(g)}
			}
			by[g].Count += int64(r.Value)
		}
		for _, h := range hot {
			d, _ := time.ParseInLocation(time.DateOnly, h.Day, w.Location())
			if wt := by[h.Topic]; wt != nil && !d.Before(w) && d.Before(next) {
				wt.HotDays++
				wt.MaxScore = max(wt.MaxScore, h.Score)
				if wt.FirstHotOn == "" || h.Day < wt.FirstHotOn {
					wt.FirstHotOn = h.Day
				}
			}
		}
		week := make([]WeekTopic, 0, len(by))
		for _, wt := range by {
			week = append(week, *wt)
		}
		slices.SortFunc(week, func(a, b WeekTopic) int {
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			return cmp.Compare(a.Topic, b.Topic)
		})
		for i := range week[:min(weekTop, len(week))] {
			week[i].Rank = i + 1
			out = append(out, week[i])
		}
		w = next
	}
	return out, nil
}

// hotspotTable is the weekly hot-spot sheet.
func (r *Report) hotspotTable() Table {
	t := Table{Name: "热点诉求（按周）", Slug: "hotspots",
		Headers: []string{"周", "排名", "诉求分类", "名称", "受理量", "热点天数", "最高得分", "首个热点日"},
		Widths:  []float64{26, 6, 12, 30, 10, 10, 10, 14}}
	for _, w := range r.Hotspots {
		score := ValueCell(w.MaxScore, Decimal2)
		if w.HotDays == 0 {
			score = TextCell("")
		}
		t.Rows = append(t.Rows, []Cell{TextCell(w.Week), ValueCell(float64(w.Rank), Integer), TextCell(w.Topic), TextCell(w.Name),
			ValueCell(float64(w.Count), Integer), ValueCell(float64(w.HotDays), Integer), score, TextCell(w.FirstHotOn)})
	}
	return t
}

package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Source is where a report's figures come from: event files or a store.
type Source interface {
	// Results answers a query, as compute does.
	Results(q indicator.Query) []indicator.Result
	// Tickets returns the evaluated state of every ticket.
	Tickets() []indicator.EntityState
	Counts() indicator.Counts
	AsOf() int64
	Inputs() []Input
	Name() string
	// Reviews lists the quality-inspection reviews (复核) as of AsOf.
	Reviews() []indicator.Review
}

// ErrNoData is returned for a month without any figure for the centre.
var ErrNoData = errors.New("no data")

// Month parses YYYY-MM into the first instant of the month in loc.
func Month(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return t, nil
}

// Centers returns the centres with figures in the month, sorted.
func Centers(src Source, month string) ([]string, error) {
	return PeriodCenters(src, month, month)
}

// PeriodCenters returns the centres with figures in the months from to
// to (YYYY-MM), sorted. A month is the centre's own: its results' window
// starts are written in the time zone of its profile.
func PeriodCenters(src Source, from, to string) ([]string, error) {
	for _, m := range []string{from, to} {
		if _, err := time.Parse("2006-01", m); err != nil {
			return nil, fmt.Errorf("month %q: want YYYY-MM", m)
		}
	}
	seen := map[string]bool{}
	for _, r := range src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}) {
		if m := r.WindowStart[:len("2006-01")]; m >= from && m <= to {
			seen[r.Dims["center_id"]] = true
		}
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w for %s – %s", ErrNoData, from, to)
	}
	return out, nil
}

// Build assembles the report of one centre and month.
func Build(src Source, p *profile.Profile, month, center string) (*Report, error) {
	start, err := Month(month, p.Location())
	if err != nil {
		return nil, err
	}
	centers, err := Centers(src, month)
	if err != nil {
		return nil, err
	}
	if !contains(centers, center) {
		return nil, fmt.Errorf("unknown centre %q for %s (centres with data: %s)", center, month, strings.Join(centers, ", "))
	}
	r := &Report{Center: center, Month: month, Profile: p, Events: src.Counts(), Source: src.Name(), Inputs: src.Inputs(),
		AsOf: time.UnixMilli(src.AsOf()).In(p.Location()).Format("2006-01-02 15:04:05")}
	ws := start.Format(time.RFC3339)
	month1 := filter(src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}), center, ws)
	r.Overall = overall(p, month1)
	byDept := filter(src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id", "department_id"}}), center, ws)
	r.Depts = departments(p, byDept)
	r.Late = late(src.Tickets(), center, start, start.AddDate(0, 1, 0), src.AsOf())
	r.Daily = daily(src.Results(indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}), center, start)
	r.Teams = teams(filter(src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id", "team"}}), center, ws))
	byTeam := filter(src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id", "team"}}), center, ws)
	byAgent := filter(src.Results(indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id", "agent_id", "team"}}), center, ws)
	r.QATeams, r.QAAgents = ranks(byTeam, qaRanking, false), ranks(byAgent, qaRanking, true)
	r.AgentTeams, r.Agents = ranks(byTeam, agentRanking, false), ranks(byAgent, agentRanking, true)
	r.Reviews = reviews(src.Reviews(), center, start.UnixMilli(), start.AddDate(0, 1, 0).UnixMilli())
	if r.Hotspots, err = weeklyTopics(src, p, center, start); err != nil {
		return nil, err
	}
	return r, nil
}

// reviews keeps the centre's reviews made in the month.
func reviews(all []indicator.Review, center string, from, to int64) []indicator.Review {
	var out []indicator.Review
	for _, r := range all {
		if r.CenterID == center && r.After.TS >= from && r.After.TS < to {
			out = append(out, r)
		}
	}
	return out
}

// ranking is what a ranking of teams or agents shows and how it orders
// them: its columns, the indicator a row must have to be ranked, and the
// order, best first.
type ranking struct {
	cols   []string
	needs  string
	better func(a, b Rank) int
}

func val(r Rank, id string) float64 {
	if v := r.Values[id]; v != nil {
		return *v
	}
	return 0
}

// qaRanking: the teams or agents that had calls inspected in the month,
// by pass rate, then mean score.
var qaRanking = ranking{cols: QAIndicators, needs: "call_qa_pass_rate", better: func(a, b Rank) int {
	return cmp.Or(cmp.Compare(val(b, "call_qa_pass_rate"), val(a, "call_qa_pass_rate")),
		cmp.Compare(val(b, "call_qa_avg_percent"), val(a, "call_qa_avg_percent")))
}}

// agentRanking: the teams or agents signed in during the month, by calls
// answered per signed-in hour, then by the lower 示忙率.
var agentRanking = ranking{cols: AgentIndicators, needs: "agent_online_seconds", better: func(a, b Rank) int {
	return cmp.Or(cmp.Compare(val(b, "calls_per_agent_hour"), val(a, "calls_per_agent_hour")),
		cmp.Compare(val(a, "agent_not_ready_rate"), val(b, "agent_not_ready_rate")))
}}

// ranks ranks the teams (or agents) of rs by k; equal figures share a rank.
func ranks(rs []indicator.Result, k ranking, agents bool) []Rank {
	by := map[[2]string]map[string]*float64{}
	for _, r := range rs {
		if !slices.Contains(k.cols, r.Indicator) {
			continue
		}
		key := [2]string{r.Dims["agent_id"], r.Dims["team"]}
		if by[key] == nil {
			by[key] = map[string]*float64{}
		}
		v := r.Value
		by[key][r.Indicator] = &v
	}
	var out []Rank
	for key, vs := range by {
		// calls evaluated unanswered have no agent to rank
		if vs[k.needs] != nil && !(agents && key[0] == "") {
			out = append(out, Rank{Agent: key[0], Team: key[1], Values: vs})
		}
	}
	slices.SortFunc(out, func(a, b Rank) int {
		return cmp.Or(k.better(a, b), strings.Compare(a.Team, b.Team), strings.Compare(a.Agent, b.Agent))
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && k.better(out[i-1], out[i]) == 0 {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out
}

// teams gathers the call figures by team, teams sorted, "" last.
func teams(rs []indicator.Result) []Team {
	by := map[string]map[string]*float64{}
	for _, r := range rs {
		t := r.Dims["team"]
		if by[t] == nil {
			by[t] = map[string]*float64{}
		}
		v := r.Value
		by[t][r.Indicator] = &v
	}
	names := SortedKeys(by)
	if len(names) > 0 && names[0] == "" {
		names = append(names[1:], "")
	}
	out := make([]Team, 0, len(names))
	for _, n := range names {
		out = append(out, Team{Team: n, Values: by[n]})
	}
	return out
}

// filter keeps the results of the centre in the window starting at ws, and
// overdue_open (which is counted in the window of the evaluation time).
func filter(rs []indicator.Result, center, ws string) []indicator.Result {
	var out []indicator.Result
	for _, r := range rs {
		if r.Dims["center_id"] == center && (r.WindowStart == ws || r.Indicator == "overdue_open") {
			out = append(out, r)
		}
	}
	return out
}

func overall(p *profile.Profile, rs []indicator.Result) []Line {
	by := map[string]indicator.Result{}
	for _, r := range rs {
		by[r.Indicator] = r
	}
	var out []Line
	for _, ind := range indicator.Catalogue() {
		l := Line{ID: ind.ID, Name: p.IndicatorName(ind.ID), Kind: ind.Kind}
		if t, ok := p.Targets[ind.ID]; ok {
			l.Target = &t
		}
		if res, ok := by[ind.ID]; ok {
			v := res.Value
			l.Value, l.Numerator, l.Denominator, l.Met = &v, res.Numerator, res.Denominator, res.Met
		}
		out = append(out, l)
	}
	return out
}

func departments(p *profile.Profile, rs []indicator.Result) []DeptScore {
	values := map[string]map[string]float64{}
	for _, r := range rs {
		d := r.Dims["department_id"]
		if d == "" {
			continue // tickets not (or no longer) with a department
		}
		if values[d] == nil {
			values[d] = map[string]float64{}
		}
		values[d][r.Indicator] = r.Value
	}
	var out []DeptScore
	for d, vs := range values {
		ds := DeptScore{Department: d}
		for _, it := range p.Scoring.Items {
			var val *float64
			if v, ok := vs[it.Indicator]; ok {
				val = &v
			}
			var target *profile.Target
			if t, ok := p.Targets[it.Indicator]; ok {
				target = &t
			}
			ds.Items = append(ds.Items, scoreItem(it, val, target))
		}
		ds.Score = score(ds.Items)
		ds.Grade = Grade(ds.Score)
		out = append(out, ds)
	}
	rank(out)
	return out
}

// late lists the tickets due in [from, to) that missed their deadline: the
// on-time closure they count in was not met.
func late(ts []indicator.EntityState, center string, from, to time.Time, asOf int64) []LateTicket {
	var out []LateTicket
	for _, t := range ts {
		if t.CenterID != center {
			continue
		}
		for _, c := range t.Contribs {
			if c.Indicator != "on_time_closure_rate" || c.Den != 1 || c.Num != 0 ||
				c.Bucket < from.UnixMilli() || c.Bucket >= to.UnixMilli() {
				continue
			}
			end := t.Tick.ReplyTS
			if end == 0 || end > asOf {
				end = asOf
			}
			out = append(out, LateTicket{TicketID: t.ID, Department: c.Dims[1], Category: t.Tick.Category,
				Urgency: t.Tick.Urgency, Due: t.Tick.DueTS, Reply: t.Tick.ReplyTS,
				LateHours: Round2(float64(end-t.Tick.DueTS) / 3_600_000)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Due != out[j].Due {
			return out[i].Due < out[j].Due
		}
		return out[i].TicketID < out[j].TicketID
	})
	return out
}

func daily(rs []indicator.Result, center string, start time.Time) []Day {
	byDay := map[string]map[string]float64{}
	for _, r := range rs {
		if r.Dims["center_id"] != center {
			continue
		}
		d := r.WindowStart[:10]
		if byDay[d] == nil {
			byDay[d] = map[string]float64{}
		}
		byDay[d][r.Indicator] = r.Value
	}
	var out []Day
	for d := start; d.Before(start.AddDate(0, 1, 0)); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		day := Day{Date: key, Values: map[string]*float64{}}
		for _, ind := range DailyIndicators {
			if v, ok := byDay[key][ind]; ok {
				day.Values[ind] = &v
			}
		}
		out = append(out, day)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

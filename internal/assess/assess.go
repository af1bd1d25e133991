// Package assess is the certification self-assessment of a centre against
// GB/T 33358-2016 and its profile's targets over whole months (docs/assessment.md):
// the conformity table, 7×24 service, the drivers of each gap, the
// improvement on the previous period, the records audit and the basis, from
// the same report.Source as the monthly evaluation, written as XLSX, CSV and
// HTML with the monthly report's tables and style.
package assess

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

// Verdict is how a requirement was met over a period.
type Verdict string

// Verdicts of the conformity table: every measured month met, some, none,
// or no month measured.
const (
	Conform    Verdict = "符合"
	Partial    Verdict = "部分符合"
	NotConform Verdict = "不符合"
	NoData     Verdict = "无数据"
)

// Assessment is a centre's self-assessment against GB/T 33358-2016 and the
// targets of its profile over a period of whole months
// (docs/spec/assessment.md).
type Assessment struct {
	Center   string
	From, To string // first and last month, YYYY-MM
	Months   []string
	Profile  *profile.Profile
	AsOf     string
	Source   string
	Events   indicator.Counts
	Inputs   []report.Input
	Rows     []Requirement
	Service  Service724
	// Previous is the period of as many months just before, evaluated
	// the same way (nil when not asked for).
	Previous *Period
	Audit    *compute.AuditOutput // the records audit of the centre and period
}

// Period is the evaluation of one period.
type Period struct {
	From, To string
	Months   []string
	Rows     []Requirement
	Service  Service724
}

// Requirement is one row of the conformity table.
type Requirement struct {
	Key       string // stable: std.*, target.<indicator>
	Name      string // 要求
	Clause    string // 条款或来源
	Indicator string // the indicator it is measured by
	Kind      profile.Kind
	Target    *profile.Target
	Value     *float64 // over the period; nil: no data
	Num, Den  float64
	Months    []MonthValue
	Met       int // months met
	Measured  int // months with a value
	Worst     string
	WorstVal  *float64
	Verdict   Verdict
	Evidence  string
	Drivers   []Driver // for a requirement not met: what contributes most
	// Change is the value minus the previous period's; Rectified marks a
	// requirement not met before and met now (已整改).
	Change    *float64
	Prev      *Requirement
	Rectified bool
}

// MonthValue is a requirement's value in one month.
type MonthValue struct {
	Month string
	Value *float64
	Met   *bool
}

// Driver is one contributor to a shortfall: a month, queue, department,
// category, channel or day, with its counts and how many more
// (fewer, for a "≤" target) numerator events it needed to meet the target.
type Driver struct {
	Requirement string
	Dimension   string // 中文: 月份, 日期, 队列, 承办单位, …
	Value       string
	Num, Den    float64
	Rate        float64
	Shortfall   float64
}

// Service724 is the 7×24 service check of a period: every hour of every
// day must have had 人工 service. In a month with agent events (revision
// 1.2) that is presence: an hour without any agent staffed (ready, busy or
// in wrap-up) is a gap, whatever its calls; in a month without, an hour
// without an answered call is.
type Service724 struct {
	Hours     int // hours of the period up to the evaluation time
	Offered   int // hours with calls offered
	NoAnswer  int // hours without an answered call
	Unserved  int // hours with calls offered and none answered
	Gaps      []HourGap
	ByMonth   []MonthService
	HasCalls  bool
	Evaluated bool
}

// HourGap is an hour without an answered call.
type HourGap struct {
	Hour    string  // YYYY-MM-DD HH:00
	Offered float64 // calls offered in the hour
}

// MonthService is the 7×24 check of one month. NoAnswer counts the hours
// without service: without a staffed agent when Presence (the month has
// agent events), else without an answered call.
type MonthService struct {
	Month                              string
	Hours, Offered, NoAnswer, Unserved int
	Presence                           bool
}

// dimNames are the Chinese names of the dimensions drivers are shown by.
var dimNames = map[string]string{"queue": "队列", "channel": "渠道", "agent_id": "坐席", "team": "团队(外包)", "department_id": "承办单位",
	"category": "类别", "urgency": "紧急程度"}

// driverDims are the dimensions searched for the drivers of a gap.
var driverDims = map[profile.Entity][]string{
	profile.Calls:   {"queue", "channel", "team"},
	profile.Tickets: {"department_id", "category", "channel", "urgency"},
}

// maxDrivers is how many contributors each dimension lists.
const maxDrivers = 5

// stdAnswerTarget is the standard's connection rate over any 24 hours.
var stdAnswerTarget = profile.Target{Op: ">=", Value: 0.95}

// assessor evaluates requirements from a source for one centre.
type assessor struct {
	src    report.Source
	p      *profile.Profile
	center string
	asOf   int64
	cache  map[string][]indicator.Result
}

// results answers a query for the centre, cached.
func (a *assessor) results(window string, dims ...string) []indicator.Result {
	key := window + "|" + strings.Join(dims, ",")
	if rs, ok := a.cache[key]; ok {
		return rs
	}
	var out []indicator.Result
	for _, r := range a.src.Results(indicator.Query{Window: window, GroupBy: append([]string{"center_id"}, dims...)}) {
		if r.Dims["center_id"] == a.center {
			out = append(out, r)
		}
	}
	a.cache[key] = out
	return out
}

// ratio is the numerator and denominator of a value.
type ratio struct{ num, den float64 }

func (r *ratio) add(res indicator.Result) {
	if res.Numerator != nil && res.Denominator != nil {
		r.num += *res.Numerator
		r.den += *res.Denominator
		return
	}
	r.num += res.Value // a count
	r.den = 1
}

func (r ratio) value(k profile.Kind) (float64, bool) {
	if k == profile.Count {
		return r.num, r.den > 0
	}
	if r.den == 0 {
		return 0, false
	}
	return r.num / r.den, true
}

// shortfall is how many more (fewer, for "≤") numerator events r needed
// to meet t.
func shortfall(t profile.Target, r ratio) float64 {
	if t.Op == "<=" {
		return report.Round2(r.num - t.Value*r.den)
	}
	return report.Round2(t.Value*r.den - r.num)
}

// monthStarts returns the RFC 3339 window starts and the YYYY-MM names of
// n months from start.
func monthStarts(start time.Time, n int) (ws, names []string) {
	for i := range n {
		m := start.AddDate(0, i, 0)
		ws = append(ws, m.Format(time.RFC3339))
		names = append(names, m.Format("2006-01"))
	}
	return ws, names
}

// sumBy adds results per window start, keeping those match accepts.
func sumBy(rs []indicator.Result, ind string, match func(indicator.Result) bool) map[string]*ratio {
	out := map[string]*ratio{}
	for _, r := range rs {
		if r.Indicator != ind || (match != nil && !match(r)) {
			continue
		}
		if out[r.WindowStart] == nil {
			out[r.WindowStart] = &ratio{}
		}
		out[r.WindowStart].add(r)
	}
	return out
}

// rate evaluates a requirement from monthly sums.
func (a *assessor) rate(req Requirement, ws, names []string, monthly map[string]*ratio) Requirement {
	var total ratio
	for i, w := range ws {
		mv := MonthValue{Month: names[i]}
		if r := monthly[w]; r != nil {
			if v, ok := r.value(req.Kind); ok {
				mv.Value = &v
				total.num, total.den = total.num+r.num, total.den+r.den
				req.Measured++
				if req.Target != nil {
					met := req.Target.Met(v)
					mv.Met = &met
					if met {
						req.Met++
					}
					if req.WorstVal == nil || worse(*req.Target, v, *req.WorstVal) {
						req.Worst, req.WorstVal = names[i], &v
					}
				}
			}
		}
		req.Months = append(req.Months, mv)
	}
	req.Num, req.Den = total.num, total.den
	if v, ok := total.value(req.Kind); ok && req.Measured > 0 {
		req.Value = &v
	}
	req.Verdict = verdict(req.Met, req.Measured)
	return req
}

func worse(t profile.Target, v, than float64) bool {
	if t.Op == "<=" {
		return v > than
	}
	return v < than
}

func verdict(met, measured int) Verdict {
	switch {
	case measured == 0:
		return NoData
	case met == measured:
		return Conform
	case met == 0:
		return NotConform
	}
	return Partial
}

// evaluate returns the requirements of the n months from start.
func (a *assessor) evaluate(start time.Time, n int) *Period {
	ws, names := monthStarts(start, n)
	per := &Period{From: names[0], To: names[len(names)-1], Months: names}
	month := a.results(indicator.WindowMonth)
	p := a.p

	// The standard's reported requirements.
	sl := p.Calls.ServiceLevel
	if t, ok := p.Targets[profile.ServiceLevelID]; ok {
		sums := sumBy(month, profile.ServiceLevelID, nil)
		per.Rows = append(per.Rows, a.withDrivers(a.rate(Requirement{Key: "std.answer_within_threshold",
			Name: fmt.Sprintf("人工服务请求 %s 秒内应答", report.TrimFloat(sl.ThresholdSeconds)), Clause: "GB/T 33358-2016 服务要求",
			Indicator: profile.ServiceLevelID, Kind: profile.Rate, Target: &t,
			Evidence: "目标取自评价口径 " + p.ID}, ws, names, sums), ws, names, sums))
	}
	per.Rows = append(per.Rows, a.answer24h(ws, names))
	per.Rows = append(per.Rows, a.written(ws, names)...)
	per.Service = a.service(start, n)
	per.Rows = append(per.Rows, a.serviceRow(per.Service))

	// Every target of the profile.
	for _, ind := range indicator.Catalogue() {
		t, ok := p.Targets[ind.ID]
		if !ok {
			continue
		}
		sums := sumBy(month, ind.ID, nil)
		per.Rows = append(per.Rows, a.withDrivers(a.rate(Requirement{Key: "target." + ind.ID,
			Name: p.IndicatorName(ind.ID) + " " + report.TargetText(&t), Clause: "评价口径 " + p.ID, Indicator: ind.ID, Kind: ind.Kind,
			Target: &t, Evidence: "按月计算，与月度考核报告相同"}, ws, names, sums), ws, names, sums))
	}
	return per
}

// answer24h is the standard's connection rate of at least 95% over any 24
// hours, checked on each calendar day (the rolling value is in
// Prometheus): a month meets it when each of its days with calls does.
func (a *assessor) answer24h(ws, names []string) Requirement {
	t := stdAnswerTarget
	req := Requirement{Key: "std.answer_rate_24h", Name: "24 小时呼叫接通率 ≥ 95%", Clause: "GB/T 33358-2016 服务要求",
		Indicator: "answer_rate", Kind: profile.Rate, Target: &t,
		Evidence: "按自然日计算，每日均达标的月份计为达标；最差值为最差的一天"}
	days := map[string][]indicator.Result{} // month start -> daily results
	for _, r := range a.results(indicator.WindowDay) {
		if r.Indicator == "answer_rate" {
			m := r.WindowStart[:7]
			days[m] = append(days[m], r)
		}
	}
	var total ratio
	for i, w := range ws {
		mv := MonthValue{Month: names[i]}
		var month ratio
		met := true
		for _, d := range days[w[:7]] {
			month.add(d)
			if !t.Met(d.Value) {
				met = false
			}
			if req.WorstVal == nil || d.Value < *req.WorstVal {
				v := d.Value
				req.Worst, req.WorstVal = d.WindowStart[:10], &v
			}
		}
		if v, ok := month.value(profile.Rate); ok {
			mv.Value, mv.Met = &v, &met
			req.Measured++
			if met {
				req.Met++
			}
			total.num, total.den = total.num+month.num, total.den+month.den
		}
		req.Months = append(req.Months, mv)
	}
	req.Num, req.Den = total.num, total.den
	if v, ok := total.value(profile.Rate); ok {
		req.Value = &v
	}
	req.Verdict = verdict(req.Met, req.Measured)
	if req.Verdict == Partial || req.Verdict == NotConform {
		var below []Driver
		for _, w := range ws {
			for _, d := range days[w[:7]] {
				var r ratio
				r.add(d)
				if s := shortfall(t, r); s > 0 {
					below = append(below, Driver{Requirement: req.Name, Dimension: "日期", Value: d.WindowStart[:10],
						Num: r.num, Den: r.den, Rate: d.Value, Shortfall: s})
				}
			}
		}
		req.Drivers = append(top(below), a.dimDrivers(req, ws, "queue", nil)...)
	}
	return req
}

// written is the first response on written channels: one requirement
// per limit of the profile (3 minutes for SMS, web, WeChat and apps, 24
// hours for the mailbox by default).
func (a *assessor) written(ws, names []string) []Requirement {
	byLimit := map[string][]string{}
	for ch, r := range a.p.Tickets.WrittenResponse {
		byLimit[r.String()] = append(byLimit[r.String()], ch)
	}
	limits := make([]string, 0, len(byLimit))
	for l := range byLimit {
		sort.Strings(byLimit[l])
		limits = append(limits, l)
	}
	sort.Slice(limits, func(i, j int) bool { return byLimit[limits[i]][0] < byLimit[limits[j]][0] })
	t, ok := a.p.Targets["written_response_timeliness_rate"]
	evidence := "目标取自评价口径 " + a.p.ID
	if !ok {
		t, evidence = profile.Target{Op: ">=", Value: 0.95}, "评价口径未设目标，按 ≥ 95% 评价"
	}
	var out []Requirement
	for _, l := range limits {
		chans := byLimit[l]
		in := map[string]bool{}
		for _, c := range chans {
			in[c] = true
		}
		match := func(r indicator.Result) bool { return in[r.Dims["channel"]] }
		sums := sumBy(a.results(indicator.WindowMonth, "channel"), "written_response_timeliness_rate", match)
		req := a.rate(Requirement{Key: "std.written_response_" + l, Name: fmt.Sprintf("书面渠道（%s）%s内首次响应", channelList(chans), limitText(l)),
			Clause: "GB/T 33358-2016 服务要求", Indicator: "written_response_timeliness_rate", Kind: profile.Rate, Target: &t,
			Evidence: evidence + "；渠道 " + strings.Join(chans, ", ")}, ws, names, sums)
		if req.Verdict == Partial || req.Verdict == NotConform {
			req.Drivers = append(monthDrivers(req, ws, names, sums), a.dimDrivers(req, ws, "channel", match)...)
		}
		out = append(out, req)
	}
	return out
}

var channelNames = map[string]string{"sms": "短信", "web": "网站", "wechat": "微信", "app": "App", "email": "信箱", "phone": "电话"}

// limitText names a limit (3m, 24h, 5wd) in Chinese.
func limitText(l string) string {
	for _, u := range []struct{ suffix, name string }{{"wd", " 个工作日"}, {"m", " 分钟"}, {"h", " 小时"}, {"d", " 天"}} {
		if n, ok := strings.CutSuffix(l, u.suffix); ok {
			return n + u.name
		}
	}
	return l
}

func channelList(chans []string) string {
	out := make([]string, len(chans))
	for i, c := range chans {
		out[i] = channelNames[c]
		if out[i] == "" {
			out[i] = c
		}
	}
	return strings.Join(out, "、")
}

// withDrivers adds the drivers of a requirement not met: the months (from
// its monthly sums) and the dimensions of its indicator's family.
func (a *assessor) withDrivers(req Requirement, ws, names []string, sums map[string]*ratio) Requirement {
	if (req.Verdict != Partial && req.Verdict != NotConform) || req.Kind != profile.Rate {
		return req
	}
	ind, _ := indicator.Lookup(req.Indicator)
	req.Drivers = monthDrivers(req, ws, names, sums)
	for _, d := range driverDims[ind.Entity] {
		req.Drivers = append(req.Drivers, a.dimDrivers(req, ws, d, nil)...)
	}
	return req
}

// monthDrivers lists the months that fell short.
func monthDrivers(req Requirement, ws, names []string, sums map[string]*ratio) []Driver {
	var out []Driver
	for i, w := range ws {
		mv := req.Months[i]
		if mv.Met == nil || *mv.Met || sums[w] == nil {
			continue
		}
		r := *sums[w]
		out = append(out, Driver{Requirement: req.Name, Dimension: "月份", Value: names[i], Num: r.num, Den: r.den,
			Rate: *mv.Value, Shortfall: shortfall(*req.Target, r)})
	}
	return top(out)
}

// dimDrivers lists the values of a dimension with the largest shortfall
// over the period, among the results match accepts (nil: all).
func (a *assessor) dimDrivers(req Requirement, ws []string, dim string, match func(indicator.Result) bool) []Driver {
	inPeriod := map[string]bool{}
	for _, w := range ws {
		inPeriod[w] = true
	}
	sums := map[string]*ratio{}
	for _, r := range a.results(indicator.WindowMonth, dim) {
		if r.Indicator != req.Indicator || !inPeriod[r.WindowStart] || (match != nil && !match(r)) {
			continue
		}
		v := r.Dims[dim]
		if sums[v] == nil {
			sums[v] = &ratio{}
		}
		sums[v].add(r)
	}
	var out []Driver
	for v, r := range sums {
		rate, ok := r.value(profile.Rate)
		if s := shortfall(*req.Target, *r); ok && s > 0 {
			if v == "" {
				v = "(未填)"
			}
			out = append(out, Driver{Requirement: req.Name, Dimension: dimNames[dim], Value: v, Num: r.num, Den: r.den, Rate: rate, Shortfall: s})
		}
	}
	return top(out)
}

// top keeps the maxDrivers largest shortfalls, largest first.
func top(ds []Driver) []Driver {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Shortfall != ds[j].Shortfall {
			return ds[i].Shortfall > ds[j].Shortfall
		}
		return ds[i].Value < ds[j].Value
	})
	return ds[:min(len(ds), maxDrivers)]
}

// service checks every hour of n months from start, up to the evaluation
// time, for answered calls.
func (a *assessor) service(start time.Time, n int) Service724 {
	type hour struct{ offered, answered, staffed float64 }
	hours := map[string]*hour{}
	for _, r := range a.results(indicator.WindowHour) {
		var v *float64
		h := hours[r.WindowStart]
		if h == nil {
			h = &hour{}
			hours[r.WindowStart] = h
		}
		switch r.Indicator {
		case "calls_offered":
			v = &h.offered
		case "calls_answered":
			v = &h.answered
		case "agents_staffed":
			v = &h.staffed
		default:
			continue
		}
		*v += r.Value
	}
	var s Service724
	end := start.AddDate(0, n, 0)
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		ms := MonthService{Month: m.Format("2006-01")}
		next := m.AddDate(0, 1, 0)
		for h := m; h.Before(next); h = h.Add(time.Hour) {
			if v := hours[h.Format(time.RFC3339)]; v != nil && v.staffed > 0 {
				ms.Presence = true // the month has agent events: presence decides
				break
			}
		}
		for h := m; h.Before(next) && !h.Add(time.Hour).After(time.UnixMilli(a.asOf)); h = h.Add(time.Hour) {
			ms.Hours++
			v := hours[h.Format(time.RFC3339)]
			if v == nil {
				v = &hour{}
			}
			if v.offered > 0 {
				ms.Offered++
			}
			if ms.Presence && v.staffed == 0 || !ms.Presence && v.answered == 0 {
				ms.NoAnswer++
				if v.offered > 0 {
					ms.Unserved++
				}
				s.Gaps = append(s.Gaps, HourGap{Hour: h.Format("2006-01-02 15:04"), Offered: v.offered})
			}
		}
		s.Hours, s.Offered, s.NoAnswer, s.Unserved = s.Hours+ms.Hours, s.Offered+ms.Offered, s.NoAnswer+ms.NoAnswer, s.Unserved+ms.Unserved
		s.ByMonth = append(s.ByMonth, ms)
	}
	s.HasCalls = s.Offered > 0
	return s
}

// serviceRow is the 7×24 requirement: the share of hours with answered
// calls, met in a month when every hour had some.
func (a *assessor) serviceRow(s Service724) Requirement {
	t := profile.Target{Op: ">=", Value: 1}
	req := Requirement{Key: "std.service_7x24", Name: "7×24 小时人工服务", Clause: "GB/T 33358-2016 服务要求",
		Indicator: "calls_answered", Kind: profile.Rate, Target: &t,
		Evidence: fmt.Sprintf("期间 %d 小时，无人工服务 %d 小时(有坐席签入数据的月份按坐席在岗，其余按人工接通)，其中有来电 %d 小时", s.Hours, s.NoAnswer, s.Unserved)}
	for _, m := range s.ByMonth {
		mv := MonthValue{Month: m.Month}
		if m.Offered > 0 || m.Presence {
			v := float64(m.Hours-m.NoAnswer) / float64(m.Hours)
			met := m.NoAnswer == 0
			mv.Value, mv.Met = &v, &met
			req.Measured++
			if met {
				req.Met++
			}
			if req.WorstVal == nil || v < *req.WorstVal {
				req.Worst, req.WorstVal = m.Month, &v
			}
		}
		req.Months = append(req.Months, mv)
	}
	if s.HasCalls {
		req.Num, req.Den = float64(s.Hours-s.NoAnswer), float64(s.Hours)
		v := req.Num / req.Den
		req.Value = &v
	}
	req.Verdict = verdict(req.Met, req.Measured)
	return req
}

// Evaluate evaluates a centre over the months from to to (YYYY-MM) and, with
// previous, the period of as many months before; audit is the records
// audit of the period (any centre: the centre's classes are kept).
func Evaluate(src report.Source, p *profile.Profile, audit *compute.AuditOutput, center, from, to string, previous bool) (*Assessment, error) {
	loc := p.Location()
	start, err := report.Month(from, loc)
	if err != nil {
		return nil, err
	}
	last, err := report.Month(to, loc)
	if err != nil {
		return nil, err
	}
	n := (last.Year()-start.Year())*12 + int(last.Month()-start.Month()) + 1
	if n < 1 {
		return nil, fmt.Errorf("period %s – %s: the last month is before the first", from, to)
	}
	a := &assessor{src: src, p: p, center: center, asOf: src.AsOf(), cache: map[string][]indicator.Result{}}
	cur := a.evaluate(start, n)
	out := &Assessment{Center: center, From: cur.From, To: cur.To, Months: cur.Months, Profile: p, Events: src.Counts(),
		Source: src.Name(), Inputs: src.Inputs(), AsOf: time.UnixMilli(src.AsOf()).In(loc).Format("2006-01-02 15:04:05"),
		Rows: cur.Rows, Service: cur.Service}
	if previous {
		out.Previous = a.evaluate(start.AddDate(0, -n, 0), n)
		prev := map[string]*Requirement{}
		for i := range out.Previous.Rows {
			prev[out.Previous.Rows[i].Key] = &out.Previous.Rows[i]
		}
		for i := range out.Rows {
			r := &out.Rows[i]
			pr := prev[r.Key]
			if pr == nil {
				continue
			}
			r.Prev = pr
			if r.Value != nil && pr.Value != nil {
				d := *r.Value - *pr.Value
				r.Change = &d
			}
			r.Rectified = r.Verdict == Conform && (pr.Verdict == Partial || pr.Verdict == NotConform)
		}
	}
	if audit != nil {
		kept := *audit
		kept.Classes = nil
		for _, c := range audit.Classes {
			if c.CenterID == center && c.Month >= out.From && c.Month <= out.To {
				kept.Classes = append(kept.Classes, c)
			}
		}
		out.Audit = &kept
	}
	return out, nil
}

// Count returns how many requirements have the verdict.
func (a *Assessment) Count(v Verdict) int {
	n := 0
	for _, r := range a.Rows {
		if r.Verdict == v {
			n++
		}
	}
	return n
}

// Rectified returns how many requirements were rectified.
func (a *Assessment) Rectified() int {
	n := 0
	for _, r := range a.Rows {
		if r.Rectified {
			n++
		}
	}
	return n
}

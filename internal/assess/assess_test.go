package assess_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hotlineqc/hotlineqc/internal/assess"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// assessFixture is four simulated months (January to April 2026) of a
// small centre with records faults injected, evaluated from the file.
type assessFixture struct {
	file  string
	p     *profile.Profile
	src   report.Source        // of the monthly report
	asrc  report.Source        // of the assessment (AssessFiles)
	audit *compute.AuditOutput // of `hotlineqc audit`
	a     *assess.Assessment   // March–April, against January–February
}

var (
	fixtureOnce sync.Once
	fixture     *assessFixture
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture != nil {
		os.RemoveAll(filepath.Dir(fixture.file))
	}
	os.Exit(code)
}

func assessed(t *testing.T) *assessFixture {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = newAssessFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture
}

func newAssessFixture() (*assessFixture, error) {
	ctx := context.Background()
	p := profile.Default()
	cal, err := p.NewCalendar()
	if err != nil {
		return nil, err
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, p.Location())
	cfg := sim.Default(1, start, start.AddDate(0, 4, 0).Sub(start), 11)
	c := &cfg.Centers[0]
	c.PeakCallsPerHour, c.WrittenPerHour = 30, 4
	for i := range c.Queues {
		c.Queues[i].DayAgents, c.Queues[i].NightAgents = max(c.Queues[i].DayAgents/10, 1), 1
	}
	cfg.Inject = map[string]float64{}
	for _, class := range sim.InjectableClasses() {
		cfg.Inject[class] = 0.1
	}
	s, err := sim.New(cfg, p, cal)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "assess")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := s.Run(ctx, func(e sim.Event) error { buf.Write(e.JSON); buf.WriteByte('\n'); return nil }, nil); err != nil {
		return nil, err
	}
	f := &assessFixture{file: filepath.Join(dir, "events.ndjson"), p: p}
	if err := os.WriteFile(f.file, buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	asOf := time.Date(2026, 5, 1, 0, 0, 0, 0, p.Location())
	if f.src, err = report.FromFiles(ctx, report.FileOptions{Files: []string{f.file}, Profiles: profile.Single(p), AsOf: asOf}); err != nil {
		return nil, err
	}
	if f.audit, err = compute.Audit(ctx, compute.Options{Files: []string{f.file}, Profiles: profile.Single(p), AsOf: asOf},
		compute.AuditScope{From: "2026-03", To: "2026-04", Examples: -1}, nil); err != nil {
		return nil, err
	}
	var audit *compute.AuditOutput
	if f.asrc, audit, err = assess.FromFiles(ctx, report.FileOptions{Files: []string{f.file}, Profiles: profile.Single(p), AsOf: asOf},
		compute.AuditScope{From: "2026-03", To: "2026-04", Examples: -1}, nil); err != nil {
		return nil, err
	}
	f.a, err = assess.Evaluate(f.asrc, p, audit, "c12345", "2026-03", "2026-04", true)
	return f, err
}

func row(t *testing.T, a *assess.Assessment, key string) *assess.Requirement {
	t.Helper()
	for i := range a.Rows {
		if a.Rows[i].Key == key {
			return &a.Rows[i]
		}
	}
	t.Fatalf("no requirement %s", key)
	return nil
}

// Every target's monthly values are those of the monthly report, and the
// period's value is the sum of the months' numerators over the sum of
// their denominators; the verdict counts the months met.
func TestAssessmentEqualsMonthlyReports(t *testing.T) {
	f := assessed(t)
	reps := map[string]*report.Report{}
	for mi, month := range []string{"2026-03", "2026-04"} {
		rep, err := report.Build(f.src, f.p, month, "c12345")
		if err != nil {
			t.Fatal(err)
		}
		reps[month] = rep
		for _, l := range rep.Overall {
			if l.Target == nil {
				continue
			}
			r := row(t, f.a, "target."+l.ID)
			mv := r.Months[mi]
			if !reflect.DeepEqual(mv.Value, l.Value) || !reflect.DeepEqual(mv.Met, l.Met) {
				t.Errorf("%s %s: assessment %v/%v, monthly report %v/%v", l.ID, month, deref(mv.Value), mv.Met, deref(l.Value), l.Met)
			}
		}
	}
	for _, r := range f.a.Rows {
		if !strings.HasPrefix(r.Key, "target.") || r.Kind != profile.Rate {
			continue
		}
		var num, den float64
		met, measured := 0, 0
		for _, month := range []string{"2026-03", "2026-04"} {
			for _, l := range reps[month].Overall {
				if "target."+l.ID == r.Key && l.Value != nil {
					num, den = num+*l.Numerator, den+*l.Denominator
					measured++
					if *l.Met {
						met++
					}
				}
			}
		}
		if r.Num != num || r.Den != den || r.Met != met || r.Measured != measured || (den > 0 && *r.Value != num/den) {
			t.Errorf("%s: %v/%v met %d/%d, want %v/%v met %d/%d", r.Key, r.Num, r.Den, r.Met, r.Measured, num, den, met, measured)
		}
		want := map[bool]assess.Verdict{true: assess.Conform}[met == measured]
		switch {
		case measured == 0:
			want = assess.NoData
		case met == 0:
			want = assess.NotConform
		case met < measured:
			want = assess.Partial
		}
		if r.Verdict != want {
			t.Errorf("%s: verdict %s, want %s", r.Key, r.Verdict, want)
		}
	}
}

// The 7×24 check counts the hours without an answered call as compute's
// hourly figures show them, and the drivers of a gap add up from
// compute's figures by dimension.
func TestAssessmentServiceAndDrivers(t *testing.T) {
	f := assessed(t)
	ctx := context.Background()
	asOf := time.Date(2026, 5, 1, 0, 0, 0, 0, f.p.Location())
	hourly, err := compute.Run(ctx, compute.Options{Files: []string{f.file}, Profiles: profile.Single(f.p), AsOf: asOf,
		Query: indicator.Query{Window: indicator.WindowHour, GroupBy: []string{"center_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	answered := map[string]bool{}
	for _, r := range hourly.Results {
		if r.Indicator == "calls_answered" && r.Value > 0 {
			answered[r.WindowStart] = true
		}
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, f.p.Location())
	hours, gaps := 0, 0
	for h := start; h.Before(start.AddDate(0, 2, 0)); h = h.Add(time.Hour) {
		hours++
		if !answered[h.Format(time.RFC3339)] {
			gaps++
		}
	}
	s := f.a.Service
	if s.Hours != hours || s.NoAnswer != gaps || len(s.Gaps) != gaps {
		t.Errorf("7×24: %d hours, %d without an answer (%d listed); compute: %d, %d", s.Hours, s.NoAnswer, len(s.Gaps), hours, gaps)
	}
	svc := row(t, f.a, "std.service_7x24")
	if (gaps == 0) != (svc.Verdict == assess.Conform) {
		t.Errorf("7×24 verdict %s with %d gaps", svc.Verdict, gaps)
	}

	// The drivers by department of the on-time closure rate.
	r := row(t, f.a, "target.on_time_closure_rate")
	if r.Verdict == assess.Conform || r.Verdict == assess.NoData {
		t.Fatalf("on-time closure %s: the fixture is meant to miss it", r.Verdict)
	}
	byDept, err := compute.Run(ctx, compute.Options{Files: []string{f.file}, Profiles: profile.Single(f.p), AsOf: asOf,
		Query: indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"department_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string][2]float64{}
	for _, res := range byDept.Results {
		if res.Indicator == "on_time_closure_rate" && res.WindowStart >= "2026-03" && res.WindowStart < "2026-05" {
			s := sums[res.Dims["department_id"]]
			sums[res.Dims["department_id"]] = [2]float64{s[0] + *res.Numerator, s[1] + *res.Denominator}
		}
	}
	n := 0
	last := -1.0
	for _, d := range r.Drivers {
		if d.Dimension != "承办单位" {
			continue
		}
		n++
		want := sums[d.Value]
		if d.Num != want[0] || d.Den != want[1] || d.Shortfall != round2(0.95*want[1]-want[0]) || d.Shortfall <= 0 {
			t.Errorf("driver %s: %v/%v short %v; compute %v/%v", d.Value, d.Num, d.Den, d.Shortfall, want[0], want[1])
		}
		if last >= 0 && d.Shortfall > last {
			t.Errorf("drivers not largest first: %v after %v", d.Shortfall, last)
		}
		last = d.Shortfall
	}
	if n == 0 {
		t.Errorf("on-time closure %s without departments among its drivers: %+v", r.Verdict, r.Drivers)
	}
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The previous period is evaluated exactly as an assessment of it, and a
// requirement is rectified when it was not met then and is met now.
func TestAssessmentPreviousPeriod(t *testing.T) {
	f := assessed(t)
	prev, err := assess.Evaluate(f.asrc, f.p, nil, "c12345", "2026-01", "2026-02", false)
	if err != nil {
		t.Fatal(err)
	}
	if f.a.Previous.From != "2026-01" || f.a.Previous.To != "2026-02" || !reflect.DeepEqual(f.a.Previous.Rows, prev.Rows) {
		t.Fatalf("previous period differs from its own assessment")
	}
	for i, r := range f.a.Rows {
		p := prev.Rows[i]
		want := r.Verdict == assess.Conform && (p.Verdict == assess.Partial || p.Verdict == assess.NotConform)
		if r.Rectified != want || r.Prev == nil || r.Prev.Key != r.Key {
			t.Errorf("%s: rectified %v (now %s, before %s)", r.Key, r.Rectified, r.Verdict, p.Verdict)
		}
		if r.Value != nil && p.Value != nil && *r.Change != *r.Value-*p.Value {
			t.Errorf("%s: change %v", r.Key, *r.Change)
		}
	}
}

// The records audit of the assessment (taken in the same pass as its
// figures) is that of `hotlineqc audit`, the injected faults included.
func TestAssessmentRecordsAudit(t *testing.T) {
	f := assessed(t)
	if !reflect.DeepEqual(f.a.Audit.Classes, f.audit.Classes) || len(f.audit.Classes) == 0 {
		t.Fatalf("audit classes differ or are empty: %d vs %d", len(f.a.Audit.Classes), len(f.audit.Classes))
	}
	var ids int
	for _, c := range f.audit.Classes {
		ids += len(c.Examples)
		if len(c.Examples) != c.Count {
			t.Errorf("%s %s: %d ids for %d", c.Month, c.Class, len(c.Examples), c.Count)
		}
	}
	for _, tb := range f.a.Tables() {
		if tb.Slug == "records-list" && len(tb.Rows) != ids {
			t.Errorf("records list has %d rows, want %d", len(tb.Rows), ids)
		}
	}
}

// The workbook opens with its Chinese sheets; the page renders in a real
// browser and prints.
func TestAssessmentFiles(t *testing.T) {
	f := assessed(t)
	var buf bytes.Buffer
	if err := f.a.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := strings.Join(x.GetSheetList(), ","); got != "符合性评价,逐月情况,7×24服务,无人工服务时段,差距成因,持续改进,记录完整性,核查明细,口径说明" {
		t.Errorf("sheets = %s", got)
	}
	if v, _ := x.GetCellValue("符合性评价", "J1"); v != "结论" {
		t.Errorf("符合性评价!J1 = %q", v)
	}
	for i, r := range f.a.Rows {
		cell, _ := excelize.CoordinatesToCellName(10, i+2)
		if v, _ := x.GetCellValue("符合性评价", cell); v != string(r.Verdict) {
			t.Errorf("%s = %q, want %s", cell, v, r.Verdict)
		}
	}

	buf.Reset()
	if err := f.a.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	testenv.InChromium(t, buf.Bytes(), "1100,1900", "HOTLINEQC_ASSESSMENT_SCREENSHOT",
		"服务规范符合性自评报告", "符合性评价", "7×24 小时人工服务", "差距成因", "持续改进", "记录完整性", "<svg")
}

// The monthly report's team table holds compute's figures by team: the
// simulator's night shift is an outsourced operator.
func TestMonthlyReportTeams(t *testing.T) {
	f := assessed(t)
	rep, err := report.Build(f.src, f.p, "2026-03", "c12345")
	if err != nil {
		t.Fatal(err)
	}
	out, err := compute.Run(context.Background(), compute.Options{Files: []string{f.file}, Profiles: profile.Single(f.p),
		AsOf: time.Date(2026, 5, 1, 0, 0, 0, 0, f.p.Location()), Query: indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"team"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{}
	for _, r := range out.Results {
		if strings.HasPrefix(r.WindowStart, "2026-03") {
			if want[r.Dims["team"]] == nil {
				want[r.Dims["team"]] = map[string]float64{}
			}
			want[r.Dims["team"]][r.Indicator] = r.Value
		}
	}
	if len(rep.Teams) != 3 || rep.Teams[0].Team != "in-house" || rep.Teams[1].Team != "outsourced-night" || rep.Teams[2].Team != "" {
		t.Fatalf("teams = %+v", rep.Teams)
	}
	for _, tm := range rep.Teams {
		for _, id := range report.TeamIndicators {
			w, ok := want[tm.Team][id]
			if ok != (tm.Values[id] != nil) || (ok && *tm.Values[id] != w) {
				t.Errorf("team %q %s = %v, compute %v", tm.Team, id, deref(tm.Values[id]), w)
			}
		}
	}
}

// With agent events, 7×24 service is presence: an hour without a staffed
// agent is a gap even when a call was answered in it (a supervisor took
// it), and an hour with agents ready but no call is served. By hand: a1
// signed in 00:00–01:00 and 02:00–03:00 on 10-01, a call answered at
// 01:30 by a2 without a session; as of 03:00, 3 hours: 1 without service
// (01h), and it had a call.
func TestServiceFromPresence(t *testing.T) {
	ev := func(id, typ, ts, extra string) string {
		return `{"event_id":"` + id + `","type":"` + typ + `","ts":"2026-10-01T` + ts + `+08:00","center_id":"c1"` + extra + "}\n"
	}
	data := ev("a1", "agent.logged_in", "00:00:00", `,"agent_id":"a1"`) + ev("a2", "agent.logged_out", "01:00:00", `,"agent_id":"a1"`) +
		ev("a3", "agent.logged_in", "02:00:00", `,"agent_id":"a1"`) + ev("a4", "agent.logged_out", "03:00:00", `,"agent_id":"a1"`) +
		ev("k1", "call.queued", "01:30:00", `,"call_id":"k1","queue":"q"`) + ev("k2", "call.answered", "01:30:05", `,"call_id":"k1","agent_id":"a2"`)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	p := profile.Default()
	asOf := time.Date(2026, 10, 1, 3, 0, 0, 0, p.Location())
	src, audit, err := assess.FromFiles(context.Background(), report.FileOptions{Files: []string{file}, Profiles: profile.Single(p), AsOf: asOf},
		compute.AuditScope{From: "2026-10", To: "2026-10", Examples: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := assess.Evaluate(src, p, audit, "c1", "2026-10", "2026-10", false)
	if err != nil {
		t.Fatal(err)
	}
	s := a.Service
	if len(s.ByMonth) != 1 || !s.ByMonth[0].Presence {
		t.Fatalf("months %+v: want October judged by presence", s.ByMonth)
	}
	if s.Hours != 3 || s.NoAnswer != 1 || s.Unserved != 1 || len(s.Gaps) != 1 || s.Gaps[0].Hour != "2026-10-01 01:00" {
		t.Errorf("service %+v, want 3 hours, the 01h gap with its call", s)
	}
	r := row(t, a, "std.service_7x24")
	if r.Value == nil || *r.Value != 2.0/3 || r.Met != 0 || r.Measured != 1 {
		t.Errorf("7×24 row %+v", r)
	}
}

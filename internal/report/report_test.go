package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

const golden = "../compute/testdata/golden/tickets_lifecycle/events.ndjson"

func build(t *testing.T) *report.Report {
	t.Helper()
	p := profile.Default()
	src, err := report.FromFiles(context.Background(), report.FileOptions{Files: []string{golden}, Profiles: profile.Single(p),
		AsOf: time.Date(2026, 10, 31, 23, 59, 59, 0, p.Location())})
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(src, p, "2026-10", "c1")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The scores of the golden tickets, worked out by hand from the default
// profile's items (see the comment of each department).
func TestDepartmentScores(t *testing.T) {
	r := build(t)
	want := []struct {
		dept  string
		rank  int
		score float64
		grade string
	}{
		// every item met: 30 + 15 + 15 + 20 + 10 + 10.
		{"transport", 1, 100, "优秀"},
		// acceptance 1/1 (returned before its accept limit: on time, v1.1 decision 2)
		// → 15; contact: returned before any contact, no data → 15; on-time closure
		// and satisfaction, resolution: no data → 30 + 20 + 10; returns 1/1 > 5 % → 0.
		{"police", 2, 90, "优秀"},
		// on-time closure 1/2: 45 points below 95 % × 2 > 30 → 0; acceptance, contact
		// 1/1 → 15 + 15; satisfaction, resolution 1/1 → 20 + 10; returns 0/1 → 10;
		// one overdue ticket → −0.5.
		{"housing", 3, 69.5, "合格"},
		// closure 0/2 → 0; acceptance, contact 1/2 (45 points × 1 > 15) → 0;
		// no callbacks → 20 + 10; returns 0/2 → 10; one overdue → −0.5.
		{"water", 4, 39.5, "不合格"},
	}
	if len(r.Depts) != len(want) {
		t.Fatalf("departments = %+v", r.Depts)
	}
	for i, w := range want {
		d := r.Depts[i]
		if d.Department != w.dept || d.Rank != w.rank || d.Score != w.score || d.Grade != w.grade {
			t.Errorf("rank %d = %s %v %s, want %s %v %s", d.Rank, d.Department, d.Score, d.Grade, w.dept, w.score, w.grade)
		}
	}
	if len(r.Late) != 3 || r.Late[0].TicketID != "T2" || r.Late[0].LateHours != 0.5 || r.Late[1].LateHours != 216 {
		t.Errorf("late tickets = %+v", r.Late)
	}
}

// The workbook has the six sheets with Chinese headings, frozen header
// rows and the hand-derived values.
func TestXLSXCells(t *testing.T) {
	r := build(t)
	var buf bytes.Buffer
	if err := r.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "总体指标,承办单位考核,红黑榜,超期工单明细,每日趋势,团队与外包,质检（班组与外包）,质检（坐席）,质检复核记录,坐席工作（班组与外包）,坐席工作（坐席）,热点诉求（按周）,口径说明" {
		t.Errorf("sheets = %v", got)
	}
	cells := map[string]map[string]string{
		"承办单位考核": {"A1": "排名", "B2": "transport", "C2": "100.00", "B3": "police", "C3": "90.00", "D3": "优秀", "D5": "不合格"},
		"红黑榜":    {"A2": "红榜", "C2": "transport", "A6": "黑榜", "C6": "water"},
		"超期工单明细": {"A2": "T2", "B2": "water", "C2": "求助", "G2": "0.50", "A3": "T4", "F3": "未答复"},
		"每日趋势":   {"A1": "日期", "A2": "2026-10-01", "A32": "2026-10-31"},
		"口径说明":   {"A2": "热线中心", "B2": "c1", "A3": "考核月份", "B3": "2026-10"},
	}
	for sheet, want := range cells {
		for cell, v := range want {
			if got, _ := f.GetCellValue(sheet, cell); got != v {
				t.Errorf("%s!%s = %q, want %q", sheet, cell, got, v)
			}
		}
	}
	// 按时办结率 of the month: T1 ✓, T2 ✗, T4 ✗, T5 ✓, T6 ✗ = 2/5, shown as a percentage.
	rows, _ := f.GetRows("总体指标")
	found := false
	for _, row := range rows {
		if row[0] == "on_time_closure_rate" {
			found = true
			if row[2] != "2" || row[3] != "5" || row[4] != "40.00%" || row[6] != "未达标" {
				t.Errorf("on-time closure row = %v", row)
			}
		}
	}
	if !found {
		t.Error("no on-time closure row")
	}
	if panes, err := f.GetPanes("承办单位考核"); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}
}

// The agent sheets rank the golden case v12_agent_calls (worked by hand in
// its expected.txt): b1 answered 3 calls in 2 h signed in (1.5 an hour),
// b2 1 in 4 h (0.25, 示忙 0.75); team t1 answered 5 (b9's too, without a
// session) in 6 h. b9 signed in nowhere: not ranked.
func TestAgentRanking(t *testing.T) {
	p := profile.Default()
	src, err := report.FromFiles(context.Background(), report.FileOptions{Files: []string{"../compute/testdata/golden/v12_agent_calls/events.ndjson"},
		Profiles: profile.Single(p), AsOf: time.Date(2026, 10, 13, 0, 0, 0, 0, p.Location())})
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(src, p, "2026-10", "c1")
	if err != nil {
		t.Fatal(err)
	}
	got := func(rs []report.Rank) string {
		var b strings.Builder
		for _, x := range rs {
			fmt.Fprintf(&b, "%d %s/%s %v %v %v; ", x.Rank, x.Agent, x.Team, *x.Values["calls_per_agent_hour"],
				*x.Values["agent_not_ready_rate"], *x.Values["agent_online_seconds"])
		}
		return b.String()
	}
	if g, w := got(r.Agents), "1 b1/t1 1.5 0 7200; 2 b2/t1 0.25 0.75 14400; "; g != w {
		t.Errorf("agents: %s, want %s", g, w)
	}
	if g, w := got(r.AgentTeams), fmt.Sprintf("1 /t1 %v 0.5 21600; ", 5.0/6); g != w {
		t.Errorf("teams: %s, want %s", g, w)
	}
}

func TestCSVHasBOMAndHeadings(t *testing.T) {
	r := build(t)
	for _, tb := range r.Tables() {
		var buf bytes.Buffer
		if err := report.WriteCSV(&buf, tb); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("\xef\xbb\xbf"+tb.Headers[0])) {
			t.Errorf("%s: no BOM or heading: %q", tb.Slug, buf.String()[:20])
		}
	}
}

func TestClearErrors(t *testing.T) {
	p := profile.Default()
	src, err := report.FromFiles(context.Background(), report.FileOptions{Files: []string{golden}, Profiles: profile.Single(p)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.Build(src, p, "2026-10", "c9"); err == nil || !strings.Contains(err.Error(), `unknown centre "c9"`) || !strings.Contains(err.Error(), "c1") {
		t.Errorf("unknown centre: %v", err)
	}
	if _, err := report.Build(src, p, "2025-01", "c1"); !errors.Is(err, report.ErrNoData) {
		t.Errorf("empty month: %v", err)
	}
	if _, err := report.Build(src, p, "2026-13", "c1"); err == nil {
		t.Error("bad month accepted")
	}
}

// The HTML report, rendered by a real browser, shows its charts and
// tables; it is also printed to PDF, as a reader would.
func TestHTMLInChromium(t *testing.T) {
	r := build(t)
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "http://") || strings.Contains(buf.String(), "https://") {
		t.Error("the report is not self-contained")
	}
	testenv.InChromium(t, buf.Bytes(), "1000,1800", "HOTLINEQC_REPORT_SCREENSHOT",
		"月度考核报告", "承办单位得分排名", "<svg", "transport", "超期工单明细")
}

// The quality-inspection sheets rank the agents by pass rate, then mean
// score, from the hand-derived golden case: a2 passes 1 of 2 inspected
// calls (mean 73.33 of three evaluations), a1 1 of 3 (mean 45); the
// abandoned call evaluated has no agent to rank.
func TestQARanking(t *testing.T) {
	p := profile.Default()
	src, err := report.FromFiles(context.Background(), report.FileOptions{
		Files: []string{"../compute/testdata/golden/v12_quality_inspection/events.ndjson"}, Profiles: profile.Single(p),
		AsOf: time.Date(2026, 10, 17, 0, 0, 0, 0, p.Location())})
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(src, p, "2026-10", "c1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range r.QAAgents {
		got = append(got, fmt.Sprintf("%d %s %.4f %.2f %v", q.Rank, q.Agent, *q.Values["call_qa_pass_rate"], *q.Values["call_qa_avg_percent"],
			*q.Values["call_qa_coverage_rate"]))
	}
	want := []string{"1 a2 0.5000 73.33 1", "2 a1 0.3333 45.00 0.75"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("agents ranked %q, want %q", got, want)
	}
	if len(r.QATeams) != 1 || r.QATeams[0].Team != "" || *r.QATeams[0].Values["call_qa_pass_rate"] != 0.5 {
		t.Errorf("teams %+v", r.QATeams)
	}
	// The month's reviews: k1's v1 (70 → 85, now passing) and t1's u1
	// (80 → 70, now failing); k7's two versions at one instant are none.
	got = got[:0]
	for _, v := range r.Reviews {
		got = append(got, fmt.Sprintf("%s %s %s %.0f %v → %s %.0f %v", v.ID, v.EvaluationID, v.Before.EventID, v.Before.Percent, v.Before.Passed,
			v.After.EventID, v.After.Percent, v.After.Passed))
	}
	want = []string{"k1 v1 q1 70 false → q2 85 true", "t1 u1 w1 80 true → w2 70 false"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("reviews %q, want %q", got, want)
	}
}

// The weekly hot-spot sheet: from 2026-09-01, 2 requests a day about
// 010101 (供水) and 1 about 020101, and 20 more about 010101 on Wednesday
// 2026-10-14. The week of 10-12 to 10-18 lists 0101 first with 7 × 2 + 20
// = 34 requests and one hot day (22 against μ 2: score (22 − 2)/√2 =
// 14.14); the week of 10-01 to 10-04 (clipped to the month) has none.
func TestWeeklyHotspots(t *testing.T) {
	p, err := profile.Load("example-topics")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "topics.ndjson")
	var b strings.Builder
	n := 0
	add := func(day time.Time, topic string) {
		n++
		fmt.Fprintf(&b, `{"event_id":"e%d","type":"ticket.created","ts":%q,"center_id":"c1","ticket_id":"t%d","topic":%q}`+"\n",
			n, day.Add(time.Duration(n%600)*time.Minute).Format(time.RFC3339), n, topic)
	}
	for d := time.Date(2026, 9, 1, 8, 0, 0, 0, p.Location()); d.Month() < 11; d = d.AddDate(0, 0, 1) {
		add(d, "010101")
		add(d, "010101")
		add(d, "020101")
		if d.Day() == 14 && d.Month() == 10 {
			for range 20 {
				add(d, "010101")
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := report.FromFiles(context.Background(), report.FileOptions{Files: []string{path}, Profiles: profile.Single(p)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(src, p, "2026-10", "c1")
	if err != nil {
		t.Fatal(err)
	}
	var week []report.WeekTopic
	for _, w := range r.Hotspots {
		if w.Week == "2026-10-12 至 2026-10-18" {
			week = append(week, w)
		}
		if w.Week == "2026-10-01 至 2026-10-04" && w.HotDays != 0 {
			t.Errorf("a hot day in the first week: %+v", w)
		}
	}
	if len(week) != 2 || week[0].Topic != "0101" || week[0].Name != "城乡建设 / 供水" || week[0].Count != 34 || week[0].HotDays != 1 ||
		week[0].FirstHotOn != "2026-10-14" || math.Abs(week[0].MaxScore-20/math.Sqrt2) > 1e-9 || week[1].Topic != "0201" || week[1].Count != 7 {
		t.Errorf("week of 10-12: %+v", week)
	}
	if len(r.Hotspots) != 2*5 { // five weeks (clipped to the month), two groups each
		t.Errorf("%d rows: %+v", len(r.Hotspots), r.Hotspots)
	}
}

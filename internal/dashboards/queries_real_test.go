package dashboards_test

//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard) is kept on purpose: its
// replacement, dashboardv2, is a public preview of Grafana 12 behind feature toggles
// (dynamic dashboards, kubernetesDashboards) that Grafana 11 and earlier cannot load,
// while Grafana 13 migrates classic dashboards on load; move when 12 is the oldest supported.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/dashboards"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// After eight simulated days up to now run through `hotlineqc run`, every
// query of every committed dashboard runs against the real servers: PromQL
// against the real Prometheus scraping the product, SQL against the real
// ClickHouse with the plugin's macros and Grafana's variables expanded.
// Each returns data of the shape its panel needs.
func TestDashboardQueriesOnRealServers(t *testing.T) {
	promBin := testenv.Tool(t, "prometheus")
	cfg := streamConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// Eight days of one centre up to now, a bad message now and then.
	cal, _ := profile.Default().NewCalendar()
	end := time.Now().Truncate(time.Minute)
	simCfg := sim.Default(1, end.Add(-8*24*time.Hour), 8*24*time.Hour, 21)
	simCfg.Agents = true // 坐席与排班
	s, err := sim.New(simCfg, profile.Default(), cal)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClickHouse.SettleEvery = 2 * time.Second // the staffing gauges soon after the data
	var calls, tickets, agents []kafka.Message
	n := 0
	if _, err := s.Run(ctx, func(e sim.Event) error {
		m := kafka.Message{Key: []byte(e.Key), Value: e.JSON}
		if n++; n%1000 == 0 {
			m.Value = []byte(fmt.Sprintf(`{"event_id":"bad%d","type":"call.queued"}`, n))
		}
		switch {
		case e.Ticket:
			tickets = append(tickets, m)
		case e.Agent:
			agents = append(agents, m)
		default:
			calls = append(calls, m)
		}
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	// Whatever the simulation did and whatever the day (a weekend has no
	// working-day deadline in the next 24 hours): two tickets dispatched a
	// month ago and never replied, overdue now; one dispatched an hour ago
	// with a deadline twelve hours from now, due soon.
	for _, tk := range []struct {
		id       string
		at       time.Time
		dispatch string
	}{
		{"late1", end.Add(-30 * 24 * time.Hour), `"department_id":"environment"`},
		{"late2", end.Add(-30 * 24 * time.Hour), `"department_id":"environment"`},
		{"soon1", end.Add(-time.Hour), fmt.Sprintf(`"department_id":"housing","deadline":%q`, end.Add(12*time.Hour).Format(time.RFC3339))},
	} {
		for i, ev := range []string{`"type":"ticket.created","category":"complaint","channel":"voice"`, `"type":"ticket.dispatched",` + tk.dispatch} {
			tickets = append(tickets, kafka.Message{Key: []byte(tk.id), Value: []byte(fmt.Sprintf(
				`{"event_id":"%s-%d",%s,"ts":"%s","center_id":"c12345","ticket_id":"%s"}`,
				tk.id, i, ev, tk.at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), tk.id))})
			n++
		}
	}
	testenv.Produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, calls)
	testenv.Produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Tickets, tickets)
	testenv.Produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Agents, agents)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet()) }()
	stopRun := sync.OnceFunc(func() { cancelRun(); <-done })
	defer stopRun()

	promAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePorts(t, 1)[0])
	startPrometheus(t, promBin, promAddr, ln.Addr().String(), "")

	metrics := "http://" + ln.Addr().String() + "/metrics"
	testenv.WaitFor(t, done, 4*time.Minute, func() bool {
		m := scrape(t, metrics)
		return sumMetric(m, "hotline_pipeline_events_written_total")+sumMetric(m, "hotline_pipeline_dead_letters_written_total") >= float64(n)
	})
	// Let the ticket gauges be counted and Prometheus scrape a few times.
	time.Sleep(6 * time.Second)
	// The gauges derived from the store (citizen needs, staffing) are
	// published by passes every SettleEvery over the rows stored, which
	// trail the events by up to write_interval: under load a pass and the
	// scrape after it can take longer than the pause above. Wait until
	// Prometheus has each (the panels then say what is missing, if any).
	waited := time.Now()
	for deadline := waited.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if promHasAll(t, "http://"+promAddr, `{center="c12345"}`, "hotline_needs_calls_with_caller_today",
			"hotline_needs_repeat_calls_today", "hotline_staffing_agents_required", "hotline_staffing_agents_staffed") {
			t.Logf("the gauges derived from the store in Prometheus after %s more", time.Since(waited).Round(100*time.Millisecond))
			break
		}
	}

	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The daily sums the long-range panels read, brought up to date now
	// rather than at the run's next pass.
	settler := chstore.NewSettler(conn, cfg.ClickHouse.Database, quiet())
	if _, err := settler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	boards, err := dashboards.Load("../../dashboards")
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) != 8 {
		t.Fatalf("%d dashboards, want 8", len(boards))
	}
	ran := 0
	var dashSQL []namedSQL
	chartSeries := map[string][]series{}
	for f, d := range boards {
		qs, err := dashboards.Queries(d)
		if err != nil {
			t.Fatal(err)
		}
		g := &grafana{t: t, ctx: ctx, conn: conn, prom: "http://" + promAddr, db: cfg.ClickHouse.Database, vars: map[string][]string{}}
		g.timeRange(d)
		// Variables first, as Grafana does: their values feed the panels.
		for _, q := range qs {
			if q.PanelType == "variable" {
				g.variable(filepath.Base(f), strings.TrimPrefix(q.Panel, "变量 "), q)
				ran++
			}
		}
		for _, q := range qs {
			if q.PanelType == "variable" {
				continue
			}
			where := filepath.Base(f) + ": " + q.Panel
			if q.PromQL != "" {
				res := g.promPanel(where, q)
				if q.Panel == chartOf[f] {
					for _, s := range res {
						sr := series{name: s.name()}
						for _, v := range s.Values {
							sr.points = append(sr.points, [2]float64{promValue(v[0]), promValue(v[1])})
						}
						if len(s.Values) == 0 {
							sr.points = [][2]float64{{0, promValue(s.Value[1])}}
						}
						chartSeries[f] = append(chartSeries[f], sr)
					}
				}
			} else {
				res := g.sqlPanel(where, q)
				if q.Panel == chartOf[f] {
					for _, row := range res.values {
						chartSeries[f] = append(chartSeries[f], series{name: fmt.Sprint(row[1]), points: [][2]float64{{0, promValue(row[2])}}})
					}
				}
				dashSQL = append(dashSQL, namedSQL{where, g.expandSQL(q.SQL)})
			}
			ran++
		}
	}
	t.Logf("%d dashboard queries ran on the real Prometheus and ClickHouse, each with data", ran)
	writeCharts(t, boards, chartSeries)

	// The evaluation's department scores and ranks are the export's, to
	// the cent, for this month: with the run stopped (its ticks store
	// deadlines as they pass) and the daily sums settled, the export as of
	// the open tickets' last count (the panel's overdue tickets).
	stopRun()
	if _, err := settler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var counted uint64
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+cfg.ClickHouse.Database+".ticket_backlog").Scan(&counted); err != nil || counted == 0 {
		t.Fatalf("no count of open tickets stored (%v)", err)
	}
	p := profile.Default()
	loc := p.Location()
	now := time.UnixMilli(int64(counted)).In(loc)
	src, err := report.FromStore(ctx, chstore.NewReader(conn, cfg.ClickHouse.Database), profile.Single(p), now, "ClickHouse", true)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Build(src, p, now.Format("2006-01"), "c12345")
	if err != nil {
		t.Fatal(err)
	}
	evalQs, err := dashboards.Queries(boards["hotlineqc-evaluation.json"])
	if err != nil {
		t.Fatal(err)
	}
	g := &grafana{t: t, ctx: ctx, conn: conn, db: cfg.ClickHouse.Database, vars: map[string][]string{"center": {"c12345"}},
		from: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc), to: time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, loc).Add(-time.Second)}
	res := g.sql("承办单位得分与排名", evalQs[0].SQL)
	got := map[string]string{}
	for _, row := range res.values {
		got[fmt.Sprint(row[1])] = fmt.Sprintf("score %.2f rank %d", row[2], row[0])
	}
	want := map[string]string{}
	for _, d := range rep.Depts {
		want[d.Department] = fmt.Sprintf("score %.2f rank %d", d.Score, d.Rank)
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("department scores: dashboard %v, export %v", got, want)
	}
	t.Logf("department scores of %s, as the export: %v", now.Format("2006-01"), want)

	modernClickHouse(t, ctx, cfg, conn, dashSQL)
}

// grafana expands and runs a dashboard's queries as Grafana and the
// ClickHouse plugin would.
type grafana struct {
	t        *testing.T
	ctx      context.Context
	conn     driver.Conn
	prom     string
	db       string
	from, to time.Time
	vars     map[string][]string
}

// timeRange resolves the dashboard's default time range (now-24h, now-7d,
// now/M) in its time zone. A range shorter than a day (now/M early on the
// 1st) is widened to the last day, so that the test does not depend on
// the date it runs.
func (g *grafana) timeRange(d dashboard.Dashboard) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	g.to, g.from = now, now.Add(-24*time.Hour)
	if d.Time == nil {
		return
	}
	switch from := d.Time.From; {
	case from == "now/M":
		g.from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	case strings.HasPrefix(from, "now-"):
		if dur, err := parseGrafanaDuration(strings.TrimPrefix(from, "now-")); err == nil {
			g.from = now.Add(-dur)
		}
	}
	if d.Time.To == "now/M" { // the whole month
		g.to = time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, loc).Add(-time.Second)
	}
	if g.to.Sub(g.from) < 24*time.Hour {
		g.from = now.Add(-24 * time.Hour)
	}
}

func parseGrafanaDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		var n int
		_, err := fmt.Sscanf(s, "%dd", &n)
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// variable runs a variable's query and keeps its values (All selected).
func (g *grafana) variable(file, name string, q dashboards.Query) {
	t := g.t
	var values []string
	if q.PromQL != "" {
		// label_values(metric{selector}, label) is Grafana's: the label
		// values API with the selector as match[].
		m := regexp.MustCompile(`^label_values\((.*), *(\w+)\)$`).FindStringSubmatch(q.PromQL)
		if m == nil {
			t.Fatalf("%s: variable %s: not label_values: %s", file, name, q.PromQL)
		}
		var out struct {
			Data []string `json:"data"`
		}
		g.promGet("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {g.expandProm(m[1])}}, &out)
		values = out.Data
	} else {
		rows := g.sql(file+": variable "+name, q.SQL)
		for _, r := range rows.values {
			values = append(values, fmt.Sprint(r[0]))
		}
	}
	if len(values) == 0 {
		t.Errorf("%s: variable %s has no values", file, name)
	}
	g.vars[name] = values
}

// expandProm replaces $name with the variable's values as Grafana formats
// a multi-value variable for Prometheus: (a|b), regex-escaped.
func (g *grafana) expandProm(expr string) string {
	return regexp.MustCompile(`\$(\w+)`).ReplaceAllStringFunc(expr, func(v string) string {
		vals, ok := g.vars[v[1:]]
		if !ok {
			return v
		}
		esc := make([]string, len(vals))
		for i, x := range vals {
			esc[i] = regexp.QuoteMeta(x)
		}
		return "(" + strings.Join(esc, "|") + ")"
	})
}

func (g *grafana) promGet(path string, params url.Values, out any) {
	t := g.t
	resp, err := http.Get(g.prom + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Status != "success" {
		t.Fatalf("prometheus %s %v: %v %s", path, params, err, env.Error)
	}
	if err := json.Unmarshal([]byte(`{"data":`+string(env.Data)+`}`), out); err != nil {
		t.Fatal(err)
	}
}

// promPanel runs a panel's PromQL, instant or over the last minutes, and
// checks it returns series of the right type.
func (g *grafana) promPanel(where string, q dashboards.Query) []promSeries {
	expr := g.expandProm(q.PromQL)
	var out struct {
		Data struct {
			ResultType string       `json:"resultType"`
			Result     []promSeries `json:"result"`
		} `json:"data"`
	}
	now := time.Now()
	if q.Instant {
		g.promGet("/api/v1/query", url.Values{"query": {expr}, "time": {fmt.Sprint(now.Unix())}}, &out)
	} else {
		g.promGet("/api/v1/query_range", url.Values{"query": {expr}, "start": {fmt.Sprint(now.Add(-5 * time.Minute).Unix())},
			"end": {fmt.Sprint(now.Unix())}, "step": {"5"}}, &out)
	}
	want := "matrix"
	if q.Instant {
		want = "vector"
	}
	if out.Data.ResultType != want || len(out.Data.Result) == 0 {
		g.t.Errorf("%s: %s result with %d series, want a %s with data\n%s", where, out.Data.ResultType, len(out.Data.Result), want, expr)
	}
	return out.Data.Result
}

// promSeries is one series of a Prometheus result: a range's values or an
// instant's value.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
	Value  [2]any            `json:"value"`
}

// name is the series' labels, the way a legend shows them.
func (s promSeries) name() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Metric)) {
		parts = append(parts, s.Metric[k])
	}
	if len(parts) == 0 {
		return "全部"
	}
	return strings.Join(parts, " ")
}

func promValue(v any) float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return f
}

// table is a query's result.
type table struct {
	columns []string
	types   []string
	values  [][]any
}

// sql expands the plugin's macros and Grafana's variables and runs the
// query on ClickHouse.
func (g *grafana) sql(where, raw string) table {
	t := g.t
	q := g.expandSQL(raw)
	rows, err := g.conn.Query(g.ctx, q)
	if err != nil {
		t.Fatalf("%s: %v\n%s", where, err, q)
	}
	defer rows.Close()
	var out table
	out.columns = rows.Columns()
	for _, ct := range rows.ColumnTypes() {
		out.types = append(out.types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(out.columns))
		ptrs := make([]any, len(vals))
		for i, ct := range rows.ColumnTypes() {
			ptrs[i] = newScanTarget(ct.ScanType())
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		for i, p := range ptrs {
			vals[i] = reflect.ValueOf(p).Elem().Interface()
		}
		out.values = append(out.values, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return out
}

// expandSQL expands the query as Grafana and the plugin would.
func (g *grafana) expandSQL(q string) string {
	return dashboards.ExpandSQL(q, g.db, g.vars, g.from, g.to)
}

// sqlPanel runs a panel's SQL and checks the shape its panel needs: rows
// for a table, a time column and a numeric value for a time series.
func (g *grafana) sqlPanel(where string, q dashboards.Query) table {
	res := g.sql(where, q.SQL)
	if len(res.values) == 0 || len(res.columns) == 0 {
		g.t.Errorf("%s: no rows\n%s", where, g.expandSQL(q.SQL))
		return res
	}
	if q.Format == dashboards.FormatTimeSeries {
		if res.columns[0] != "time" || !strings.HasPrefix(res.types[0], "DateTime") {
			g.t.Errorf("%s: time series without a leading time column: %v %v", where, res.columns, res.types)
		}
		numeric := false
		for _, ty := range res.types[1:] {
			numeric = numeric || strings.Contains(ty, "Float") || strings.Contains(ty, "Int")
		}
		if !numeric {
			g.t.Errorf("%s: time series without a numeric column: %v", where, res.types)
		}
	}
	return res
}

func sumMetric(text, name string) float64 { return testenv.SumMetric(text, name) }

func newScanTarget(t reflect.Type) any { return reflect.New(t).Interface() }

// chartOf is the panel of each dashboard drawn for the README.
var chartOf = map[string]string{
	"hotlineqc-overview.json":   "人工接通率（1 小时滚动）",
	"hotlineqc-calls.json":      "平均排队时长（按队列）",
	"hotlineqc-tickets.json":    "在办工单（按承办单位）",
	"hotlineqc-evaluation.json": "承办单位得分与排名",
	"hotlineqc-pipeline.json":   "消费与写入速率",
}

// writeCharts draws each dashboard's chosen panel from its query's result
// into HOTLINEQC_DASHBOARD_CHARTS, when set (a relative directory is the
// repository's: docs/img).
func writeCharts(t *testing.T, boards map[string]dashboard.Dashboard, got map[string][]series) {
	dir := os.Getenv("HOTLINEQC_DASHBOARD_CHARTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir)
	}
	for f, panel := range chartOf {
		ss := got[f]
		if len(ss) == 0 {
			t.Errorf("no data to draw %s of %s", panel, f)
			continue
		}
		title := *boards[f].Title + "：" + panel
		unit := panelUnit(boards[f], panel)
		var svg string
		if len(ss[0].points) > 1 {
			svg = lineChart(title, unit, ss)
		} else {
			var labels []string
			var values []float64
			sort.Slice(ss, func(i, j int) bool { return ss[i].name < ss[j].name })
			for _, s := range ss {
				labels, values = append(labels, s.name), append(values, s.points[0][1])
			}
			svg = barChart(title, unit, labels, values)
		}
		name := filepath.Join(dir, strings.TrimSuffix(f, ".json")+".svg")
		if err := os.WriteFile(name, []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("drew %s", name)
	}
}

func panelUnit(d dashboard.Dashboard, title string) string {
	for _, pr := range d.Panels {
		if p := pr.Panel; p != nil && p.Title != nil && *p.Title == title && p.FieldConfig != nil && p.FieldConfig.Defaults.Unit != nil {
			return *p.FieldConfig.Defaults.Unit
		}
	}
	return ""
}

// promHasAll reports whether Prometheus at base has a series of each
// metric with the given label matchers now.
func promHasAll(t *testing.T, base, matchers string, metrics ...string) bool {
	t.Helper()
	for _, m := range metrics {
		var out struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		body := testenv.Get(t, base+"/api/v1/query?query="+url.QueryEscape(m+matchers))
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("Prometheus query %s: %v", m, err)
		}
		if len(out.Data.Result) == 0 {
			return false
		}
	}
	return true
}

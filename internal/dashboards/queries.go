package dashboards

//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard) is kept on purpose: its
// replacement, dashboardv2, is a public preview of Grafana 12 behind feature toggles
// (dynamic dashboards, kubernetesDashboards) that Grafana 11 and earlier cannot load,
// while Grafana 13 migrates classic dashboards on load; move when 12 is the oldest supported.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// Query is one query a dashboard issues: a panel's target or a variable's.
type Query struct {
	Panel string // the panel title, or "变量 <name>"
	// PanelType is the panel's visualisation (stat, timeseries, table,
	// bargauge), "variable" for a variable.
	PanelType string
	// PromQL is set for a Prometheus query, Instant when it asks for one
	// point.
	PromQL  string
	Instant bool
	// SQL is set for a ClickHouse query (macros and variables unexpanded),
	// Format its result shape (FormatTable, FormatTimeSeries).
	SQL    string
	Format int
}

// Queries lists every query of d, panels in order, then variables.
func Queries(d dashboard.Dashboard) ([]Query, error) {
	var out []Query
	for _, pr := range d.Panels {
		if pr.Panel == nil {
			continue
		}
		p := pr.Panel
		title := ""
		if p.Title != nil {
			title = *p.Title
		}
		for _, t := range p.Targets {
			q := Query{Panel: title, PanelType: p.Type}
			switch t := t.(type) {
			case prometheus.Dataquery:
				q.PromQL, q.Instant = t.Expr, t.Instant != nil && *t.Instant
			case *prometheus.Dataquery:
				q.PromQL, q.Instant = t.Expr, t.Instant != nil && *t.Instant
			case ClickHouseQuery:
				q.SQL, q.Format = t.RawSql, t.Format
			case *ClickHouseQuery:
				q.SQL, q.Format = t.RawSql, t.Format
			default:
				return nil, fmt.Errorf("panel %q: query of unknown type %T", title, t)
			}
			out = append(out, q)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != dashboard.VariableTypeQuery || v.Query == nil || v.Datasource == nil || v.Datasource.Type == nil {
			continue
		}
		q := Query{Panel: "变量 " + v.Name, PanelType: "variable"}
		switch *v.Datasource.Type {
		case "prometheus":
			if v.Query.String != nil {
				q.PromQL, q.Instant = *v.Query.String, true
			}
		case ClickHousePlugin:
			if s, ok := v.Query.Map["rawSql"].(string); ok {
				q.SQL, q.Format = s, FormatTable
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// Load reads the dashboards (JSON) of dir with the SDK, ClickHouse queries
// included, by file name.
func Load(dir string) (map[string]dashboard.Dashboard, error) {
	registerOnce.Do(func() {
		plugins.RegisterDefaultPlugins()
		cog.NewRuntime().RegisterDataqueryVariant(ClickHouseVariant())
	})
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]dashboard.Dashboard{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		// Not UnmarshalJSONStrict: in v0.0.22 it drops every panel (a
		// panel's strict unmarshaler returns its empty error list as a
		// non-nil error).
		var d dashboard.Dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out, nil
}

var registerOnce sync.Once

var (
	singlequoteRE  = regexp.MustCompile(`\$\{(\w+):singlequote\}`)
	timeFilterRE   = regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
	timeIntervalRE = regexp.MustCompile(`\$__timeInterval\((\w+)\)`)
)

// ExpandSQL expands a ClickHouse query as Grafana and the ClickHouse
// plugin do, for tests and benchmarks that run it without them:
// ${database}; ${name:singlequote} with the variable's values quoted and
// joined by commas (for All, pass every value); and the plugin's
// $__fromTime, $__toTime, $__timeFilter(col) and $__timeInterval(col) for
// the range [from, to].
func ExpandSQL(q, db string, vars map[string][]string, from, to time.Time) string {
	q = strings.ReplaceAll(q, "${database}", db)
	q = singlequoteRE.ReplaceAllStringFunc(q, func(v string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(v, "${"), ":singlequote}")
		var quoted []string
		for _, x := range vars[name] {
			quoted = append(quoted, "'"+strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(x)+"'")
		}
		return strings.Join(quoted, ",")
	})
	q = strings.ReplaceAll(q, "$__fromTime", fmt.Sprintf("toDateTime(%d)", from.Unix()))
	q = strings.ReplaceAll(q, "$__toTime", fmt.Sprintf("toDateTime(%d)", to.Unix()))
	q = timeFilterRE.ReplaceAllString(q, fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", from.Unix(), to.Unix()))
	interval := max(int(to.Sub(from).Seconds())/1000, 1) // Grafana: range / max data points
	return timeIntervalRE.ReplaceAllString(q, fmt.Sprintf("toStartOfInterval(toDateTime($1), INTERVAL %d second)", interval))
}

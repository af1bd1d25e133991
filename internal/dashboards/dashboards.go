// Package dashboards generates the Grafana dashboards of hotlineqc from a
// profile, with github.com/grafana/grafana-foundation-sdk: live panels query
// the Prometheus metrics of `hotlineqc run`, history and the monthly
// evaluation query the ClickHouse tables through the
// grafana-clickhouse-datasource plugin. Titles and panels are in Chinese;
// targets and scoring come from the profile, so the dashboards say what the
// exports and alerts say.
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

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// The data sources the dashboards use, as provisioned by
// deploy/grafana/provisioning/datasources/hotlineqc.yaml.
var (
	prometheusDS = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("hotlineqc-prometheus")}
	clickhouseDS = common.DataSourceRef{Type: ptr(ClickHousePlugin), Uid: ptr("hotlineqc-clickhouse")}
)

// Board is one generated dashboard and the file it is kept in.
type Board struct {
	File      string
	Dashboard dashboard.Dashboard
}

// Build generates the dashboards for profile p; database is the ClickHouse
// database the pipeline writes (the dashboards' default for $database).
func Build(p *profile.Profile, database string) ([]Board, error) {
	g := gen{p: p, db: database}
	var out []Board
	for _, b := range []struct {
		file  string
		build func() *dashboard.DashboardBuilder
	}{
		{"hotlineqc-overview.json", g.overview},
		{"hotlineqc-calls.json", g.calls},
		{"hotlineqc-tickets.json", g.tickets},
		{"hotlineqc-evaluation.json", g.evaluation},
		{"hotlineqc-qa.json", g.qa},
		{"hotlineqc-agents.json", g.agents},
		{"hotlineqc-needs.json", g.needs},
		{"hotlineqc-pipeline.json", g.pipeline},
	} {
		d, err := b.build().Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", b.file, err)
		}
		out = append(out, Board{File: b.file, Dashboard: d})
	}
	return out, nil
}

// Marshal renders a dashboard as Grafana reads it.
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes the dashboards to dir.
func Write(dir string, boards []Board) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, b := range boards {
		data, err := Marshal(b.Dashboard)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, b.File), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gen holds what every dashboard is generated from.
type gen struct {
	p  *profile.Profile
	db string
}

// board starts a dashboard with the common settings and variables.
func (g gen) board(uid, title, from string, vars ...cog.Builder[dashboard.VariableModel]) *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Tags([]string{"hotlineqc", "12345"}).
		Timezone(g.p.Timezone).
		Time(from, "now").
		Refresh("1m").
		Editable().
		Link(dashboard.NewDashboardLinkBuilder("热线质量").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"hotlineqc"}).AsDropdown(true).IncludeVars(true).KeepTime(true))
	for _, v := range vars {
		b = b.WithVariable(v)
	}
	return b
}

// promCenter is the centre variable of the live dashboards.
func promCenter() cog.Builder[dashboard.VariableModel] {
	return dashboard.NewQueryVariableBuilder("center").Label("中心").
		Datasource(prometheusDS).
		Query(dashboard.StringOrMap{String: ptr("label_values(hotline_indicator_denominator_total, center)")}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Multi(true).IncludeAll(true).AllValue(".*").Sort(dashboard.VariableSortAlphabeticalAsc)
}

// promLabel is a variable over a label of a metric, within the centres.
func promLabel(name, label, metric, title string) cog.Builder[dashboard.VariableModel] {
	return dashboard.NewQueryVariableBuilder(name).Label(title).
		Datasource(prometheusDS).
		Query(dashboard.StringOrMap{String: ptr(fmt.Sprintf(`label_values(%s{center=~"$center"}, %s)`, metric, label))}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Multi(true).IncludeAll(true).AllValue(".*").Sort(dashboard.VariableSortAlphabeticalAsc)
}

// chDatabase is the ClickHouse database, a constant the user can change.
func (g gen) chDatabase() cog.Builder[dashboard.VariableModel] {
	return dashboard.NewConstantVariableBuilder("database").Value(dashboard.StringOrMap{String: ptr(g.db)})
}

// chVariable is a variable whose values a ClickHouse query gives.
func chVariable(name, title, rawSQL string) cog.Builder[dashboard.VariableModel] {
	return dashboard.NewQueryVariableBuilder(name).Label(title).
		Datasource(clickhouseDS).
		Query(dashboard.StringOrMap{Map: map[string]any{"rawSql": rawSQL, "editorType": "sql", "format": FormatTable}}).
		Definition(rawSQL).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).
		Multi(true).IncludeAll(true).Sort(dashboard.VariableSortAlphabeticalAsc)
}

// target returns the profile's target of an indicator, nil when none.
func (g gen) target(id string) *profile.Target {
	if t, ok := g.p.Targets[id]; ok {
		return &t
	}
	return nil
}

// thresholds colours a value against a target: red when it misses, green
// when it meets; without a target, one neutral step.
func thresholds(t *profile.Target) *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Value: nil, Color: "green"}}
	if t != nil {
		if t.Op == "<=" {
			steps = []dashboard.Threshold{{Value: nil, Color: "green"}, {Value: ptr(t.Value + 1e-9), Color: "red"}}
		} else {
			steps = []dashboard.Threshold{{Value: nil, Color: "red"}, {Value: ptr(t.Value), Color: "green"}}
		}
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// countThresholds turns a count red from limit on (limit 0: never).
func countThresholds(limit float64) *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Value: nil, Color: "green"}}
	if limit > 0 {
		steps = append(steps, dashboard.Threshold{Value: ptr(limit), Color: "red"})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// unit is the Grafana unit of an indicator.
func unit(id string) string {
	ind, _ := indicator.Lookup(id)
	switch ind.Unit {
	case profile.Ratio:
		return "percentunit"
	case profile.Seconds:
		return "s"
	case profile.WorkingDays:
		return "none"
	case profile.Percent:
		return "percent"
	}
	return "short"
}

// name is an indicator's Chinese name.
func name(id string) string {
	ind, _ := indicator.Lookup(id)
	return ind.Name
}

func ptr[T any](v T) *T { return &v }

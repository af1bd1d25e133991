package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/compute"
)

func newHotspotsCmd() *cobra.Command {
	var (
		profiles   profileFlags
		events     []string
		clickhouse string
		hq         compute.HotspotQuery
		format     string
	)
	cmd := &cobra.Command{
		Use:   "hotspots (--events FILE... | --clickhouse DSN)",
		Short: "热点诉求: the topic groups whose requests of a day stand out against their baseline",
		Long: `The hot spots of docs/spec/indicators.md ("Hot spots"): for each day and each
topic group of the chosen level (and area with --by-area), c = tickets created
that day and μ = the group's mean daily count over the profile's
hotspot.baseline_days before it (days without tickets count 0). The group is a
hot spot when c ≥ hotspot.min_count and c > μ + hotspot.z × √max(μ, 1); its
score is (c − μ) ÷ √max(μ, 1). A day is judged only once the data cover its
whole baseline (from the first day with data plus baseline_days). Newest
first, then by score. Names come from the profile's topic table.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := profiles.load()
			if err != nil {
				return err
			}
			var rows []compute.HotspotRow
			if clickhouse != "" {
				st, err := readStored(cmd.Context(), clickhouse)
				if err != nil {
					return err
				}
				rows, err = compute.HotspotsFromStore(cmd.Context(), st, set, hq)
				if err != nil {
					return err
				}
			} else {
				if len(events) == 0 {
					return fmt.Errorf("give --events FILE... or --clickhouse DSN")
				}
				stderr := cmd.ErrOrStderr()
				rows, err = compute.Hotspots(cmd.Context(), compute.Options{Files: events, Profiles: set, OnReject: func(r compute.Reject) {
					fmt.Fprintf(stderr, "%s:%d: rejected: %v\n", r.File, r.Line, r.Err)
				}}, hq)
				if err != nil {
					return err
				}
			}
			return writeHotspots(cmd.OutOrStdout(), format, rows, hq.ByArea)
		},
	}
	profiles.register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringArrayVar(&events, "events", nil, "NDJSON event file (repeatable; - for stdin)")
	fl.StringVar(&clickhouse, "clickhouse", "", "the aggregates a pipeline stored (DSN clickhouse://user@host:9000/db)")
	fl.IntVar(&hq.Level, "level", 0, "topic level of the groups: 1, 2 or 3 (default: the profile's hotspot.level)")
	fl.BoolVar(&hq.ByArea, "by-area", false, "groups by topic and area")
	fl.StringVar(&hq.From, "from", "", "first day reported, YYYY-MM-DD")
	fl.StringVar(&hq.To, "to", "", "last day reported, YYYY-MM-DD")
	fl.StringVar(&format, "format", "table", "table, json, csv or html")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	return cmd
}

var hotspotHeads = []string{"日期 day", "中心 center_id", "层级 level", "分类 topic", "名称 name", "区域 area", "受理量 count", "基线 baseline", "得分 score"}

func hotspotCells(r compute.HotspotRow) []string {
	return []string{r.Day, r.CenterID, strconv.Itoa(r.Level), r.Topic, r.Name, r.Area, strconv.FormatInt(r.Count, 10),
		strconv.FormatFloat(r.Baseline, 'f', 2, 64), strconv.FormatFloat(r.Score, 'f', 2, 64)}
}

var hotspotHTML = template.Must(template.New("hotspots").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>热点诉求</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}</style></head>
<body><h1>热点诉求</h1>
{{if .Rows}}<table><tr>{{range .Heads}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if ge $i 6}} class="n"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table>{{else}}<p>无热点 (no hot spot).</p>{{end}}
</body></html>
`))

func writeHotspots(w io.Writer, format string, rows []compute.HotspotRow, byArea bool) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if rows == nil {
			rows = []compute.HotspotRow{}
		}
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(hotspotHeads); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Write(hotspotCells(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "html":
		cells := make([][]string, len(rows))
		for i, r := range rows {
			cells[i] = hotspotCells(r)
		}
		return hotspotHTML.Execute(w, map[string]any{"Heads": hotspotHeads, "Rows": cells})
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, h := range hotspotHeads {
			if i == 5 && !byArea {
				continue
			}
			fmt.Fprint(tw, h, "\t")
		}
		fmt.Fprintln(tw)
		for _, r := range rows {
			for i, c := range hotspotCells(r) {
				if i == 5 && !byArea {
					continue
				}
				fmt.Fprint(tw, c, "\t")
			}
			fmt.Fprintln(tw)
		}
		if len(rows) == 0 {
			fmt.Fprintln(tw, "无热点 (no hot spot)")
		}
		return tw.Flush()
	}
	return fmt.Errorf("--format %q: want table, json, csv or html", format)
}

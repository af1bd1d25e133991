package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/width"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/staffing"
)

func newStaffingCmd() *cobra.Command {
	var (
		calls, target, maxOcc, shrinkage float64
		interval, aht, threshold         string
		agents                           int
		format                           string
		profiles                         profileFlags
		events                           []string
		clickhouse, from, to             string
	)
	cmd := &cobra.Command{
		Use:   "staffing (--calls N [--interval 30m] [--aht 180s] [--agents N] | --events FILE... | --clickhouse DSN)",
		Short: "Erlang C: the agents an interval's calls need, or what a staffing achieves",
		Long: `The Erlang C calculator of the staffing indicators (docs/spec/indicators.md,
"Agents and staffing"). From the calls offered in an interval and their mean
handle time: the traffic in erlangs and the smallest number of agents whose
service level (answered within the threshold) reaches the target, with their
wait probability, ASA and occupancy. With --agents N it evaluates that
staffing instead. With --shrinkage s it adds the positions to roster,
⌈agents ÷ (1 − s)⌉. The threshold, target, interval, default handle time and
occupancy cap default to the profile's.

With --events FILE... or --clickhouse DSN instead of the numbers it prints,
per staffing.interval window of each centre (--from/--to: days), the calls
offered, the handle time (the window's answered calls', else the profile's
default), the traffic, the agents required and staffed (the mean of those
ready, busy or in wrap-up) and the gap: the staffing indicators of compute.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := profiles.load()
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if len(events) > 0 || clickhouse != "" {
				if fl.Changed("calls") || fl.Changed("agents") {
					return errors.New("--calls and --agents are the calculator's; --events and --clickhouse read the intervals")
				}
				return runStaffingIntervals(cmd, set, events, clickhouse, from, to, format)
			}
			p := set.Default
			d := staffing.Demand{Calls: calls, Target: target, MaxOccupancy: maxOcc, AHT: p.Staffing.DefaultAHT,
				Threshold: time.Duration(p.Calls.ServiceLevel.ThresholdSeconds * float64(time.Second)),
				Interval:  profile.StaffingIntervals[p.Staffing.Interval]}
			if !fl.Changed("calls") {
				return errors.New("--calls is required: the calls offered in the interval")
			}
			if !fl.Changed("target") {
				t, ok := p.Targets[profile.ServiceLevelID]
				if !ok {
					return fmt.Errorf("profile %s has no target for %s: give --target", p.ID, profile.ServiceLevelID)
				}
				d.Target = t.Value
			}
			if !fl.Changed("max-occupancy") {
				d.MaxOccupancy = p.Staffing.MaxOccupancy
			}
			for _, f := range []struct {
				name string
				val  string
				into *time.Duration
			}{{"interval", interval, &d.Interval}, {"aht", aht, &d.AHT}, {"threshold", threshold, &d.Threshold}} {
				if !fl.Changed(f.name) {
					continue
				}
				v, ok := profile.StaffingIntervals[f.val]
				if f.name != "interval" || !ok {
					if v, err = time.ParseDuration(f.val); err != nil {
						return fmt.Errorf("--%s %q: want a duration such as 30m or 180s", f.name, f.val)
					}
				}
				*f.into = v
			}
			if shrinkage < 0 || shrinkage >= 1 {
				return fmt.Errorf("--shrinkage %v: want a share in [0, 1)", shrinkage)
			}
			if fl.Changed("agents") && agents < 0 {
				return fmt.Errorf("--agents %d: want ≥ 0", agents)
			}
			if err := d.Validate(); err != nil {
				return err
			}
			r := staffing.Required(d)
			if fl.Changed("agents") {
				r = staffing.Evaluate(d, agents)
			}
			r = r.WithShrinkage(shrinkage)
			switch format {
			case "json":
				return writeStaffingJSON(cmd.OutOrStdout(), r)
			case "table":
				return writeStaffingTable(cmd.OutOrStdout(), d, r, shrinkage, fl.Changed("agents"))
			}
			return fmt.Errorf("--format %q: want table or json", format)
		},
	}
	profiles.register(cmd.Flags())
	fl := cmd.Flags()
	fl.Float64Var(&calls, "calls", 0, "calls offered in the interval")
	fl.StringVar(&interval, "interval", "", "the interval: 15m, 30m, hour or any duration (default: the profile's staffing.interval)")
	fl.StringVar(&aht, "aht", "", "mean handle time, e.g. 180s (default: the profile's staffing.default_aht)")
	fl.StringVar(&threshold, "threshold", "", "answer within, e.g. 20s (default: the profile's service-level threshold)")
	fl.Float64Var(&target, "target", 0, "service level to reach, e.g. 0.8 (default: the profile's answered_within_15s_rate target)")
	fl.Float64Var(&maxOcc, "max-occupancy", 0, "also keep the occupancy A/N at or below this (default: the profile's staffing.max_occupancy; 0: no cap)")
	fl.Float64Var(&shrinkage, "shrinkage", 0, "share of paid time not on calls (breaks, training, absence), e.g. 0.3: adds the positions to roster")
	fl.IntVar(&agents, "agents", 0, "evaluate this many agents instead of finding the required number")
	fl.StringVar(&format, "format", "table", "table or json")
	fl.StringArrayVar(&events, "events", nil, "NDJSON event file: print its staffing intervals (repeatable; - for stdin)")
	fl.StringVar(&clickhouse, "clickhouse", "", "print the staffing intervals of the aggregates a pipeline stored (DSN clickhouse://user@host:9000/db)")
	fl.StringVar(&from, "from", "", "with --events or --clickhouse: first day, YYYY-MM-DD")
	fl.StringVar(&to, "to", "", "with --events or --clickhouse: last day, YYYY-MM-DD")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	return cmd
}

// runStaffingIntervals prints the staffing intervals of events or of the
// store, between the days from and to (inclusive, in each centre's zone).
func runStaffingIntervals(cmd *cobra.Command, set *profile.Set, files []string, dsn, from, to, format string) error {
	var (
		rows []indicator.StaffingRow
		err  error
	)
	if dsn != "" {
		st, err := readStored(cmd.Context(), dsn)
		if err != nil {
			return err
		}
		if rows, err = compute.StaffingFromStore(st, set); err != nil {
			return err
		}
	} else {
		stderr := cmd.ErrOrStderr()
		o := compute.Options{Files: files, Profiles: set, OnReject: func(r compute.Reject) {
			fmt.Fprintf(stderr, "%s:%d: rejected: %v\n", r.File, r.Line, r.Err)
		}}
		if rows, _, err = compute.Staffing(cmd.Context(), o); err != nil {
			return err
		}
	}
	day := func(flag, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "", fmt.Errorf("--%s %q: want YYYY-MM-DD", flag, v)
		}
		return v, nil
	}
	if from, err = day("from", from); err != nil {
		return err
	}
	if to, err = day("to", to); err != nil {
		return err
	}
	kept := rows[:0]
	for _, r := range rows {
		d := time.UnixMilli(r.Start).In(set.For(r.CenterID).Location()).Format(time.DateOnly)
		if (from == "" || d >= from) && (to == "" || d <= to) {
			kept = append(kept, r)
		}
	}
	switch format {
	case "json":
		return writeIntervalsJSON(cmd.OutOrStdout(), set, kept)
	case "table":
		return writeIntervalsTable(cmd.OutOrStdout(), set, kept)
	}
	return fmt.Errorf("--format %q: want table or json", format)
}

// intervalJSON is one staffing interval in --format json.
type intervalJSON struct {
	CenterID     string   `json:"center_id"`
	Start        string   `json:"window_start"`
	End          string   `json:"window_end"`
	Offered      int64    `json:"calls_offered"`
	AHTSeconds   float64  `json:"aht_seconds"`
	AHTCalls     int64    `json:"aht_calls"`
	Traffic      float64  `json:"traffic_erlangs"`
	Required     int      `json:"agents_required"`
	Staffed      *float64 `json:"agents_staffed"`
	Gap          *float64 `json:"staffing_gap"`
	Understaffed bool     `json:"understaffed"`
}

func intervalsJSON(set *profile.Set, rows []indicator.StaffingRow) []intervalJSON {
	out := make([]intervalJSON, 0, len(rows))
	for _, r := range rows {
		loc := set.For(r.CenterID).Location()
		j := intervalJSON{CenterID: r.CenterID, Start: time.UnixMilli(r.Start).In(loc).Format(time.RFC3339),
			End: time.UnixMilli(r.End).In(loc).Format(time.RFC3339), Offered: r.Offered, AHTSeconds: r.AHT.Seconds(),
			AHTCalls: r.AHTCalls, Traffic: r.Traffic, Required: r.Required, Understaffed: r.Understaffed()}
		if r.Agents {
			staffed, gap := r.Staffed, r.Gap()
			j.Staffed, j.Gap = &staffed, &gap
		}
		out = append(out, j)
	}
	return out
}

func writeIntervalsJSON(w io.Writer, set *profile.Set, rows []indicator.StaffingRow) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(intervalsJSON(set, rows))
}

func writeIntervalsTable(w io.Writer, set *profile.Set, rows []indicator.StaffingRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "中心 center\t时段 window\t来电量 offered\t平均处理时长 AHT\t话务量 erlangs\t应配 required\t在岗 staffed\t缺员 gap\t")
	for _, j := range intervalsJSON(set, rows) {
		staffed, gap := "—", "—" // no agent events that day
		if j.Staffed != nil {
			staffed, gap = strconv.FormatFloat(*j.Staffed, 'f', 2, 64), strconv.FormatFloat(*j.Gap, 'f', 2, 64)
			if j.Understaffed {
				gap += " 缺员"
			}
		}
		aht := strconv.FormatFloat(j.AHTSeconds, 'f', 1, 64) + "s"
		if j.AHTCalls == 0 {
			aht += " (默认)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.3f\t%d\t%s\t%s\t\n", j.CenterID, j.Start[:16], j.Offered, aht, j.Traffic, j.Required, staffed, gap)
	}
	return tw.Flush()
}

// staffingJSON is the JSON of cli.md; an unbounded ASA (too few agents)
// is null, JSON having no infinity.
type staffingJSON struct {
	Traffic         float64  `json:"traffic_erlangs"`
	Agents          int      `json:"agents"`
	ServiceLevel    float64  `json:"service_level"`
	WaitProbability float64  `json:"wait_probability"`
	ASASeconds      *float64 `json:"asa_seconds"`
	Occupancy       float64  `json:"occupancy"`
	Positions       int      `json:"positions,omitempty"`
}

func writeStaffingJSON(w io.Writer, r staffing.Result) error {
	out := staffingJSON{Traffic: r.Traffic, Agents: r.Agents, ServiceLevel: r.ServiceLevel,
		WaitProbability: r.WaitProbability, Occupancy: r.Occupancy, Positions: r.Positions}
	if !math.IsInf(r.ASASeconds, 0) {
		out.ASASeconds = &r.ASASeconds
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeStaffingTable(w io.Writer, d staffing.Demand, r staffing.Result, shrinkage float64, given bool) error {
	pct := func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }
	agentsLabel := "应配坐席数"
	if given {
		agentsLabel = "坐席数"
	}
	asa := "无穷 (坐席数不大于话务量, 队列无限增长)"
	if !math.IsInf(r.ASASeconds, 0) {
		asa = strconv.FormatFloat(r.ASASeconds, 'f', 1, 64) + " 秒"
	}
	rows := [][2]string{
		{"来电量", fmt.Sprintf("%s 通 / %s", strconv.FormatFloat(d.Calls, 'f', -1, 64), shortDuration(d.Interval))},
		{"平均处理时长", shortDuration(d.AHT)},
		{"话务量", strconv.FormatFloat(r.Traffic, 'f', 3, 64) + " 爱尔兰"},
		{agentsLabel, strconv.Itoa(r.Agents)},
		{fmt.Sprintf("服务水平 (%s 内接通, 目标 %s)", shortDuration(d.Threshold), pct(d.Target)), pct(r.ServiceLevel)},
		{"排队概率", pct(r.WaitProbability)},
		{"平均应答时长", asa},
		{"坐席利用率", pct(r.Occupancy)},
	}
	if r.Positions > 0 {
		rows = append(rows, [2]string{"排班人数 (缺勤率 " + pct(shrinkage) + ")", strconv.Itoa(r.Positions)})
	}
	return writeLabelled(w, rows)
}

// writeLabelled writes label–value lines with the values aligned, counting
// a Chinese character two columns wide as a terminal shows it.
func writeLabelled(w io.Writer, rows [][2]string) error {
	cols := func(s string) int {
		n := 0
		for _, r := range s {
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
		return n
	}
	most := 0
	for _, r := range rows {
		most = max(most, cols(r[0]))
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%s%s  %s\n", r[0], strings.Repeat(" ", most-cols(r[0])), r[1]); err != nil {
			return err
		}
	}
	return nil
}

// shortDuration writes 30m for 30m0s and 3m for 3m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

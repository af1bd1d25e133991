package compute

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// Formats of `compute` output.
var Formats = []string{"json", "table", "csv"}

// Write writes out in the named format; groupBy orders the dims columns.
func Write(w io.Writer, format string, out *Output, groupBy []string) error {
	switch format {
	case "json":
		return WriteJSON(w, out)
	case "table":
		return writeTable(w, out, groupBy)
	case "csv":
		return writeCSV(w, out, groupBy)
	}
	return fmt.Errorf("format %q: want json, table or csv", format)
}

func fmtSeconds(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

func num(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func target(r *indicator.Result) (op, value, met string) {
	if r.Target == nil {
		return "", "", ""
	}
	met = "否"
	if *r.Met {
		met = "是"
	}
	return r.Target.Op, strconv.FormatFloat(r.Target.Value, 'f', -1, 64), met
}

func writeTable(w io.Writer, out *Output, groupBy []string) error {
	fmt.Fprintf(w, "口径 profile: %s   评估时间 as of: %s   事件 events: accepted %d, duplicates %d (conflicting %d), rejected %d\n",
		out.Profile, out.AsOf, out.Events.Accepted, out.Events.Duplicates, out.Events.Conflicting, out.Events.Rejected)
	fmt.Fprintf(w, "接通时限 service level: answered_within_15s_rate 按等待 ≤ %s 秒计 (threshold %s s), 分母 denominator: %s\n",
		fmtSeconds(out.ServiceLevel.ThresholdSeconds), fmtSeconds(out.ServiceLevel.ThresholdSeconds), out.ServiceLevel.Denominator)
	centers := make([]string, 0, len(out.ProfilesByCenter))
	for c := range out.ProfilesByCenter {
		centers = append(centers, c)
	}
	sort.Strings(centers)
	for _, c := range centers {
		cp := out.ProfilesByCenter[c]
		fmt.Fprintf(w, "中心 center %s 口径 profile: %s   接通时限 ≤ %s 秒, 分母 denominator: %s\n",
			c, cp.Profile, fmtSeconds(cp.ServiceLevel.ThresholdSeconds), cp.ServiceLevel.Denominator)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := append([]string{"指标 indicator", "名称", "窗口 window_start"}, groupBy...)
	head = append(head, "分子 num", "分母 den", "值 value", "目标 target", "达标 met")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i := range out.Results {
		r := &out.Results[i]
		op, tv, met := target(r)
		row := []string{r.Indicator, out.name(r.Indicator), r.WindowStart}
		for _, d := range groupBy {
			row = append(row, r.Dims[d])
		}
		row = append(row, num(r.Numerator), num(r.Denominator), strconv.FormatFloat(r.Value, 'f', -1, 64), strings.TrimSpace(op+" "+tv), met)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func writeCSV(w io.Writer, out *Output, groupBy []string) error {
	cw := csv.NewWriter(w)
	head := append([]string{"indicator", "name", "window", "window_start"}, groupBy...)
	head = append(head, "numerator", "denominator", "value", "target_op", "target_value", "met")
	if err := cw.Write(head); err != nil {
		return err
	}
	for i := range out.Results {
		r := &out.Results[i]
		op, tv, _ := target(r)
		met := ""
		if r.Met != nil {
			met = strconv.FormatBool(*r.Met)
		}
		row := []string{r.Indicator, out.name(r.Indicator), r.Window, r.WindowStart}
		for _, d := range groupBy {
			row = append(row, r.Dims[d])
		}
		row = append(row, num(r.Numerator), num(r.Denominator), strconv.FormatFloat(r.Value, 'f', -1, 64), op, tv, met)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

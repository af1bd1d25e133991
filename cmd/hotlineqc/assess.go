package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/assess"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

type assessFlags struct {
	events, deadLetters []string
	clickhouse          string
	profiles            profileFlags
	center, from, to    string
	year, quarter       string
	formats, asOf, out  string
	noPrevious          bool
}

func newAssessCmd() *cobra.Command {
	var f assessFlags
	cmd := &cobra.Command{
		Use:   "assess (--events FILE ... | --clickhouse DSN) (--from YYYY-MM --to YYYY-MM | --quarter YYYYQn | --year YYYY) --out DIR",
		Short: "Self-assessment against GB/T 33358-2016 (服务规范符合性自评): conformity, 7×24, gaps, improvement, records audit",
		Long: `Write the self-assessment report of each centre (or of --center) over a
period of whole months (docs/spec/assessment.md): the conformity table
(the standard's reported requirements and every target of the profile, with
the months met and a verdict 符合/部分符合/不符合/无数据), the 7×24 service
check hour by hour, the drivers of each gap (months, days, queues, teams,
departments, categories, channels), the previous period of as many months
side by side with what was rectified (已整改), the records audit with every
id, and the basis. Files: <center>-<from>_<to>-assessment.xlsx, one CSV per
table (UTF-8 with a BOM) and a printable .html. The monthly figures are
those of export and compute on the same data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAssess(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.events, "events", nil, "NDJSON event file (repeatable); give the previous period's events too")
	fl.StringVar(&f.clickhouse, "clickhouse", "", "read what the pipeline stored instead (DSN clickhouse://user@host:9000/db)")
	fl.StringArrayVar(&f.deadLetters, "dead-letters", nil, "NDJSON dead-letter file whose records count as rejected (repeatable)")
	f.profiles.register(fl)
	fl.StringVar(&f.center, "center", "", "only this centre (default: every centre with data in the period)")
	fl.StringVar(&f.from, "from", "", "first month, YYYY-MM")
	fl.StringVar(&f.to, "to", "", "last month, YYYY-MM")
	fl.StringVar(&f.quarter, "quarter", "", "a quarter, YYYYQn (e.g. 2026Q3)")
	fl.StringVar(&f.year, "year", "", "a year, YYYY")
	fl.BoolVar(&f.noPrevious, "no-previous", false, "leave out the previous period")
	fl.StringVar(&f.formats, "format", "xlsx,csv,html", "formats, comma-separated: xlsx, csv, html")
	fl.StringVar(&f.asOf, "as-of", "", "evaluation time, RFC 3339 (default: the latest event time, as compute)")
	fl.StringVar(&f.out, "out", "", "output directory")
	_ = cmd.MarkFlagRequired("out")
	cmd.MarkFlagsOneRequired("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	cmd.MarkFlagsOneRequired("from", "quarter", "year")
	cmd.MarkFlagsMutuallyExclusive("from", "quarter", "year")
	cmd.MarkFlagsRequiredTogether("from", "to")
	return cmd
}

// period resolves --from/--to, --quarter or --year into months.
func (f assessFlags) period() (from, to string, err error) {
	switch {
	case f.quarter != "":
		var y, q int
		if _, err := fmt.Sscanf(f.quarter, "%4dQ%1d", &y, &q); err != nil || q < 1 || q > 4 || len(f.quarter) != 6 {
			return "", "", fmt.Errorf("--quarter %q: want YYYYQn", f.quarter)
		}
		return fmt.Sprintf("%04d-%02d", y, 3*q-2), fmt.Sprintf("%04d-%02d", y, 3*q), nil
	case f.year != "":
		if _, err := time.Parse("2006", f.year); err != nil {
			return "", "", fmt.Errorf("--year %q: want YYYY", f.year)
		}
		return f.year + "-01", f.year + "-12", nil
	}
	for _, kv := range [...][2]string{{"--from", f.from}, {"--to", f.to}} {
		name, m := kv[0], kv[1]
		if _, err := time.Parse("2006-01", m); err != nil {
			return "", "", fmt.Errorf("%s %q: want YYYY-MM", name, m)
		}
	}
	if f.to < f.from {
		return "", "", fmt.Errorf("--to %s is before --from %s", f.to, f.from)
	}
	return f.from, f.to, nil
}

func runAssess(cmd *cobra.Command, f assessFlags) error {
	from, to, err := f.period()
	if err != nil {
		return err
	}
	set, err := f.profiles.load()
	if err != nil {
		return err
	}
	fs, err := report.ParseFormats(f.formats)
	if err != nil {
		return err
	}
	var at time.Time
	if f.asOf != "" {
		if at, err = time.Parse(time.RFC3339Nano, f.asOf); err != nil {
			return fmt.Errorf("--as-of %q: want RFC 3339", f.asOf)
		}
	}
	// The figures and the records audit of the period, at the same
	// evaluation time: from files in one pass, from the store in two reads.
	scope := compute.AuditScope{Center: f.center, From: from, To: to, Examples: -1}
	var src report.Source
	var audit *compute.AuditOutput
	if f.clickhouse == "" {
		o, finish, err := fileOptions(cmd, f.events, set, at)
		if err != nil {
			return err
		}
		src, audit, err = assess.FromFiles(cmd.Context(), o, scope, f.deadLetters)
		finish()
		if err != nil {
			return err
		}
	} else {
		var r *chstore.Reader
		var closeSrc func()
		if src, r, closeSrc, err = openSource(cmd, nil, f.clickhouse, set, at, false); err != nil {
			return err
		}
		defer closeSrc()
		if audit, err = compute.AuditStore(cmd.Context(), r, set, scope, time.UnixMilli(src.AsOf()), f.deadLetters); err != nil {
			return fmt.Errorf("records audit: %w", err)
		}
	}
	files, err := assess.Export(src, set, audit, f.center, from, to, !f.noPrevious, fs, f.out)
	for _, name := range files {
		fmt.Fprintln(cmd.OutOrStdout(), name)
	}
	if errors.Is(err, report.ErrNoData) {
		return fmt.Errorf("%w: the input has no event from %s to %s", err, from, to)
	}
	return err
}

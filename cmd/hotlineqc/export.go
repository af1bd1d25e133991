package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

func newExportCmd() *cobra.Command {
	var (
		month, center, formats, out, ch, asOf string
		events                                []string
		profiles                              profileFlags
	)
	cmd := &cobra.Command{
		Use:   "export --month YYYY-MM (--events FILE ... | --clickhouse DSN) --out DIR",
		Short: "Write the monthly evaluation report (月度考核报告) as XLSX, CSV and HTML",
		Long: `Write the monthly evaluation report of each centre (or of --center) into DIR:
<center>-<YYYY-MM>.xlsx, one <center>-<YYYY-MM>-<table>.csv per table (UTF-8
with a BOM) and <center>-<YYYY-MM>.html. The figures are those of
compute --window month, from event files or from what the pipeline stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := profiles.load()
			if err != nil {
				return err
			}
			fs, err := report.ParseFormats(formats)
			if err != nil {
				return err
			}
			var at time.Time
			if asOf != "" {
				if at, err = time.Parse(time.RFC3339Nano, asOf); err != nil {
					return fmt.Errorf("--as-of %q: want RFC 3339", asOf)
				}
			}
			if _, err := report.Month(month, set.Default.Location()); err != nil {
				return err
			}
			src, _, closeSrc, err := openSource(cmd, events, ch, set, at, true)
			if err != nil {
				return err
			}
			defer closeSrc()
			files, err := report.Export(src, set, month, center, fs, out)
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			if errors.Is(err, report.ErrNoData) {
				return fmt.Errorf("%w: the input has no event of %s", err, month)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&month, "month", "", "the month, YYYY-MM")
	fl.StringArrayVar(&events, "events", nil, "NDJSON event file (repeatable)")
	fl.StringVar(&ch, "clickhouse", "", "read what the pipeline stored instead (DSN clickhouse://user@host:9000/db)")
	profiles.register(fl)
	fl.StringVar(&center, "center", "", "only this centre (default: every centre with data)")
	fl.StringVar(&formats, "format", "xlsx,csv,html", "formats, comma-separated: xlsx, csv, html")
	fl.StringVar(&asOf, "as-of", "", "evaluation time, RFC 3339 (default: the latest event time, as compute)")
	fl.StringVar(&out, "out", "", "output directory")
	_ = cmd.MarkFlagRequired("month")
	_ = cmd.MarkFlagRequired("out")
	cmd.MarkFlagsOneRequired("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	return cmd
}

// openSource evaluates event files, or opens the store at DSN ch when it
// is set (reading the ticket states only withTickets); close releases the
// store. reader is nil for files.
func openSource(cmd *cobra.Command, files []string, ch string, set *profile.Set, at time.Time, withTickets bool) (report.Source, *chstore.Reader, func(), error) {
	if ch == "" {
		o, finish, err := fileOptions(cmd, files, set, at)
		if err != nil {
			return nil, nil, nil, err
		}
		src, err := report.FromFiles(cmd.Context(), o)
		finish()
		return src, nil, func() {}, err
	}
	conn, db, err := chstore.OpenDSN(cmd.Context(), ch)
	if err != nil {
		return nil, nil, nil, err
	}
	r := chstore.NewReader(conn, db)
	src, err := report.FromStore(cmd.Context(), r, set, at, ch, withTickets)
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return src, r, func() { conn.Close() }, nil
}

// fileOptions are the options of reading event files with a progress bar
// on stderr and each rejected line reported there; call finish after.
func fileOptions(cmd *cobra.Command, files []string, set *profile.Set, at time.Time) (report.FileOptions, func(), error) {
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return report.FileOptions{}, nil, fmt.Errorf("read events: %w", err)
		}
		total += st.Size()
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetDescription("读取事件"), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	var done int64
	var base int64
	return report.FileOptions{Files: files, Profiles: set, AsOf: at,
		Progress: func(n int64) {
			if n < done-base { // the next file started
				base = done
			}
			done = base + n
			_ = bar.Set64(done)
		},
		OnReject: func(r compute.Reject) {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s:%d: rejected: %v\n", r.File, r.Line, r.Err)
		}}, func() { _ = bar.Finish() }, nil
}

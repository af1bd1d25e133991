package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

type auditFlags struct {
	events, deadLetters []string
	clickhouse          string
	profiles            profileFlags
	calendar            string
	center, from, to    string
	month               string
	asOf, format        string
	maxBytes, examples  int
}

func newAuditCmd() *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit (--events FILE ... | --clickhouse DSN) [--from YYYY-MM --to YYYY-MM]",
		Short: "Records audit: calls and tickets whose history is incomplete or inconsistent",
		Long: `Check every call and ticket for a complete, consistent history (记录完整性核查,
docs/spec/assessment.md) and count each defect class per centre and
month, with the first example ids: tickets replied, closed or called back
without being created; work without a dispatch; closed without a reply;
events after the close; overdue without reply or suspension; calls answered,
ended or rated without being queued; answers without an end after a day;
impossible orders; conflicting duplicates; and rejected messages by reason
(the input's bad lines and --dead-letters files). A call belongs to the
month of its offer, a ticket to the month of its creation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAudit(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.events, "events", nil, "NDJSON event file (repeatable; - for stdin)")
	fl.StringVar(&f.clickhouse, "clickhouse", "", "audit the raw events stored in ClickHouse (DSN clickhouse://user@host:9000/db)")
	fl.StringArrayVar(&f.deadLetters, "dead-letters", nil, "NDJSON dead-letter file whose records count as rejected by reason (repeatable)")
	f.profiles.register(fl)
	fl.StringVar(&f.calendar, "calendar", "", "extra calendar overrides (YAML: workdays: [...], holidays: [...])")
	fl.StringVar(&f.center, "center", "", "only this centre")
	fl.StringVar(&f.month, "month", "", "one month, YYYY-MM (same as --from M --to M)")
	fl.StringVar(&f.from, "from", "", "first month, YYYY-MM")
	fl.StringVar(&f.to, "to", "", "last month, YYYY-MM")
	fl.StringVar(&f.asOf, "as-of", "", "evaluation time, RFC 3339 (default: the latest event time; with --clickhouse, now)")
	fl.StringVar(&f.format, "format", "table", "output format: json|table|csv")
	fl.IntVar(&f.examples, "examples", indicator.MaxAuditExamples, "ids listed per class, centre and month (-1: all)")
	fl.IntVar(&f.maxBytes, "max-message-bytes", 1<<20, "largest accepted line")
	cmd.MarkFlagsOneRequired("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("month", "from")
	cmd.MarkFlagsMutuallyExclusive("month", "to")
	return cmd
}

func runAudit(cmd *cobra.Command, f auditFlags) error {
	if f.format != "json" && f.format != "table" && f.format != "csv" {
		return fmt.Errorf("--format %q: want json, table or csv", f.format)
	}
	if f.month != "" {
		f.from, f.to = f.month, f.month
	}
	for _, kv := range [...][2]string{{"--from", f.from}, {"--to", f.to}} {
		name, m := kv[0], kv[1]
		if _, err := time.Parse("2006-01", m); m != "" && err != nil {
			return fmt.Errorf("%s %q: want YYYY-MM", name, m)
		}
	}
	opts, err := computeOptions(computeFlags{events: f.events, profiles: f.profiles, calendar: f.calendar,
		window: "month", groupBy: "center_id", asOf: f.asOf, format: "json", maxBytes: f.maxBytes})
	if err != nil {
		return err
	}
	scope := compute.AuditScope{Center: f.center, From: f.from, To: f.to, Examples: f.examples}
	var out *compute.AuditOutput
	if f.clickhouse != "" {
		conn, db, err := chstore.OpenDSN(cmd.Context(), f.clickhouse)
		if err != nil {
			return err
		}
		defer conn.Close()
		out, err = compute.AuditStore(cmd.Context(), chstore.NewReader(conn, db), opts.Profiles, scope, opts.AsOf, f.deadLetters)
		if err != nil {
			return err
		}
	} else {
		stderr := cmd.ErrOrStderr()
		opts.OnReject = func(r compute.Reject) { fmt.Fprintf(stderr, "%s:%d: rejected: %v\n", r.File, r.Line, r.Err) }
		if out, err = compute.Audit(cmd.Context(), opts, scope, f.deadLetters); err != nil {
			return err
		}
	}
	return compute.WriteAudit(cmd.OutOrStdout(), f.format, out)
}

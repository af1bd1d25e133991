package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

type verifyFlags struct {
	clickhouse, profile     string
	center, from, to, month string
	format                  string
	seal                    bool
	grace, settle, wait     time.Duration
}

// errFindings makes verify exit non-zero when it found changes.
var errFindings = errors.New("records changed after sealing")

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --clickhouse DSN [--from YYYY-MM-DD --to YYYY-MM-DD | --month YYYY-MM]",
		Short: "Tamper evidence: recompute the day digests from the raw tables and name every day changed after sealing",
		Long: `The pipeline seals each centre's day (a SHA-256 digest of its accepted events,
chained to the previous record of the centre's log) once the day has been
over for ledger.grace; late arrivals through the pipeline append a new
version. verify recomputes every digest from the raw tables and reports
each day as ok, pending (late arrivals not yet sealed), unsealed, or changed,
added or removed after sealing (a change made outside the pipeline), checks
the chain of the log and prints its head per centre: keep the head, and a
later verify shows whether the log only grew. Replays and table merges are
not changes. Exits with status 1 when it finds a change.

--seal first seals the days that are due, for a store loaded without
'hotlineqc run', in one call: a day is announced once its events have been
quiet for --settle, and sealed --settle after its announcement, so the call
waits (up to --wait) for the days that become sealable, and says which days
still wait and for what. With no pipeline running on the store, --settle 0s
seals at once; while one runs, keep the default, so that every instance
sees the announcement and marks late arrivals.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.clickhouse, "clickhouse", "", "the store (DSN clickhouse://user@host:9000/db)")
	fl.StringVar(&f.profile, "profile", profile.DefaultID, "profile whose time zone makes the days ("+strings.Join(profile.BuiltinIDs(), ", ")+")")
	fl.StringVar(&f.center, "center", "", "only this centre")
	fl.StringVar(&f.month, "month", "", "one month, YYYY-MM")
	fl.StringVar(&f.from, "from", "", "first day, YYYY-MM-DD")
	fl.StringVar(&f.to, "to", "", "last day, YYYY-MM-DD")
	fl.StringVar(&f.format, "format", "table", "output format: table|json")
	fl.BoolVar(&f.seal, "seal", false, "seal the days that are due first")
	fl.DurationVar(&f.grace, "grace", ledger.DefaultConfig().Grace, "with --seal: how long after its end a day is sealed")
	fl.DurationVar(&f.settle, "settle", ledger.DefaultConfig().Settle, "with --seal: how long a day must be quiet before it is announced, and announced before it is sealed (0s: no pipeline runs on the store)")
	fl.DurationVar(&f.wait, "wait", 5*time.Minute, "with --seal: how long to wait for days that become sealable")
	_ = cmd.MarkFlagRequired("clickhouse")
	cmd.MarkFlagsMutuallyExclusive("month", "from")
	cmd.MarkFlagsMutuallyExclusive("month", "to")
	return cmd
}

// seal seals what is due and what becomes sealable within wait, and says
// which days still wait and for what.
func seal(cmd *cobra.Command, led *ledger.Ledger, wait time.Duration) error {
	out := cmd.ErrOrStderr()
	rep, waits, err := led.SealWithin(cmd.Context(), wait, func(w ledger.Wait) {
		fmt.Fprintf(out, "waiting until %s: %s\n", w.Until.Format(time.DateTime), w)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed %d day versions\n", len(rep.Sealed))
	if len(waits) > 0 {
		fmt.Fprintf(out, "%d days wait:\n", len(waits))
		for _, w := range waits {
			fmt.Fprintf(out, "  %s\n", w)
		}
	}
	return nil
}

func runVerify(cmd *cobra.Command, f verifyFlags) error {
	if f.format != "table" && f.format != "json" {
		return fmt.Errorf("--format %q: want table or json", f.format)
	}
	if f.month != "" {
		m, err := time.Parse("2006-01", f.month)
		if err != nil {
			return fmt.Errorf("--month %q: want YYYY-MM", f.month)
		}
		f.from, f.to = m.Format("2006-01-02"), m.AddDate(0, 1, -1).Format("2006-01-02")
	}
	for _, kv := range [...][2]string{{"--from", f.from}, {"--to", f.to}} {
		name, d := kv[0], kv[1]
		if _, err := time.Parse("2006-01-02", d); d != "" && err != nil {
			return fmt.Errorf("%s %q: want YYYY-MM-DD", name, d)
		}
	}
	p, err := profile.Load(f.profile)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	conn, db, err := chstore.OpenDSN(ctx, f.clickhouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg := ledger.DefaultConfig()
	cfg.Grace, cfg.Settle = f.grace, f.settle
	led := ledger.New(chstore.NewLedgerStore(conn, db), p.Location(), cfg, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
	if f.seal {
		if err := seal(cmd, led, f.wait); err != nil {
			return err
		}
	}
	v, err := led.Verify(ctx, f.center, f.from, f.to)
	if err != nil {
		return err
	}
	if err := v.Write(cmd.OutOrStdout(), f.format); err != nil {
		return err
	}
	if v.Tampered() > 0 {
		return errFindings
	}
	return nil
}

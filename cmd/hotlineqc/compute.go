package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/privacy"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

type computeFlags struct {
	events     []string
	profiles   profileFlags
	calendar   string
	window     string
	groupBy    string
	asOf       string
	format     string
	deadLetter string
	clickhouse string
	maxBytes   int
}

func newComputeCmd() *cobra.Command {
	var f computeFlags
	cmd := &cobra.Command{
		Use:   "compute (--events FILE [--events FILE ...] | --clickhouse DSN)",
		Short: "Compute the indicators of NDJSON event files (no services needed)",
		Long: `Compute every indicator of the profile over NDJSON event files, by window and
dimensions. Bad lines are reported on stderr with file, line and reason and
counted in the output; they do not change the exit status. "-" reads stdin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompute(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.events, "events", nil, "NDJSON event file (repeatable; - for stdin)")
	fl.StringVar(&f.clickhouse, "clickhouse", "", "read the aggregates a pipeline stored instead (DSN clickhouse://user@host:9000/db)")
	f.profiles.register(fl)
	fl.StringVar(&f.calendar, "calendar", "", "extra calendar overrides (YAML: workdays: [...], holidays: [...])")
	fl.StringVar(&f.window, "window", indicator.WindowDay, "window: "+strings.Join(indicator.Windows(), "|"))
	fl.StringVar(&f.groupBy, "group-by", "center_id", "dimensions, comma-separated: "+strings.Join(indicator.Dimensions(), ","))
	fl.StringVar(&f.asOf, "as-of", "", "evaluation time, RFC 3339 (default: the latest event time)")
	fl.StringVar(&f.format, "format", "json", "output format: "+strings.Join(compute.Formats, "|"))
	fl.StringVar(&f.deadLetter, "dead-letter", "", "also write rejected lines to this NDJSON file")
	fl.IntVar(&f.maxBytes, "max-message-bytes", 1<<20, "largest accepted line")
	cmd.MarkFlagsOneRequired("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	return cmd
}

func runCompute(cmd *cobra.Command, f computeFlags) error {
	// A batch run builds its state once and drops it at exit: collect
	// garbage less often (measured in docs/benchmarks.md).
	gcPercent(200)
	opts, err := computeOptions(f)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	var dlq io.Writer
	if f.deadLetter != "" {
		file, err := os.Create(f.deadLetter)
		if err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		defer file.Close()
		dlq = file
	}
	if f.clickhouse != "" {
		st, err := readStored(cmd.Context(), f.clickhouse)
		if err != nil {
			return err
		}
		out, err := compute.FromStore(cmd.Context(), st, opts.Profiles, opts.Query, opts.AsOf)
		if err != nil {
			return err
		}
		return compute.Write(cmd.OutOrStdout(), f.format, out, opts.Query.GroupBy)
	}
	mask, err := deadLetterHasher()
	if err != nil {
		return err
	}
	opts.OnReject = func(r compute.Reject) {
		fmt.Fprintf(stderr, "%s:%d: rejected: %v\n", r.File, r.Line, r.Err)
		if dlq != nil {
			raw := event.MaskCaller(r.Raw, mask)
			rec, _ := json.Marshal(map[string]any{"file": r.File, "line": r.Line, "reason": r.Reason, "error": r.Err.Error(), "raw": string(raw)})
			fmt.Fprintf(dlq, "%s\n", rec)
		}
	}
	out, err := compute.Run(cmd.Context(), opts)
	if err != nil {
		return err
	}
	return compute.Write(cmd.OutOrStdout(), f.format, out, opts.Query.GroupBy)
}

// readStored reads the aggregates a pipeline stored in the ClickHouse of dsn.
func readStored(ctx context.Context, dsn string) (*stored.Aggregates, error) {
	conn, db, err := chstore.OpenDSN(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return chstore.NewReader(conn, db).ReadStored(ctx)
}

func computeOptions(f computeFlags) (compute.Options, error) {
	o := compute.Options{Files: f.events, MaxBytes: f.maxBytes}
	if !contains(compute.Formats, f.format) {
		return o, fmt.Errorf("--format %q: want %s", f.format, strings.Join(compute.Formats, ", "))
	}
	set, err := f.profiles.load()
	if err != nil {
		return o, err
	}
	o.Profiles = set
	o.Query = indicator.Query{Window: f.window, GroupBy: []string{}}
	if strings.TrimSpace(f.groupBy) != "" {
		for _, d := range strings.Split(f.groupBy, ",") {
			o.Query.GroupBy = append(o.Query.GroupBy, strings.TrimSpace(d))
		}
	}
	if err := o.Query.Validate(); err != nil {
		return o, fmt.Errorf("--%w", err)
	}
	if f.asOf != "" {
		if o.AsOf, err = time.Parse(time.RFC3339Nano, f.asOf); err != nil {
			return o, fmt.Errorf("--as-of %q: want RFC 3339 with an offset", f.asOf)
		}
	}
	if f.calendar != "" {
		c, err := loadCalendar(f.calendar)
		if err != nil {
			return o, err
		}
		o.Calendar = append(o.Calendar, c)
	}
	return o, nil
}

func loadCalendar(path string) (profile.CalendarRules, error) {
	var c profile.CalendarRules
	file, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("--calendar: %w", err)
	}
	defer file.Close()
	dec := yaml.NewDecoder(file)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err != io.EOF {
		return c, fmt.Errorf("calendar %s: %w", path, err)
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// deadLetterHasher returns the keyed hash that replaces a caller in a
// dead-letter line: the deployment's key from the environment (as `run`
// reads it) when set, so that the hashes match the store's; otherwise a
// random key of this run, so that no number is written in clear.
func deadLetterHasher() (func(string) string, error) {
	key := []byte(os.Getenv(callerKeyEnv))
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	h, err := privacy.NewHasher(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", callerKeyEnv, err)
	}
	return h.Hash, nil
}

// callerKeyEnv holds the caller hash key (privacy.caller_hash_key.value).
const callerKeyEnv = "HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE"

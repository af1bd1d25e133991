package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/qa"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

func newQACmd() *cobra.Command {
	cmd := &cobra.Command{Use: "qa", Short: "Quality inspection (质检): the inspectors' sample"}
	cmd.AddCommand(newQASampleCmd())
	return cmd
}

type qaSampleFlags struct {
	events              []string
	clickhouse          string
	profiles            profileFlags
	from, to, seed, out string
	format              string
	perAgent, maxBytes  int
	minTalk             time.Duration
}

func newQASampleCmd() *cobra.Command {
	var f qaSampleFlags
	cmd := &cobra.Command{
		Use:   "sample (--events FILE ... | --clickhouse DSN) --from DAY --to DAY --seed S [--per-agent N]",
		Short: "Choose the calls inspectors score (抽检), reproducibly",
		Long: `The sampling rule of quality inspection (docs/spec/indicators.md): for each
agent (the call's first answering agent), the --per-agent calls offered from
--from to --to (days in the profile's time zone, both included) with the
smallest HMAC-SHA-256 of their call id under --seed, among the calls that
ended after a talk of at least --min-talk; plus every call of the period
rated dissatisfied or very dissatisfied (差评必检). The same events and seed
give the same sample in any order, so an auditor can draw it again. One
row per call: centre, call id, agent, team, queue, offer time, talk
seconds and why (random, dissatisfied); never a caller number.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQASample(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.events, "events", nil, "NDJSON event file (repeatable; - for stdin)")
	fl.StringVar(&f.clickhouse, "clickhouse", "", "the calls stored by the pipeline (DSN clickhouse://user@host:9000/db)")
	f.profiles.register(fl)
	fl.StringVar(&f.from, "from", "", "first day, YYYY-MM-DD")
	fl.StringVar(&f.to, "to", "", "last day, YYYY-MM-DD")
	fl.StringVar(&f.seed, "seed", "", "the draw's seed: record it with the sample")
	fl.IntVar(&f.perAgent, "per-agent", 5, "calls per agent")
	fl.DurationVar(&f.minTalk, "min-talk", 30*time.Second, "least talk of a call to draw")
	fl.StringVar(&f.format, "format", "csv", "csv, xlsx or json")
	fl.StringVar(&f.out, "out", "-", "output file, - for stdout")
	fl.IntVar(&f.maxBytes, "max-message-bytes", 1<<20, "largest accepted line")
	cmd.MarkFlagsOneRequired("events", "clickhouse")
	cmd.MarkFlagsMutuallyExclusive("events", "clickhouse")
	for _, req := range []string{"from", "to", "seed"} {
		_ = cmd.MarkFlagRequired(req)
	}
	return cmd
}

func runQASample(cmd *cobra.Command, f qaSampleFlags) error {
	set, err := f.profiles.load()
	if err != nil {
		return err
	}
	loc := set.Default.Location()
	from, err1 := time.ParseInLocation(time.DateOnly, f.from, loc)
	to, err2 := time.ParseInLocation(time.DateOnly, f.to, loc)
	switch {
	case err1 != nil || err2 != nil:
		return fmt.Errorf("--from %q --to %q: want days YYYY-MM-DD", f.from, f.to)
	case to.Before(from):
		return errors.New("--to is before --from")
	case f.perAgent < 0:
		return fmt.Errorf("--per-agent %d: want ≥ 0", f.perAgent)
	case f.format != "csv" && f.format != "xlsx" && f.format != "json":
		return fmt.Errorf("--format %q: want csv, xlsx or json", f.format)
	case f.format == "xlsx" && f.out == "-":
		return errors.New("--format xlsx needs --out FILE")
	}
	rule := qa.Rule{From: from.UnixMilli(), To: to.AddDate(0, 0, 1).UnixMilli(), PerAgent: f.perAgent, MinTalk: f.minTalk, Seed: f.seed}
	var states []indicator.EntityState
	if f.clickhouse != "" {
		conn, db, err := chstore.OpenDSN(cmd.Context(), f.clickhouse)
		if err != nil {
			return err
		}
		defer conn.Close()
		if states, err = chstore.NewReader(conn, db).CallStates(cmd.Context(), rule.From, rule.To); err != nil {
			return err
		}
	} else {
		ps, err := indicator.NewProfiles(set)
		if err != nil {
			return err
		}
		eng := indicator.New(ps)
		eng.WithoutAggregates()
		eng.TrackChanges()
		stderr := cmd.ErrOrStderr()
		_, err = compute.Feed(cmd.Context(), eng, f.events, f.maxBytes, time.Time{}, nil, func(r compute.Reject) {
			fmt.Fprintf(stderr, "%s:%d: rejected: %v\n", r.File, r.Line, r.Err)
		})
		if err != nil {
			return err
		}
		eng.EachChange(func(s *indicator.EntityState) {
			if !s.Ticket {
				states = append(states, indicator.EntityState{CenterID: s.CenterID, ID: s.ID, Call: s.Call})
			}
		})
	}
	calls := make([]qa.Call, len(states))
	for i := range states {
		calls[i] = qa.CallOf(&states[i])
	}
	chosen := qa.Sample(calls, rule)
	w := cmd.OutOrStdout()
	if f.out != "-" {
		file, err := os.Create(f.out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if err := writeSample(w, f.format, chosen, loc); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d calls chosen of %d (seed %q, %s to %s, %d per agent)\n", len(chosen), len(calls), f.seed, f.from, f.to, f.perAgent)
	return nil
}

// sampleRow is a chosen call in JSON.
type sampleRow struct {
	Center      string  `json:"center_id"`
	Call        string  `json:"call_id"`
	Agent       string  `json:"agent_id"`
	Team        string  `json:"team"`
	Queue       string  `json:"queue"`
	OfferTime   string  `json:"offer_time"`
	TalkSeconds float64 `json:"talk_seconds"`
	Why         string  `json:"why"`
}

func writeSample(w io.Writer, format string, chosen []qa.Choice, loc *time.Location) error {
	rows := make([]sampleRow, len(chosen))
	for i, c := range chosen {
		rows[i] = sampleRow{Center: c.Center, Call: c.ID, Agent: c.Agent, Team: c.Team, Queue: c.Queue,
			OfferTime: compute.FormatTime(c.OfferTS, loc), TalkSeconds: float64(c.TalkMs) / 1000, Why: c.Why}
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rows)
	}
	why := map[string]string{qa.Random: "随机抽取", qa.Dissatisfied: "差评必检"}
	t := report.Table{Name: "质检抽检", Slug: "qa-sample",
		Headers: []string{"中心", "话单编号", "坐席工号", "班组", "队列", "进线时间", "通话时长(秒)", "抽取原因"},
		Widths:  []float64{10, 24, 12, 14, 12, 26, 12, 10}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []report.Cell{report.TextCell(r.Center), report.TextCell(r.Call), report.TextCell(r.Agent),
			report.TextCell(r.Team), report.TextCell(r.Queue), report.TextCell(r.OfferTime),
			report.ValueCell(r.TalkSeconds, report.Decimal1), report.TextCell(why[r.Why])})
	}
	if format == "xlsx" {
		return report.WriteWorkbook(w, []report.Table{t})
	}
	return report.WriteCSV(w, t)
}

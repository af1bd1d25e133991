package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/demo"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

func newDemoCmd() *cobra.Command {
	var (
		listen, prof, ch string
		speed            float64
		backfill, span   time.Duration
		centers          int
		seed             uint64
		verbose          bool
		webConfig        string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole loop on this machine, no outside services: simulator → Kafka → pipeline → status page",
		Long: `Start an in-process Kafka-protocol broker, the traffic simulator in accelerated
time, and the pipeline consuming through a kafka-go consumer group into the
indicator engine. Serves a status page (live indicators per centre against
their targets) and /metrics on loopback. Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := profile.Load(prof)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen %s: %w", listen, err)
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			return demo.Run(cmd.Context(), demo.Options{
				Listener: ln, Speed: speed, Backfill: backfill, Span: span, Centers: centers, Seed: seed,
				Profile: p, Out: cmd.OutOrStdout(), ClickHouse: ch, WebConfig: webConfig,
				Log: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})),
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:8080", "address of the status page and /metrics")
	fl.Float64Var(&speed, "speed", 60, "simulated seconds per second")
	fl.DurationVar(&backfill, "backfill", 2*time.Hour, "simulated time generated at once at the start")
	fl.DurationVar(&span, "span", 7*24*time.Hour, "simulated time in all")
	fl.IntVar(&centers, "centers", 2, "number of centres")
	fl.Uint64Var(&seed, "seed", 1, "random seed")
	fl.StringVar(&prof, "profile", profile.DefaultID, "profile file or built-in id")
	fl.BoolVar(&verbose, "verbose", false, "log the pipeline's progress")
	fl.StringVar(&ch, "clickhouse", "", "also store events and state in ClickHouse (DSN clickhouse://user@host:9000/db)")
	fl.StringVar(&webConfig, "web-config", "", "serve the status page and /metrics with TLS and basic auth (exporter-toolkit web configuration file)")
	return cmd
}

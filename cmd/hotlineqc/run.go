package main

import (
	"fmt"
	"net"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/config"
)

func newRunCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the production pipeline: Kafka consumer group → ClickHouse, /metrics",
		Long: `Run the production pipeline. Settings come from the YAML file, overridden by
environment variables HOTLINEQC_<SECTION>__<KEY> (for example
HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE). SIGTERM or Ctrl-C flushes the current
batch, commits its offsets and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFile(path)
			if err != nil {
				return err
			}
			// The stream holds every open call and ticket (a large, long-lived
			// heap) and turns each flush into garbage: collecting when the heap
			// has grown by 200 % instead of 100 % costs about a fifth of the
			// process's CPU less for about a fifth more memory (docs/
			// benchmarks.md); GOMEMLIMIT (the deployment sets the container's
			// limit) makes it collect sooner near the limit.
			gcPercent(200)
			log := app.NewLogger(cfg.Log)
			ln, err := net.Listen("tcp", cfg.HTTP.Listen)
			if err != nil {
				return fmt.Errorf("http.listen: %w", err)
			}
			return app.Run(cmd.Context(), cfg, ln, app.NewRegistry(), log)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// gcPercent sets the garbage collector's target (see runtime/debug) unless
// the environment's GOGC does: GOGC wins.
func gcPercent(p int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p)
	}
}

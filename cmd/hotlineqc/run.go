package main

import (
	"fmt"
	"net"

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

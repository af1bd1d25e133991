package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/dashboards"
)

func newDashboardsCmd() *cobra.Command {
	var (
		out      string
		database string
		profiles profileFlags
	)
	cmd := &cobra.Command{
		Use:   "dashboards [--profile FILE] [--out DIR]",
		Short: "Write the Grafana dashboards of a profile",
		Long: `Write the five Grafana dashboards (JSON) to <out>: 实时总览 (live indicators
against the profile's targets, 24 h rolling), 话务与坐席 (queues, waits,
abandonment, agents), 工单与承办单位 (departments, categories, due soon and
overdue lists), 月度考核 (department scores and ranking under the profile's
scoring rules) and 管道健康 (lag, dead letters, write latency, rebalances).
Live panels query Prometheus; history and the evaluation query ClickHouse
through the grafana-clickhouse-datasource plugin. deploy/grafana provisions
both data sources and these files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := profiles.load()
			if err != nil {
				return err
			}
			boards, err := dashboards.Build(set.Default, database)
			if err != nil {
				return err
			}
			if err := dashboards.Write(out, boards); err != nil {
				return err
			}
			for _, b := range boards {
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s\t%s\n", out, b.File, *b.Dashboard.Title)
			}
			return nil
		},
	}
	profiles.register(cmd.Flags())
	cmd.Flags().StringVar(&out, "out", "dashboards", "output directory")
	cmd.Flags().StringVar(&database, "database", chstore.DefaultConfig().Database, "ClickHouse database the dashboards read by default")
	return cmd
}

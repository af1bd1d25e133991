package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/rules"
)

func newRulesCmd() *cobra.Command {
	var prof, out string
	cmd := &cobra.Command{
		Use:   "rules --profile FILE",
		Short: "Write the Prometheus recording and alerting rules of a profile",
		Long: `Write <out>/<profile id>.rules.yml: burn-rate alerts (a fast and a slow pair
of windows, a minimum call volume, business hours if the profile asks) on
the profile's call-rate targets, ticket alerts (overdue, due soon, dispatch
backlog) and pipeline alerts (down, consumer lag, dead letters, ClickHouse
write failures, no data), annotated in Chinese with a runbook line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := profile.Load(prof)
			if err != nil {
				return err
			}
			b, err := rules.Generate(p)
			if err != nil {
				return err
			}
			path := filepath.Join(out, p.ID+".rules.yml")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&prof, "profile", profile.DefaultID, "profile file or built-in id")
	cmd.Flags().StringVar(&out, "out", "deploy/prometheus", "output directory")
	return cmd
}

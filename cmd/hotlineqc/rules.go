package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/rules"
)

func newRulesCmd() *cobra.Command {
	var (
		out      string
		k8s      string
		profiles profileFlags
	)
	cmd := &cobra.Command{
		Use:   "rules --profile FILE [--profile-for CENTER=FILE ...]",
		Short: "Write the Prometheus recording and alerting rules of a profile",
		Long: `Write <out>/<profile id>.rules.yml: burn-rate alerts (a fast and a slow pair
of windows, a minimum call volume, business hours if the profile asks) on
the profile's call-rate targets, ticket alerts (overdue, due soon, dispatch
backlog) and pipeline alerts (down, consumer lag, dead letters, ClickHouse
write failures, Kafka unreachable, no data), annotated in Chinese with a runbook line. With
--profile-for, each profile's rules select its centres and its alerts carry
a profile label.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := profiles.load()
			if err != nil {
				return err
			}
			p := set.Default
			b, err := rules.Generate(set)
			if err != nil {
				return err
			}
			path := filepath.Join(out, p.ID+".rules.yml")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			if k8s == "" {
				return nil
			}
			if b, err = rules.PrometheusRule(set); err != nil {
				return err
			}
			if err := os.WriteFile(k8s, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), k8s)
			return nil
		},
	}
	profiles.register(cmd.Flags())
	cmd.Flags().StringVar(&out, "out", "deploy/prometheus", "output directory")
	cmd.Flags().StringVar(&k8s, "prometheus-rule", "", "also write the rules as a Kubernetes PrometheusRule (prometheus-operator) to this file, e.g. deploy/k8s/prometheusrule.yaml")
	return cmd
}

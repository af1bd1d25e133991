package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "hotlineqc",
		Short: "Quality monitoring for government service hotlines (12345): indicators, SLAs, monthly evaluation",
		Long: `hotlineqc reads call and ticket events from Kafka, computes the service-quality
indicators of GB/T 33358-2016 and local rules, and writes them to ClickHouse
and Prometheus.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCmd(), newRunCmd(), newMigrateCmd(), newComputeCmd(), newSimulateCmd(), newExportCmd(), newRulesCmd(), newDashboardsCmd(), newHealthCmd(), newAuditCmd(), newVerifyCmd(), newAssessCmd(), newImportCmd(), newStaffingCmd(), newQACmd(), newHotspotsCmd())
	return root
}

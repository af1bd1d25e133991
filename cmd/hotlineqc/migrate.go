package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
)

func newMigrateCmd() *cobra.Command {
	var path, printFor string
	cmd := &cobra.Command{
		Use:   "migrate --config FILE",
		Short: "Create or upgrade the ClickHouse schema",
		Long: `Create the database and apply every schema migration not yet applied. It is
idempotent. The schema adapts to the server: ClickHouse 18.16 gets the base
schema, 20.3 and later also LowCardinality, codecs and TTL.

--print VERSION prints the DDL for a server version without connecting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFile(path)
			if err != nil {
				return err
			}
			if printFor != "" {
				return printDDL(cmd, cfg.ClickHouse, printFor)
			}
			conn, err := chstore.Open(cmd.Context(), cfg.ClickHouse)
			if err != nil {
				return err
			}
			defer conn.Close()
			rep, err := chstore.Migrate(cmd.Context(), conn, cfg.ClickHouse, app.NewLogger(cfg.Log))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ClickHouse %s, features %+v: database %s at schema version %d (applied now: %v)\n",
				rep.Server, rep.Features, cfg.ClickHouse.Database, rep.Current, rep.Applied)
			for _, s := range rep.Upgraded {
				fmt.Fprintf(cmd.OutOrStdout(), "upgraded: %s\n", s)
			}
			for _, t := range rep.Coarse {
				fmt.Fprintf(cmd.OutOrStdout(), "to rebuild: %s.%s has a coarser index granularity than %d rows (created before it was set): "+
					"reading a call or ticket back reads more than needed; docs/deploy.md (upgrading) says how to rebuild it\n",
					cfg.ClickHouse.Database, t, chstore.RawGranularity)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML); the clickhouse section is used")
	cmd.Flags().StringVar(&printFor, "print", "", "print the DDL for this server version (e.g. 18.16, 24.8 or 26.9.2.1 as the server reports it) and exit")
	return cmd
}

func printDDL(cmd *cobra.Command, c chstore.Config, v string) error {
	ver, err := chstore.ParseVersion(v)
	if err != nil {
		return fmt.Errorf("--print: %w (such as 18.16, 24.8.4 or 26.9.2.1)", err)
	}
	f := chstore.FeaturesOf(ver)
	for _, m := range chstore.Migrations {
		fmt.Fprintf(cmd.OutOrStdout(), "-- migration %d: %s (server %s, %+v)\n", m.Version, m.Name, ver, f)
		for _, s := range m.Statements(c, f) {
			fmt.Fprintf(cmd.OutOrStdout(), "%s;\n\n", s)
		}
	}
	return nil
}

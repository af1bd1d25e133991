package chstore

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// LatestVersion is the schema version this build writes to.
func LatestVersion() int { return Migrations[len(Migrations)-1].Version }

// CheckSchema returns an error unless every migration of this build has
// been applied, telling the operator to run `hotlineqc migrate`.
func CheckSchema(ctx context.Context, conn driver.Conn, c Config) error {
	done, err := appliedVersions(ctx, conn, c.Database)
	if err != nil {
		return fmt.Errorf("schema of database %s not found (run `hotlineqc migrate` first): %w", c.Database, err)
	}
	for _, m := range Migrations {
		if !done[m.Version] {
			return fmt.Errorf("schema of database %s lacks migration %d (%s): run `hotlineqc migrate` first", c.Database, m.Version, m.Name)
		}
	}
	return nil
}

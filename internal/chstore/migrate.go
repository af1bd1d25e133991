package chstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// MigrationReport says what Migrate found and did.
type MigrationReport struct {
	Server   Version
	Features Features
	Applied  []int // versions applied by this run
	Current  int   // highest version now in place
	// Upgraded are the ALTER statements that brought existing tables up
	// to the catalogue's indicator codes, the server's features and the
	// configured retention.
	Upgraded []string
	// Coarse are the raw tables created with a coarser index granularity
	// than RawGranularity (before it was set: ClickHouse's 8,192). A
	// table's granularity is fixed at its creation; they work as before,
	// reading more to read an entity back, until rebuilt (docs/deploy.md).
	Coarse []string
}

// ServerVersion asks the connected server for its version.
func ServerVersion(conn driver.Conn) (Version, error) {
	sv, err := conn.ServerVersion()
	if err != nil {
		return Version{}, fmt.Errorf("clickhouse server version: %w", err)
	}
	return Version{sv.Version.Major, sv.Version.Minor, sv.Version.Patch}, nil
}

// Migrate creates the database and applies every migration not yet
// recorded in its schema_migrations table. It is idempotent and safe to run
// from several processes at once.
func Migrate(ctx context.Context, conn driver.Conn, c Config, log *slog.Logger) (MigrationReport, error) {
	var rep MigrationReport
	v, err := ServerVersion(conn)
	if err != nil {
		return rep, err
	}
	rep.Server, rep.Features = v, FeaturesOf(v)
	d := ddl{db: c.Database, cluster: c.Cluster}
	if err := exec(ctx, conn, "CREATE DATABASE IF NOT EXISTS "+c.Database+d.onCluster()); err != nil {
		return rep, err
	}
	if err := exec(ctx, conn, migrationsTable(d)); err != nil {
		return rep, err
	}
	done, err := appliedVersions(ctx, conn, c.Database)
	if err != nil {
		return rep, err
	}
	for _, m := range Migrations {
		if !done[m.Version] {
			if err := apply(ctx, conn, c, rep, m); err != nil {
				return rep, err
			}
			rep.Applied = append(rep.Applied, m.Version)
			log.Info("applied migration", "version", m.Version, "name", m.Name, "server", v.String())
		}
		rep.Current = m.Version
	}
	// The contributions' indicators are codes covering the catalogue
	// (codes.go), on every server.
	if rep.Upgraded, err = codeIndicators(ctx, conn, c); err != nil {
		return rep, err
	}
	// Tables created under an older server or another retention are
	// brought up to this server's features and the configured retention.
	upgraded, err := upgrade(ctx, conn, c, rep.Features)
	if err != nil {
		return rep, err
	}
	rep.Upgraded = append(rep.Upgraded, upgraded...)
	for _, s := range rep.Upgraded {
		log.Info("upgraded table", "statement", s)
	}
	if rep.Coarse, err = coarseRaw(ctx, conn, c); err != nil {
		return rep, err
	}
	for _, t := range rep.Coarse {
		log.Warn("raw table with a coarse index granularity: read-backs read more than needed; rebuild it (docs/deploy.md, upgrading)",
			"table", t, "want", RawGranularity)
	}
	return rep, nil
}

var granularityRe = regexp.MustCompile(`index_granularity = (\d+)`)

// coarseRaw returns the raw tables (on a cluster, their local tables)
// whose index granularity is coarser than RawGranularity.
func coarseRaw(ctx context.Context, conn driver.Conn, c Config) ([]string, error) {
	suffix := ""
	if c.Cluster != "" {
		suffix = "_local"
	}
	var names []string
	for _, t := range []string{RawCallTable, RawTicketTable, RawAgentTable} {
		names = append(names, t+suffix)
	}
	rows, err := conn.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = ? AND name IN ? ORDER BY name", c.Database, set(names))
	if err != nil {
		return nil, fmt.Errorf("read system.tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, full string
		if err := rows.Scan(&name, &full); err != nil {
			return nil, err
		}
		g := 8192 // ClickHouse's default, when the server does not show it
		if m := granularityRe.FindStringSubmatch(full); m != nil {
			g, _ = strconv.Atoi(m[1])
		}
		if g > RawGranularity {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}

// migrationsTable records applied migrations; on a cluster every node holds
// a replica of it.
func migrationsTable(d ddl) string {
	engine := "ReplacingMergeTree(applied_at)"
	if d.cluster != "" {
		engine = fmt.Sprintf("ReplicatedReplacingMergeTree('/clickhouse/tables/all/%s/schema_migrations', '{replica}', applied_at)", d.db)
	}
	return "CREATE TABLE IF NOT EXISTS " + d.db + ".schema_migrations" + d.onCluster() + ` (
    version UInt32,
    name String,
    server_version String,
    features String,
    applied_at DateTime
) ENGINE = ` + engine + ` ORDER BY version`
}

func appliedVersions(ctx context.Context, conn driver.Conn, db string) (map[int]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM "+db+".schema_migrations FINAL")
	if err != nil {
		return nil, fmt.Errorf("read %s.schema_migrations: %w", db, err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("scan schema_migrations: %w", err)
		}
		done[int(v)] = true
	}
	return done, rows.Err()
}

func apply(ctx context.Context, conn driver.Conn, c Config, rep MigrationReport, m Migration) error {
	for _, stmt := range m.Statements(c, rep.Features) {
		if err := exec(ctx, conn, stmt); err != nil && !columnExists(stmt, err) {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	// 18.16 cannot take INSERT ... VALUES with bound arguments over the
	// native protocol; a one-row batch works everywhere.
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+c.Database+".schema_migrations (version, name, server_version, features, applied_at)")
	if err == nil {
		defer b.Abort()
		err = b.Append(uint32(m.Version), m.Name, rep.Server.String(), fmt.Sprintf("%+v", rep.Features), time.Now())
	}
	if err == nil {
		err = b.Send()
	}
	if err != nil {
		return fmt.Errorf("record migration %d: %w", m.Version, err)
	}
	return nil
}

// columnExists reports whether err is an ADD COLUMN of a column that is
// there already (code 44; on a cluster, in the text of the DDL error).
func columnExists(stmt string, err error) bool {
	if !strings.Contains(stmt, " ADD COLUMN ") {
		return false
	}
	var ex *clickhouse.Exception
	return (errors.As(err, &ex) && ex.Code == 44) || strings.Contains(err.Error(), "column with this name already exists")
}

func exec(ctx context.Context, conn driver.Conn, stmt string) error {
	if err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("clickhouse: %w\nstatement: %s", err, stmt)
	}
	return nil
}

package chstore

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ColumnState is a column as the server has it (system.columns).
type ColumnState struct {
	Table, Name, Type, Codec string
}

// wantColumn is a column as the schema wants it on a server's features.
type wantColumn struct{ typ, codec string }

var (
	createRe = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS [^.]+\.(\w+) \(\n    (.*)\n\) ENGINE`)
	addRe    = regexp.MustCompile(`^ALTER TABLE [^.]+\.(\w+) ADD COLUMN (.*) AFTER \w+$`)
	ttlRe    = regexp.MustCompile(`\nTTL ([^\n]*)`)
	daysRe   = regexp.MustCompile(`INTERVAL (\d+) DAY`)
)

// parseColumn splits a column definition: name, type, codec (a DEFAULT
// clause belongs to neither).
func parseColumn(def string) (name string, w wantColumn) {
	name, rest, _ := strings.Cut(def, " ")
	if i := strings.Index(rest, " CODEC("); i >= 0 {
		rest, w.codec = rest[:i], rest[i+1:]
	}
	if i := strings.Index(rest, " DEFAULT "); i >= 0 {
		rest = rest[:i]
	}
	w.typ = rest
	return name, w
}

// wanted returns, by table, the columns the schema gives a new server with
// features f, and the TTL clauses of the tables that have one.
func wanted(c Config, f Features) (map[string]map[string]wantColumn, map[string]string) {
	cols := map[string]map[string]wantColumn{}
	ttls := map[string]string{}
	for _, m := range Migrations {
		for _, s := range m.Statements(c, f) {
			if mm := createRe.FindStringSubmatch(s); mm != nil {
				t := map[string]wantColumn{}
				for _, def := range strings.Split(mm[2], ",\n    ") {
					n, w := parseColumn(def)
					t[n] = w
				}
				cols[mm[1]] = t
				if tm := ttlRe.FindStringSubmatch(s); tm != nil {
					ttls[mm[1]] = tm[1]
				}
			}
			if mm := addRe.FindStringSubmatch(s); mm != nil && cols[mm[1]] != nil {
				n, w := parseColumn(mm[2])
				cols[mm[1]][n] = w
			}
		}
	}
	return cols, ttls
}

// UpgradeStatements returns the ALTER statements that bring tables created
// for an older server (or with another raw_retention_days) up to features
// f and c's retention: String dimensions become LowCardinality(String),
// columns get their codecs, and the raw tables' TTL is set, changed or
// removed. have are the tables' columns, engineFull each table's
// engine_full (system.tables), where the server shows its TTL. Applying
// them and asking again returns nothing.
func UpgradeStatements(c Config, f Features, have []ColumnState, engineFull map[string]string) []string {
	want, ttls := wanted(c, f)
	var out []string
	for _, h := range have {
		w, ok := want[h.Table][h.Name]
		if !ok {
			continue
		}
		lc := w.typ == "LowCardinality("+h.Type+")"
		if !lc && w.typ != h.Type {
			continue // not a change this knows how to make
		}
		if lc || (w.codec != "" && h.Codec == "") {
			def := w.typ
			if w.codec != "" {
				def += " " + w.codec
			}
			out = append(out, fmt.Sprintf("ALTER TABLE %s.%s MODIFY COLUMN %s %s", c.Database, h.Table, h.Name, def))
		}
	}
	if f.TTL {
		for _, t := range []string{RawCallTable, RawTicketTable} {
			full, ok := engineFull[t]
			if !ok {
				continue
			}
			has := strings.Contains(full, " TTL ")
			switch clause, wantTTL := ttls[t]; {
			case wantTTL && !sameTTL(full, clause):
				out = append(out, fmt.Sprintf("ALTER TABLE %s.%s MODIFY TTL %s", c.Database, t, clause))
			case !wantTTL && has:
				out = append(out, fmt.Sprintf("ALTER TABLE %s.%s REMOVE TTL", c.Database, t))
			}
		}
	}
	sort.Strings(out)
	return out
}

// sameTTL reports whether the server's engine_full already holds the TTL
// clause (the server writes INTERVAL n DAY as toIntervalDay(n)).
func sameTTL(full, clause string) bool {
	m := daysRe.FindStringSubmatch(clause)
	return m != nil && strings.Contains(full, " TTL ") && strings.Contains(full, "toIntervalDay("+m[1]+")")
}

// upgrade applies UpgradeStatements on a single server whose features
// allow them, and returns what it applied.
func upgrade(ctx context.Context, conn driver.Conn, c Config, f Features) ([]string, error) {
	if c.Cluster != "" || !(f.LowCardinality || f.Codecs || f.TTL) {
		return nil, nil // 18.16 has none of them; a cluster is upgraded by hand (docs/deploy.md)
	}
	var have []ColumnState
	rows, err := conn.Query(ctx, "SELECT table, name, type, compression_codec FROM system.columns WHERE database = ?", c.Database)
	if err != nil {
		return nil, fmt.Errorf("read system.columns: %w", err)
	}
	for rows.Next() {
		var s ColumnState
		if err := rows.Scan(&s.Table, &s.Name, &s.Type, &s.Codec); err != nil {
			rows.Close()
			return nil, err
		}
		have = append(have, s)
	}
	rows.Close()
	full := map[string]string{}
	rows, err = conn.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = ?", c.Database)
	if err != nil {
		return nil, fmt.Errorf("read system.tables: %w", err)
	}
	for rows.Next() {
		var n, e string
		if err := rows.Scan(&n, &e); err != nil {
			rows.Close()
			return nil, err
		}
		full[n] = e
	}
	rows.Close()
	stmts := UpgradeStatements(c, f, have, full)
	for _, s := range stmts {
		if err := exec(ctx, conn, s); err != nil {
			return nil, fmt.Errorf("upgrade: %w", err)
		}
	}
	return stmts, nil
}

package chstore

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// The contributions' indicator (c_ind of the state tables and of
// contrib_days) is stored as a code: an Enum16 whose names are the
// catalogue's indicator ids. A state row carries one per contribution, so
// as strings the names were an eighth of everything written (150 MB of
// 1.2 GB per 2 M events), sent, compressed and merged again and again; as
// codes they are two bytes each, and every query still reads and compares
// them as names (ind = 'calls_answered', GROUP BY ind, scans into string).
//
// A code, once given to a name, never changes: ClickHouse keeps the codes
// and reads them through the column's type, so renumbering would rename
// stored contributions. The tables' own types are the registry: codeIndicators
// keeps every code they give, and gives each catalogue indicator they lack
// the next free code. Tables created with names as strings are converted
// (the names already stored keep theirs, by name).

// codedTables hold a contribution indicator column, c_ind (with their
// sharding expressions on a cluster).
var codedTables = []struct{ name, shardBy string }{
	{CallStateTable, "cityHash64(call_id)"}, {TicketStateTable, "cityHash64(ticket_id)"},
	{AgentStateTable, "cityHash64(agent_id)"}, {ContribDaysTable, "cityHash64(id)"},
}

var enumPairRe = regexp.MustCompile(`'((?:[^'\\]|\\.)*)' = (-?\d+)`)

// parseEnum returns the codes of an Enum8/Enum16 type (or of an array of
// one) as the server shows it.
func parseEnum(typ string) map[string]int16 {
	out := map[string]int16{}
	for _, m := range enumPairRe.FindAllStringSubmatch(typ, -1) {
		code, err := strconv.ParseInt(m[2], 10, 16)
		if err == nil {
			out[strings.ReplaceAll(m[1], `\'`, `'`)] = int16(code)
		}
	}
	return out
}

// indicatorCodes returns the codes to give: those of have (kept), then
// each of names not among them, in order, the next free code.
func indicatorCodes(have map[string]int16, names []string) (map[string]int16, error) {
	out := maps.Clone(have)
	next := int16(1)
	for _, c := range out {
		next = max(next, c+1)
	}
	for _, n := range names {
		if _, ok := out[n]; ok {
			continue
		}
		if next == 32767 {
			return nil, fmt.Errorf("indicator codes: no Enum16 code left for %q", n)
		}
		out[n] = next
		next++
	}
	return out, nil
}

// enumType renders codes as Array(Enum16(...)), by code.
func enumType(codes map[string]int16) string {
	names := slices.SortedFunc(maps.Keys(codes), func(a, b string) int { return int(codes[a]) - int(codes[b]) })
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("'%s' = %d", strings.ReplaceAll(n, `'`, `\'`), codes[n])
	}
	return "Array(Enum16(" + strings.Join(parts, ", ") + "))"
}

// codeIndicators makes each table's c_ind an Enum16 holding every
// catalogue indicator, every code already given and every name already
// stored, and returns the statements it applied. On a cluster the local
// tables are read and altered, and the Distributed tables created again
// over them (see alter).
func codeIndicators(ctx context.Context, conn driver.Conn, c Config) ([]string, error) {
	d := ddl{db: c.Database, cluster: c.Cluster}
	local := func(t string) string {
		if c.Cluster != "" {
			return t + "_local"
		}
		return t
	}
	types := map[string]string{}
	for _, ct := range codedTables {
		t := ct.name
		var typ string
		err := conn.QueryRow(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = 'c_ind'",
			c.Database, local(t)).Scan(&typ)
		if err != nil {
			return nil, fmt.Errorf("read the type of %s.c_ind: %w", local(t), err)
		}
		types[t] = typ
	}
	have := map[string]int16{}
	var stored []string // names stored as strings, in no table's codes yet
	for _, ct := range codedTables {
		t := ct.name
		if types[t] == "Array(String)" {
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT DISTINCT arrayJoin(c_ind) AS i FROM %s.%s ORDER BY i", c.Database, t))
			if err != nil {
				return nil, fmt.Errorf("read the indicators stored in %s: %w", t, err)
			}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					rows.Close()
					return nil, err
				}
				stored = append(stored, n)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			continue
		}
		for n, code := range parseEnum(types[t]) {
			if prev, ok := have[n]; ok && prev != code {
				return nil, fmt.Errorf("indicator codes: %q is %d in one table and %d in %s; align them by hand before starting", n, prev, code, t)
			}
			have[n] = code
		}
	}
	var names []string
	for _, ind := range indicator.Catalogue() {
		names = append(names, ind.ID)
	}
	codes, err := indicatorCodes(have, append(names, stored...))
	if err != nil {
		return nil, err
	}
	want := enumType(codes)
	var applied []string
	for _, ct := range codedTables {
		t := ct.name
		if types[t] != "Array(String)" && maps.Equal(parseEnum(types[t]), codes) {
			continue
		}
		for _, s := range d.alter(t, ct.shardBy, "MODIFY COLUMN c_ind "+want) {
			if err := exec(ctx, conn, s); err != nil {
				return applied, fmt.Errorf("code the indicators of %s: %w", t, err)
			}
			applied = append(applied, s)
		}
	}
	return applied, nil
}

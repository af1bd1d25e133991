package chstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// A database created under ClickHouse 18.16 (no LowCardinality, codecs or
// TTL) and then served by ClickHouse 26.9 (chdb) is brought up to the
// modern schema by the upgrade statements, its rows kept; a retention set
// later takes effect, a changed one is changed, a removed one removed; and
// once up to date, nothing more is asked.
func TestUpgradeOnModernClickHouse(t *testing.T) {
	ch := testenv.StartChdb(t)
	cfg := chstore.DefaultConfig()
	cfg.Database = "up"
	old := []string{"CREATE DATABASE up"}
	for _, m := range chstore.Migrations {
		old = append(old, m.Statements(cfg, chstore.FeaturesOf(chstore.Version{Major: 18, Minor: 16}))...)
	}
	old = append(old, `INSERT INTO up.raw_call_events (event_id, type, ts, ts_ms, center_id, call_id, queue) VALUES ('e1', 'call.queued', now(), 1, 'c1', 'k1', 'general')`)
	for i, r := range ch.Run(t, old...) {
		if r.Error != "" {
			t.Fatalf("%s: %s", old[i], r.Error)
		}
	}
	modern := chstore.FeaturesOf(chstore.Version{Major: 26, Minor: 9})
	state := func() ([]chstore.ColumnState, map[string]string) {
		res := ch.Run(t, "SELECT table, name, type, compression_codec FROM system.columns WHERE database = 'up'",
			"SELECT name, engine_full FROM system.tables WHERE database = 'up'")
		var cols []chstore.ColumnState
		for _, row := range res[0].Data {
			cols = append(cols, chstore.ColumnState{Table: row[0].(string), Name: row[1].(string), Type: row[2].(string), Codec: row[3].(string)})
		}
		full := map[string]string{}
		for _, row := range res[1].Data {
			full[row[0].(string)] = row[1].(string)
		}
		return cols, full
	}
	apply := func(stmts []string) {
		t.Helper()
		for i, r := range ch.Run(t, stmts...) {
			if r.Error != "" {
				t.Fatalf("%s: %s", stmts[i], r.Error)
			}
		}
	}

	cfg.RawRetentionDays = 400
	cols, full := state()
	stmts := chstore.UpgradeStatements(cfg, modern, cols, full)
	if len(stmts) < 10 {
		t.Fatalf("%d upgrade statements, want the dimensions, codecs and TTL: %v", len(stmts), stmts)
	}
	apply(stmts)
	cols, full = state()
	types := map[string]string{}
	for _, c := range cols {
		types[c.Table+"."+c.Name] = c.Type + " " + c.Codec
	}
	for col, want := range map[string]string{
		"raw_call_events.center_id": "LowCardinality(String) ",
		"raw_call_events.ts":        "DateTime('Asia/Shanghai') CODEC(Delta(4), ZSTD(1))",
		"call_state.queue":          "LowCardinality(String) ",
		"call_state.team":           "LowCardinality(String) ",
		"ticket_state.category":     "LowCardinality(String) ",
	} {
		if types[col] != want {
			t.Errorf("%s is %q after the upgrade, want %q", col, types[col], want)
		}
	}
	if !strings.Contains(full["raw_call_events"], "toIntervalDay(400)") {
		t.Errorf("no 400-day TTL after the upgrade: %s", full["raw_call_events"])
	}
	if again := chstore.UpgradeStatements(cfg, modern, cols, full); len(again) != 0 {
		t.Errorf("up to date, yet asked again: %v", again)
	}
	if n := ch.Run(t, "SELECT count() FROM up.raw_call_events")[0].Data[0][0]; fmt.Sprint(n) != "1" {
		t.Errorf("%v rows after the upgrade, want 1", n)
	}

	for _, days := range []int{30, 0} {
		cfg.RawRetentionDays = days
		stmts := chstore.UpgradeStatements(cfg, modern, cols, full)
		if len(stmts) != 2 {
			t.Fatalf("retention %d: %v, want one statement per raw table", days, stmts)
		}
		apply(stmts)
		cols, full = state()
		switch has := strings.Contains(full["raw_ticket_events"], " TTL "); {
		case days > 0 && !strings.Contains(full["raw_ticket_events"], fmt.Sprintf("toIntervalDay(%d)", days)):
			t.Errorf("retention %d not in effect: %s", days, full["raw_ticket_events"])
		case days == 0 && has:
			t.Errorf("retention removed, TTL still there: %s", full["raw_ticket_events"])
		}
	}
}

package chstore_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// A code once given never changes: new names take the next free codes.
func TestIndicatorCodesKeepTheirs(t *testing.T) {
	got, err := chstore.IndicatorCodes(map[string]int16{"b": 1, "a": 7}, []string{"a", "c", "b", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int16{"b": 1, "a": 7, "c": 8, "d": 9}; !maps.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	if got := chstore.ParseEnum(`Array(Enum16('x' = 1, 'it\'s' = -3))`); !maps.Equal(got, map[string]int16{"x": 1, "it's": -3}) {
		t.Errorf("parsed %v", got)
	}
}

// On the real server: the contributions' indicators are an Enum16 of the
// whole catalogue in every table; a table that still holds them as
// strings (an older schema) is converted, each stored name kept, one no
// longer in the catalogue too, and the codes already given stay as they
// are when the catalogue grows.
func TestContributionsStoredAsIndicatorCodes(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	codes := func(table string) map[string]int16 {
		t.Helper()
		var typ string
		if err := conn.QueryRow(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = 'c_ind'",
			cfg.Database, table).Scan(&typ); err != nil {
			t.Fatal(err)
		}
		return chstore.ParseEnum(typ)
	}
	first := codes(chstore.CallStateTable)
	for _, ind := range indicator.Catalogue() {
		if first[ind.ID] == 0 {
			t.Errorf("%s has no code", ind.ID)
		}
	}
	for _, table := range []string{chstore.TicketStateTable, chstore.AgentStateTable, chstore.ContribDaysTable} {
		if got := codes(table); !maps.Equal(got, first) {
			t.Errorf("%s codes %v, want those of call_state %v", table, got, first)
		}
	}

	// an older schema: names as strings, one of them retired
	if err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s MODIFY COLUMN c_ind Array(String)", cfg.Database, chstore.CallStateTable)); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.%s (center_id, call_id, version, c_ind, c_bucket, c_num, c_den)
		SELECT 'c1', 'k1', 1, ['calls_answered', 'retired_rate'], [toDateTime(1790000000), toDateTime(1790000000)], [1, 2], [0, 3]`,
		cfg.Database, chstore.CallStateTable)); err != nil {
		t.Fatal(err)
	}
	rep, err := chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Upgraded) == 0 {
		t.Error("Migrate converted nothing")
	}
	now := codes(chstore.CallStateTable)
	for n, c := range first {
		if now[n] != c {
			t.Errorf("%s was %d, now %d", n, c, now[n])
		}
	}
	if now["retired_rate"] <= slices.Max(slices.Collect(maps.Values(first))) {
		t.Errorf("the stored retired_rate got code %d, want a new one", now["retired_rate"])
	}
	for _, table := range []string{chstore.TicketStateTable, chstore.AgentStateTable, chstore.ContribDaysTable} {
		if got := codes(table); !maps.Equal(got, now) {
			t.Errorf("%s codes %v, want %v", table, got, now)
		}
	}
	var inds []string
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT c_ind FROM %s.%s FINAL WHERE call_id = 'k1'", cfg.Database, chstore.CallStateTable)).Scan(&inds); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inds, []string{"calls_answered", "retired_rate"}) {
		t.Errorf("stored names read back as %v", inds)
	}
	if rep, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil || len(rep.Upgraded) != 0 {
		t.Errorf("Migrate again: %v, %v", rep.Upgraded, err)
	}
}

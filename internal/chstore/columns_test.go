package chstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// One inserter serves insert after insert, each under its own context
// (ended once the insert is over, as the writer's are): every block is
// stored once, none repeats an earlier one, a failed insert says why, and
// the next one, on a new batch, works.
func TestInserterReusesItsBatchAcrossInserts(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	table := cfg.Database + ".blocks"
	create := func() {
		t.Helper()
		for _, q := range []string{"CREATE DATABASE IF NOT EXISTS " + cfg.Database,
			"CREATE TABLE " + table + " (k String, n Int64, xs Array(Int64)) ENGINE = MergeTree ORDER BY k"} {
			if err := conn.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	create()
	in := chstore.NewInserter(conn, cfg.Database, "blocks", "k, n, xs")
	insert := func(ks []string, n []int64, xs [][]int64) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return in.Insert(ctx, ks, n, xs)
	}
	rows := func() []string {
		t.Helper()
		r, err := conn.Query(ctx, "SELECT k, n, xs FROM "+table+" ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var k string
			var n int64
			var xs []int64
			if err := r.Scan(&k, &n, &xs); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s%d%v", k, n, xs))
		}
		return out
	}
	for i, block := range [][]string{{"a", "b", "c"}, {"d", "e"}, {"f"}} {
		n := make([]int64, len(block))
		xs := make([][]int64, len(block))
		for j := range block {
			n[j] = int64(10*i + j)
			xs[j] = slices.Repeat([]int64{int64(i)}, j+1)
		}
		if err := insert(block, n, xs); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	want := []string{"a0[0]", "b1[0 0]", "c2[0 0 0]", "d10[1]", "e11[1 1]", "f20[2]"}
	if got := rows(); !slices.Equal(got, want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}

	// A table gone: the error names it; once it is back, inserts work again.
	if err := conn.Exec(ctx, "DROP TABLE "+table); err != nil {
		t.Fatal(err)
	}
	if err := insert([]string{"y"}, []int64{2}, [][]int64{{2}}); err == nil {
		t.Error("insert into a dropped table succeeded")
	} else {
		t.Logf("dropped table: %v", err)
	}
	create()
	if err := insert([]string{"z"}, []int64{3}, [][]int64{{3, 3}}); err != nil {
		t.Fatalf("insert after the table came back: %v", err)
	}
	// An insert under an ended context fails and stores nothing; the next
	// one works.
	ended, end := context.WithCancel(ctx)
	end()
	if err := in.Insert(ended, []string{"x"}, []int64{1}, [][]int64{{1}}); err == nil {
		t.Error("insert under an ended context succeeded")
	}
	if err := insert([]string{"zz"}, []int64{4}, [][]int64{{}}); err != nil {
		t.Fatalf("insert after an ended context: %v", err)
	}
	if got, want := rows(), []string{"z3[3 3]", "zz4[]"}; !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	// A column list that does not match is refused before anything is sent.
	if err := in.Insert(ctx, []string{"w"}); err == nil {
		t.Error("one column for three accepted")
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// A store loaded without `hotlineqc run` (events and states written as the
// pipeline writes them) is sealed by one `verify --seal` on the real
// ClickHouse: with --settle 0s (no pipeline runs) every day at once, and
// the verification that follows finds each day ok. With the default settle
// and no time to wait, it seals nothing and says which days wait and why.
func TestVerifySealsAQuietStoreInOneCall(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	store(t, cfg, golden+"tickets_lifecycle/events.ndjson")
	dsn := fmt.Sprintf("clickhouse://%s/%s", cfg.Addr[0], cfg.Database)

	_, stderr, err := runCLI(t, "verify", "--clickhouse", dsn, "--seal", "--wait", "0s")
	if err != nil || !strings.Contains(stderr, "sealed 0 day versions") || !strings.Contains(stderr, "events still arriving") {
		t.Fatalf("default settle, no wait: %v\n%s", err, stderr)
	}
	start := time.Now()
	out, stderr, err := runCLI(t, "verify", "--clickhouse", dsn, "--seal", "--settle", "0s")
	if err != nil {
		t.Fatalf("verify --seal --settle 0s: %v\n%s%s", err, stderr, out)
	}
	m := regexp.MustCompile(`sealed (\d+) day versions`).FindStringSubmatch(stderr)
	if m == nil || m[1] == "0" {
		t.Fatalf("nothing sealed in one call:\n%s", stderr)
	}
	t.Logf("one call sealed %s days in %s:\n%s", m[1], time.Since(start).Round(time.Millisecond), stderr)
	if strings.Contains(out, "尚未封存") || strings.Contains(out, "unsealed") {
		t.Errorf("days left unsealed:\n%s", out)
	}
}

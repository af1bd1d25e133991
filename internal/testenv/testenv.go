// Package testenv connects integration tests to the real services started
// by deploy/dev/services.sh. A missing service skips the test on a
// developer's machine and fails it when CI=true: in CI it never skips.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
)

// Env variables that point tests at other service addresses.
const (
	KafkaEnv      = "HOTLINEQC_TEST_KAFKA"
	ClickHouseEnv = "HOTLINEQC_TEST_CLICKHOUSE"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// missing stops the test because a service is not there: fail in CI, skip
// elsewhere, and say how to start it either way.
func missing(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s unavailable (%v); start it with deploy/dev/services.sh up", what, err)
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func addr(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

// dial reports whether a accepts a connection now.
func dial(a string) error {
	c, err := net.DialTimeout("tcp", a, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// unreachable holds the services found unreachable: the next test fails
// or skips at once instead of waiting again.
var unreachable sync.Map

// reachable reports whether the service at a is there, dialling it for up
// to 20 s: a server that runs but is slow to accept (a loaded machine, a
// burst of connections from the test packages running at once) is there;
// only a server that never answers is missing.
func reachable(a string) error {
	if err, ok := unreachable.Load(a); ok {
		return err.(error)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := dial(a)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			unreachable.Store(a, err)
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Kafka returns the address of the real Kafka broker.
func Kafka(t testing.TB) string {
	t.Helper()
	a := addr(KafkaEnv, "127.0.0.1:9092")
	if err := reachable(a); err != nil {
		missing(t, "Kafka at "+a, err)
	}
	return a
}

// ClickHouse returns a connection to the real ClickHouse server and a
// configuration naming a fresh database of the test's own, dropped when the
// test ends.
func ClickHouse(t testing.TB) (driver.Conn, chstore.Config) {
	t.Helper()
	cfg := chstore.DefaultConfig()
	cfg.Addr = []string{addr(ClickHouseEnv, "127.0.0.1:9000")}
	if err := reachable(cfg.Addr[0]); err != nil {
		missing(t, "ClickHouse at "+cfg.Addr[0], err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("ClickHouse reachable but not usable: %v", err)
	}
	cfg.Database = UniqueName(t, "t")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database)
		conn.Close()
	})
	return conn, cfg
}

// Promtool returns the path of the real promtool.
func Promtool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		missing(t, "promtool", err)
	}
	return p
}

// UniqueName returns an identifier-safe name unique to this test run, for
// databases, topics and consumer groups.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("%s_%s_%d", prefix, n, time.Now().UnixNano()%1e12)
}

// Chromium returns the path of the headless browser.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium", fmt.Errorf("not on PATH"))
	return ""
}

// HeadlessArgs are the flags that keep Chromium from reaching for the
// network on these machines; userDir is a fresh profile directory.
func HeadlessArgs(userDir string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + userDir}
}

// Tool returns the path of a command-line tool the services script
// installs (amtool, ...).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, err)
	}
	return p
}

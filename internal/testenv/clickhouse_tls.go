package testenv

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/security"
)

// ClickHouseTLSEnv points tests at another native TLS endpoint.
const ClickHouseTLSEnv = "HOTLINEQC_TEST_CLICKHOUSE_TLS"

// servicesDir is where deploy/dev/services.sh keeps its state.
func servicesDir() string {
	if d := os.Getenv("HOTLINEQC_SERVICES_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".cache", "services")
}

// ClickHouseTLS returns the configuration of the real ClickHouse's native
// TLS port (127.0.0.1:9440, the certificate of the CA the services script
// made) as user, one of the script's users: "hotlineqc" (full access) or
// "reader" (read-only), with the password from its file. The database is
// the test's own and is dropped after it.
func ClickHouseTLS(t testing.TB, user string) chstore.Config {
	t.Helper()
	dir := filepath.Join(servicesDir(), "clickhouse")
	cfg := chstore.DefaultConfig()
	cfg.Addr = []string{addr(ClickHouseTLSEnv, "127.0.0.1:9440")}
	if err := reachable(cfg.Addr[0]); err != nil {
		missing(t, "ClickHouse TLS at "+cfg.Addr[0], err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, user+".password"))
	if err != nil {
		missing(t, "the password of ClickHouse user "+user, err)
	}
	cfg.Username = user
	cfg.Password.Value = security.Secret(strings.TrimSpace(string(pw)))
	cfg.TLS.Enabled, cfg.TLS.CAFile = true, filepath.Join(dir, "tls", "ca.pem")
	cfg.Database = UniqueName(t, "t")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := chstore.Open(ctx, cfg); err == nil {
			_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database)
			conn.Close()
		}
	})
	return cfg
}

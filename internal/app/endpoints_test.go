package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
	"github.com/segmentio/kafka-go"
)

// /metrics and /healthz served under an exporter-toolkit web configuration
// (TLS with a certificate made here, basic auth with a bcrypt hash): plain
// HTTP and missing or wrong credentials are refused, and the real
// Prometheus scrapes through it with the CA and the credentials.
func TestEndpointsWithTLSAndBasicAuth(t *testing.T) {
	promBin := testenv.Tool(t, "prometheus")
	cfg := streamConfig(t)
	dir := t.TempDir()
	certs := testenv.NewCerts(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	write(t, web, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		certs.CertFile, certs.KeyFile, hash))
	cfg.HTTP.WebConfigFile = web
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr, done, stop := runInBackground(t, ctx, cfg)
	defer stop()

	pem, err := os.ReadFile(certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(c *http.Client, url, user, pass string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := "https://" + addr
	waitFor(t, done, time.Minute, func() bool {
		code, _ := get(client, base+"/healthz", "prometheus", "scrape-secret")
		return code == http.StatusOK
	})
	for _, c := range []struct {
		what       string
		client     *http.Client
		url, u, pw string
		want       int
	}{
		{"plain HTTP", http.DefaultClient, "http://" + addr + "/metrics", "prometheus", "scrape-secret", http.StatusBadRequest},
		{"no credentials", client, base + "/metrics", "", "", http.StatusUnauthorized},
		{"wrong password", client, base + "/metrics", "prometheus", "guess", http.StatusUnauthorized},
		{"unknown user", client, base + "/healthz", "admin", "scrape-secret", http.StatusUnauthorized},
		{"credentials", client, base + "/metrics", "prometheus", "scrape-secret", http.StatusOK},
	} {
		code, body := get(c.client, c.url, c.u, c.pw)
		if code != c.want {
			t.Errorf("%s: status %d, want %d (%.200s)", c.what, code, c.want, body)
		}
		if code == http.StatusOK && !strings.Contains(body, "hotline_pipeline_messages_consumed_total") {
			t.Errorf("%s: /metrics without the pipeline's metrics", c.what)
		}
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	if code, body := get(insecure, base+"/metrics", "prometheus", "scrape-secret"); code != 0 || !strings.Contains(body, "certificate") {
		t.Errorf("a client without the CA: status %d (%.200s), want a certificate error", code, body)
	}

	promAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePorts(t, 1)[0])
	startPrometheus(t, promBin, promAddr, addr, "", fmt.Sprintf(`    scheme: https
    basic_auth: {username: prometheus, password: scrape-secret}
    tls_config: {ca_file: %q}
`, certs.CAFile))
	var health, lastErr string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/targets")
		if err != nil {
			continue
		}
		var body struct {
			Data struct {
				ActiveTargets []struct {
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if ts := body.Data.ActiveTargets; len(ts) == 1 {
			health, lastErr = ts[0].Health, ts[0].LastError
			if health == "up" {
				break
			}
		}
	}
	if health != "up" {
		t.Fatalf("Prometheus scraping through TLS and basic auth: target %q (%s)", health, lastErr)
	}
}

// With production set, run refuses to start while anything is left open,
// and says what; without it, each is a warning. Neither the error nor the
// log shows a secret of the configuration.
func TestProductionRefusesWhatIsOpen(t *testing.T) {
	cfg := config.Default()
	cfg.Privacy.CallerHashKey.Value = "caller-key-0123456789"
	cfg.ClickHouse.Password.Value = "clickhouse-secret-42"
	cfg.Kafka.SASL.Mechanism, cfg.Kafka.SASL.Username = "scram-sha-512", "hotlineqc"
	cfg.Kafka.SASL.Password.Value = "kafka-secret-42"
	cfg.ClickHouse.Addr = []string{"127.0.0.1:1"} // nothing listens: run fails after its checks
	cfg.ClickHouse.DialTimeout = time.Second
	cfg.Production = true
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Run(ctx, cfg, nil, app.NewRegistry(), log)
	if err == nil || !strings.Contains(err.Error(), "production") || !strings.Contains(err.Error(), "clickhouse.tls.enabled") ||
		!strings.Contains(err.Error(), "http.web_config_file") {
		t.Fatalf("production with open parts: %v", err)
	}
	cfg.Production = false
	err2 := app.Run(ctx, cfg, nil, app.NewRegistry(), log)
	if err2 == nil {
		t.Fatal("run started without a ClickHouse")
	}
	if !strings.Contains(logs.String(), "unprotected: kafka: connections without TLS") {
		t.Errorf("no warning for what is open:\n%s", logs.String())
	}
	all := err.Error() + err2.Error() + logs.String()
	for _, secret := range []string{"caller-key-0123456789", "clickhouse-secret-42", "kafka-secret-42"} {
		if strings.Contains(all, secret) {
			t.Errorf("a secret shows in the error or the log:\n%s", all)
		}
	}
}

// run stores through the real ClickHouse's TLS port as a user with a
// password; as the read-only user it stops at once with a clear error
// instead of retrying forever, and commits nothing.
func TestRunThroughClickHouseTLS(t *testing.T) {
	cfg := streamConfig(t)
	cfg.ClickHouse = testenv.ClickHouseTLS(t, "hotlineqc")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := chstore.Migrate(ctx, conn, cfg.ClickHouse, quiet()); err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for i := range 50 {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf(
			`{"event_id":"q%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"general"}`, i, i))})
	}
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, msgs)

	// The read-only user first: nothing may be written, nothing committed.
	ro := cfg
	ro.ClickHouse = testenv.ClickHouseTLS(t, "reader")
	ro.ClickHouse.Database = cfg.ClickHouse.Database
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = app.Run(ctx, ro, ln, app.NewRegistry(), quiet())
	t.Logf("read-only user: %v", err)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") || time.Since(start) > time.Minute {
		t.Fatalf("run as the read-only user: %v after %v; want a readonly error at once", err, time.Since(start))
	}

	_, done, stop := runInBackground(t, ctx, cfg)
	defer stop()
	waitFor(t, done, 2*time.Minute, func() bool {
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM "+cfg.ClickHouse.Database+".call_state FINAL").Scan(&n)
		return err == nil && n == 50
	})
}

// runInBackground starts run on a loopback listener of its own; stop ends
// it and waits for it.
func runInBackground(t *testing.T, ctx context.Context, cfg config.Config) (addr string, done chan error, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done = make(chan error, 1)
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet()) }()
	return ln.Addr().String(), done, func() { cancel(); <-done }
}

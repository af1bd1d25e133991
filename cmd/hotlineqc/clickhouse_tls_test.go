package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
	"github.com/segmentio/kafka-go"
)

// The commands that use ClickHouse work through the real server's TLS
// port as a user with a password: migrate (configuration file, password
// from the environment), then compute, export and assess (DSN with
// ca_file) on what the pipeline's writers stored through it, compute
// giving what it gives from the events. A wrong password, a DSN without
// the CA and the read-only user each get one clear error, at once.
func TestCommandsThroughClickHouseTLS(t *testing.T) {
	cfg := testenv.ClickHouseTLS(t, "hotlineqc")
	dir := t.TempDir()
	conf := filepath.Join(dir, "hotlineqc.yml")
	writeFile(t, conf, fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: %s
  username: hotlineqc
  tls: {enabled: true, ca_file: %q}
privacy:
  caller_hash_key: {value: cli-test-key-0123456789}
`, cfg.Addr[0], cfg.Database, cfg.TLS.CAFile))
	t.Setenv("HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE", string(cfg.Password.Value))
	if out, stderr, err := runCLI(t, "migrate", "--config", conf); err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate through TLS: %v\n%s%s", err, out, stderr)
	}

	// What the pipeline would store for a file of events, through TLS.
	events := golden + "tickets_lifecycle/events.ndjson"
	store(t, cfg, events)
	dsn := fmt.Sprintf("clickhouse://hotlineqc@%s/%s?ca_file=%s", cfg.Addr[0], cfg.Database, url.QueryEscape(cfg.TLS.CAFile))
	fromStore, stderr, err := runCLI(t, "compute", "--clickhouse", dsn)
	if err != nil {
		t.Fatalf("compute --clickhouse through TLS: %v\n%s", err, stderr)
	}
	fromEvents, _, err := runCLI(t, "compute", "--events", events)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := results(t, fromStore), results(t, fromEvents); a != b {
		t.Errorf("compute from the store through TLS:\n%s\nfrom the events:\n%s", a, b)
	}
	for _, args := range [][]string{
		{"export", "--clickhouse", dsn, "--month", "2026-10", "--format", "csv", "--out", filepath.Join(dir, "export")},
		{"assess", "--clickhouse", dsn, "--from", "2026-10", "--to", "2026-10", "--format", "csv", "--out", filepath.Join(dir, "assess")},
	} {
		if _, stderr, err := runCLI(t, args...); err != nil {
			t.Errorf("%s through TLS: %v\n%s", args[0], err, stderr)
		}
		if files, _ := os.ReadDir(args[len(args)-1]); len(files) == 0 {
			t.Errorf("%s through TLS wrote nothing", args[0])
		}
	}

	for _, c := range []struct {
		what, dsn, want string
		env             string
	}{
		{"a wrong password", dsn, "password", "wrong-password"},
		{"no CA", strings.Replace(dsn, "ca_file=", "secure=true&x=", 1), "certificate", string(cfg.Password.Value)},
	} {
		t.Setenv("HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE", c.env)
		start := time.Now()
		_, stderr, err := runCLI(t, "compute", "--clickhouse", c.dsn)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), c.want) || time.Since(start) > 20*time.Second {
			t.Errorf("%s: %v (after %v), want an error about %q\n%s", c.what, err, time.Since(start), c.want, stderr)
		}
	}

	// The read-only user reads, and may not migrate: a clear error, once.
	reader := testenv.ClickHouseTLS(t, "reader")
	t.Setenv("HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE", string(reader.Password.Value))
	rdsn := fmt.Sprintf("clickhouse://reader@%s/%s?ca_file=%s", cfg.Addr[0], cfg.Database, url.QueryEscape(cfg.TLS.CAFile))
	if _, stderr, err := runCLI(t, "compute", "--clickhouse", rdsn); err != nil {
		t.Errorf("compute as the read-only user: %v\n%s", err, stderr)
	}
	writeFile(t, conf, strings.Replace(mustRead(t, conf), "username: hotlineqc", "username: reader", 1))
	start := time.Now()
	_, stderr, err = runCLI(t, "migrate", "--config", conf)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") || time.Since(start) > 20*time.Second {
		t.Errorf("migrate as the read-only user: %v (after %v)\n%s", err, time.Since(start), stderr)
	}
	for _, secret := range []string{string(cfg.Password.Value), string(reader.Password.Value)} {
		if strings.Contains(fmt.Sprint(err)+stderr, secret) {
			t.Error("a password shows in an error")
		}
	}
}

// store writes the events of file and the states they evaluate to, as
// the pipeline does, through cfg's connection.
func store(t *testing.T, cfg chstore.Config, file string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	eng := indicator.New(indicator.Single(p, cal))
	eng.WithoutAggregates()
	eng.TrackChanges()
	d := event.Decoder{HashCaller: func(s string) string { return "h" + fmt.Sprint(len(s)) }}
	var recs []event.Record
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		e, err := d.Decode(sc.Bytes())
		if err != nil {
			continue
		}
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "t", Offset: int64(i)}})
		eng.ApplyRecord(&recs[len(recs)-1])
	}
	asOf := eng.MaxTS() // as compute evaluates a file: at its latest event
	eng.Advance(asOf)
	var rows []stored.StateRow
	for _, s := range eng.Changes() {
		rows = append(rows, stored.StateRow{EntityState: s, Version: stored.Version(s.Events, asOf), AsOf: asOf, Topic: "t"})
	}
	if err := chstore.NewRawWriter(conn, cfg.Database).WriteRaw(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := chstore.NewStateWriter(conn, cfg).WriteStates(ctx, rows); err != nil {
		t.Fatal(err)
	}
}

// results is the results part of compute's JSON output, as text.
func results(t *testing.T, out string) string {
	t.Helper()
	var v struct {
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return string(v.Results)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// simulate and import produce through the real broker's SASL_SSL listener
// with the kafka section of a configuration file (the password from the
// environment); a wrong password is one clear error.
func TestProducersThroughKafkaSASL(t *testing.T) {
	broker := testenv.Kafka(t)
	k := testenv.KafkaSASL(t, kafkaio.DefaultConfig())
	dir := t.TempDir()
	conf := filepath.Join(dir, "kafka.yml")
	writeFile(t, conf, fmt.Sprintf("kafka:\n  tls: {enabled: true, ca_file: %q}\n  sasl: {mechanism: scram-sha-512, username: hotlineqc}\n", k.TLS.CAFile))
	t.Setenv("HOTLINEQC_KAFKA__SASL__PASSWORD__VALUE", string(k.SASL.Password.Value))
	calls, tickets := testenv.UniqueName(t, "sasl_calls"), testenv.UniqueName(t, "sasl_tickets")
	if _, stderr, err := runCLI(t, "simulate", "--kafka", k.Brokers[0], "--config", conf, "--topics", calls+","+tickets,
		"--span", "30m", "--start", "2026-10-12T10:00:00+08:00"); err != nil {
		t.Fatalf("simulate through SASL_SSL: %v\n%s", err, stderr)
	}
	if n := topicSize(t, broker, calls); n < 10 {
		t.Errorf("simulate through SASL_SSL: %d call events on the broker", n)
	}
	imported := testenv.UniqueName(t, "sasl_imported")
	if _, stderr, err := runCLI(t, "import", "--mapping", "ticket-example", "--center", "c1", "--kafka", k.Brokers[0], "--config", conf,
		"--topics", calls+","+imported, adapterData+"tickets.csv"); err != nil {
		t.Fatalf("import through SASL_SSL: %v\n%s", err, stderr)
	}
	if got := readTopic(t, broker, imported, 26); len(got) != 26 {
		t.Errorf("import through SASL_SSL: %d ticket events read back", len(got))
	}
	t.Setenv("HOTLINEQC_KAFKA__SASL__PASSWORD__VALUE", "wrong-password")
	start := time.Now()
	_, _, err := runCLI(t, "simulate", "--kafka", k.Brokers[0], "--config", conf, "--topics", calls+","+tickets, "--span", "1m")
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "sasl") || time.Since(start) > 30*time.Second {
		t.Errorf("a wrong password: %v after %v; want one SASL error", err, time.Since(start))
	}
}

// topicSize is the number of messages in topic's partitions.
func topicSize(t *testing.T, broker, topic string) int64 {
	t.Helper()
	conn, err := kafka.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range parts {
		c, err := kafka.DialLeader(context.Background(), "tcp", broker, topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		first, last, err := c.ReadOffsets()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += last - first
	}
	return n
}

package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// No phone number given as input is found in clear anywhere the product
// writes: simulated traffic (callers with the simulator's numbers) and
// malformed messages carrying numbers (cut short, a bad time, a number
// without quotes, a caller nested in a broken caller) go through `run` on
// the real broker and ClickHouse with debug logging; then every table of
// the database, the log, /metrics, the dead-letter topic, compute's
// dead-letter file and the outputs of export, assess, audit, compute by
// topic and hotspots are read
// and searched for every input number.
func TestNoPhoneNumberInClear(t *testing.T) {
	broker := testenv.Kafka(t)
	conn, ch := testenv.ClickHouse(t)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.ndjson")
	if _, stderr, err := runCLI(t, "simulate", "--out", events, "--span", "8h", "--start", "2026-10-12T08:00:00+08:00", "--seed", "5"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	bad := []string{
		`{"event_id":"bad1","type":"call.arrived","ts":"2026-10-12T09:00:00+08:00","center_id":"c12345","call_id":"x1","caller":"13700001111"`,
		`{"event_id":"bad2","type":"call.arrived","ts":"not a time","center_id":"c12345","call_id":"x2","caller":"13700002222"}`,
		`{"event_id":"bad3","type":"ticket.created","center_id":"c12345","ticket_id":"t9","caller":13700003333}`,
		`{"event_id":"bad4","type":"call.arrived","caller":"caller":"13700004444"}`,
	}
	f, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(strings.Join(bad, "\n") + "\n")
	f.Close()
	input, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[string]bool{}
	for _, m := range regexp.MustCompile(`"caller":(?:"caller":)?\s*"?(\d{7,})`).FindAllSubmatch(input, -1) {
		numbers[string(m[1])] = true
	}
	if len(numbers) < 50 {
		t.Fatalf("only %d phone numbers in the input", len(numbers))
	}

	// The pipeline, with debug logging, on every line of the file.
	cfg := config.Default()
	name := testenv.UniqueName(t, "pii")
	cfg.Kafka.Brokers, cfg.Kafka.GroupID = []string{broker}, name
	cfg.Kafka.Topics = kafkaio.Topics{Calls: name + ".calls", Tickets: name + ".tickets", DeadLetter: name + ".dlq"}
	cfg.ClickHouse = ch
	cfg.Privacy.CallerHashKey.Value = "pii-test-key-0123456789"
	cfg.Pipeline.FlushInterval = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, 3, 1); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(t, "migrate", "--config", writeConfig(t, dir, cfg)); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	w := &kafka.Writer{Addr: kafka.TCP(broker), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll}
	var calls, tickets []kafka.Message
	keyRe := regexp.MustCompile(`"(?:call|ticket)_id":"([^"]+)"`)
	sc := bufio.NewScanner(bytes.NewReader(input))
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		key := []byte("bad")
		if m := keyRe.FindSubmatch(line); m != nil {
			key = m[1]
		}
		if bytes.Contains(line, []byte(`"type":"ticket.`)) {
			tickets = append(tickets, kafka.Message{Topic: cfg.Kafka.Topics.Tickets, Key: key, Value: line})
		} else {
			calls = append(calls, kafka.Message{Topic: cfg.Kafka.Topics.Calls, Key: key, Value: line})
		}
	}
	if err := w.WriteMessages(ctx, append(calls, tickets...)...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), log) }()
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	var metrics string
	total := float64(len(calls) + len(tickets))
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		metrics = testenv.Get(t, metricsURL)
		if testenv.SumMetric(metrics, "hotline_pipeline_events_written_total")+testenv.SumMetric(metrics, "hotline_pipeline_dead_letters_written_total") >= total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every message processed in time:\n%s", logs.String())
		}
	}
	time.Sleep(3 * time.Second) // a tick, the gauges, a settle pass
	metrics = testenv.Get(t, metricsURL)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Everything the product wrote.
	found := map[string]string{"log": logs.String(), "/metrics": metrics}
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ?", ch.Database)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, table := range tables {
		found["table "+table] = testenv.Get(t, "http://127.0.0.1:8123/?"+url.Values{"query": {"SELECT * FROM " + ch.Database + "." + table + " FORMAT TabSeparated"}}.Encode())
	}
	var dlq strings.Builder
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: cfg.Kafka.Topics.DeadLetter, Partition: p, MaxWait: 100 * time.Millisecond})
		for {
			rctx, rcancel := context.WithTimeout(ctx, time.Second)
			m, err := r.ReadMessage(rctx)
			rcancel()
			if err != nil {
				break
			}
			fmt.Fprintf(&dlq, "%s %s", m.Key, m.Value)
			for _, h := range m.Headers {
				fmt.Fprintf(&dlq, " %s=%s", h.Key, h.Value)
			}
			dlq.WriteString("\n")
		}
		r.Close()
	}
	found["dead-letter topic"] = dlq.String()
	if strings.Count(dlq.String(), "\n") != len(bad) {
		t.Errorf("%d dead letters, want %d:\n%s", strings.Count(dlq.String(), "\n"), len(bad), dlq.String())
	}
	t.Setenv("HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE", string(cfg.Privacy.CallerHashKey.Value))
	deadFile := filepath.Join(dir, "dead.ndjson")
	out := filepath.Join(dir, "out")
	dsn := fmt.Sprintf("clickhouse://%s/%s", ch.Addr[0], ch.Database)
	for _, args := range [][]string{
		{"compute", "--events", events, "--dead-letter", deadFile},
		{"export", "--clickhouse", dsn, "--month", "2026-10", "--out", filepath.Join(out, "export")},
		{"assess", "--clickhouse", dsn, "--from", "2026-10", "--to", "2026-10", "--out", filepath.Join(out, "assess")},
		{"audit", "--clickhouse", dsn, "--month", "2026-10", "--format", "json"},
		// citizen needs (revision 1.2): repeat rates and topics, hot spots
		{"compute", "--events", events, "--group-by", "center_id,topic_l1", "--format", "csv"},
		{"hotspots", "--clickhouse", dsn, "--by-area", "--format", "json"},
		{"hotspots", "--events", events, "--level", "3", "--format", "csv"},
	} {
		stdout, stderr, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, stderr)
		}
		found[args[0]+" output"] = stdout + stderr
	}
	found["compute dead-letter file"] = mustRead(t, deadFile)
	_ = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found[path] = unzipped(t, path)
		}
		return nil
	})

	if !strings.Contains(found["table raw_call_events"], "c12345") || len(found["dead-letter topic"]) == 0 || len(found["compute dead-letter file"]) == 0 {
		t.Fatal("the scan read nothing: it proves nothing")
	}
	for where, text := range found {
		for n := range numbers {
			if strings.Contains(text, n) {
				i := strings.Index(text, n)
				t.Errorf("%s holds the phone number %s in clear: …%s…", where, n, text[max(0, i-80):min(len(text), i+40)])
				break
			}
		}
	}
	t.Logf("%d phone numbers searched in %d places (%d tables)", len(numbers), len(found), len(tables))
}

// syncWriter serialises writes to w: the pipeline logs from many goroutines.
type syncWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.w.Write(p)
}

// writeConfig writes cfg's ClickHouse and Kafka sections as a file for
// the commands that take one.
func writeConfig(t *testing.T, dir string, cfg config.Config) string {
	t.Helper()
	p := filepath.Join(dir, "hotlineqc.yml")
	writeFile(t, p, fmt.Sprintf("clickhouse:\n  addr: [%q]\n  database: %s\nkafka:\n  brokers: [%q]\nprivacy:\n  caller_hash_key: {value: %s}\n",
		cfg.ClickHouse.Addr[0], cfg.ClickHouse.Database, cfg.Kafka.Brokers[0], cfg.Privacy.CallerHashKey.Value))
	return p
}

// unzipped is a file's text; for a zip archive (XLSX), its entries'.
func unzipped(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("PK")) {
		return string(b)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var s strings.Builder
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(&s, r)
		r.Close()
	}
	return s.String()
}

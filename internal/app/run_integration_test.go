package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

const phone = "13912345678"

// rawScenario returns good events (some sent twice) and bad messages with
// the reason each must be dead-lettered with.
func rawScenario(n int) (good []kafka.Message, dups int, bad map[string]string) {
	bad = map[string]string{}
	for i := range n {
		call, ticket := fmt.Sprintf("k%d", i), fmt.Sprintf("t%d", i)
		ts := time.Date(2026, 10, 9, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)).Add(time.Duration(i) * time.Second)
		at := func(d time.Duration) string { return ts.Add(d).Format(time.RFC3339Nano) }
		good = append(good,
			msg(call, `{"event_id":"c%d-1","type":"call.arrived","ts":"%s","center_id":"c1","call_id":"%s","caller":"%s"}`, i, at(0), call, phone),
			msg(call, `{"event_id":"c%d-2","type":"call.queued","ts":"%s","center_id":"c1","call_id":"%s","queue":"general"}`, i, at(time.Second), call),
			msg(call, `{"event_id":"c%d-3","type":"call.answered","ts":"%s","center_id":"c1","call_id":"%s","agent_id":"a1"}`, i, at(9*time.Second), call),
			msg(ticket, `{"event_id":"t%d-1","type":"ticket.created","ts":"%s","center_id":"c1","ticket_id":"%s","category":"help","caller":"%s"}`, i, at(time.Minute), ticket, phone),
		)
	}
	// Replays of already-sent events: the same event_id must be stored once.
	for i := 0; i < n; i += 10 {
		good = append(good, good[i])
		dups++
	}
	badMsgs := map[string]string{
		"invalid_json":  `{"event_id":"x1","type":`,
		"missing_field": `{"event_id":"x2","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k"}`,
		"unknown_type":  `{"event_id":"x3","type":"call.exploded","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k"}`,
		"invalid_enum":  `{"event_id":"x4","type":"call.rated","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k","rating":"meh"}`,
		"invalid_ts":    `{"event_id":"x5","type":"ticket.closed","ts":"09/10/2026","center_id":"c1","ticket_id":"t"}`,
		"too_large":     `{"event_id":"x6","type":"ticket.closed","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t","subject":"` + strings.Repeat("长", 2000) + `"}`,
		"invalid_field": `{"event_id":"x7","type":"ticket.callback","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t","reached":"yes"}`,
	}
	for reason, body := range badMsgs {
		key := "bad-" + reason
		bad[key] = reason
		good = append(good, kafka.Message{Key: []byte(key), Value: []byte(body)})
	}
	return good, dups, bad
}

func msg(key, format string, args ...any) kafka.Message {
	return kafka.Message{Key: []byte(key), Value: []byte(fmt.Sprintf(format, args...))}
}

func TestRawPathEndToEnd(t *testing.T) {
	cfg := streamConfig(t)
	broker := cfg.Kafka.Brokers[0]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg.Kafka.MaxMessageBytes = 4096
	cfg.Pipeline.BatchSize = 100
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	msgs, dups, bad := rawScenario(300)
	produce(ctx, t, broker, cfg.Kafka.Topics.Calls, msgs[:len(msgs)/2])
	produce(ctx, t, broker, cfg.Kafka.Topics.Tickets, msgs[len(msgs)/2:])
	wantRows := uint64(len(msgs) - dups - len(bad))
	t.Logf("produced %d messages: %d distinct good events, %d replays, %d bad", len(msgs), wantRows, dups, len(bad))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet()) }()

	rows := func() uint64 {
		var n uint64
		q := fmt.Sprintf("SELECT (SELECT count() FROM %[1]s.raw_call_events FINAL) + (SELECT count() FROM %[1]s.raw_ticket_events FINAL)", cfg.ClickHouse.Database)
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, done, 60*time.Second, func() bool { return rows() >= wantRows && committed(ctx, t, cfg.Kafka) })
	t.Logf("all %d events stored and offsets committed in %s", wantRows, time.Since(start).Round(time.Millisecond))
	if n := rows(); n != wantRows {
		t.Errorf("rows after FINAL = %d, want exactly %d", n, wantRows)
	}

	var leaked uint64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT countIf(position(caller_hash, '%[2]s') > 0 OR position(attrs, '%[2]s') > 0) FROM %[1]s.raw_call_events", cfg.ClickHouse.Database, phone)).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("phone number stored in clear: %d rows (%v)", leaked, err)
	}
	var hashes uint64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT uniqExact(caller_hash) FROM %s.raw_call_events WHERE caller_hash != ''", cfg.ClickHouse.Database)).Scan(&hashes); err != nil || hashes != 1 {
		t.Errorf("distinct caller hashes = %d, want 1 (%v)", hashes, err)
	}

	checkDeadLetters(ctx, t, broker, cfg.Kafka.Topics.DeadLetter, bad)
	metrics := scrape(t, "http://"+ln.Addr().String()+"/metrics")
	for reason := range bad {
		r := strings.TrimPrefix(reason, "bad-")
		if !strings.Contains(metrics, fmt.Sprintf(`hotline_pipeline_messages_rejected_total{reason="%s",topic="%s"} 1`, r, cfg.Kafka.Topics.Tickets)) {
			t.Errorf("metrics lack the rejection %s:\n%s", r, grep(metrics, "rejected_total"))
		}
	}
	if strings.Contains(metrics, phone) {
		t.Error("metrics contain a phone number")
	}
	promtoolCheck(t, metrics)

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after stop = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func produce(ctx context.Context, t *testing.T, broker, topic string, msgs []kafka.Message) {
	t.Helper()
	testenv.Produce(ctx, t, broker, topic, msgs)
}

// committed reports whether the group's committed offsets reach the end of
// every partition of the input topics.
func committed(ctx context.Context, t *testing.T, c kafkaio.Config) bool {
	t.Helper()
	ends, got, err := offsets(ctx, c)
	if err != nil {
		return false
	}
	for k, end := range ends {
		if end > 0 && got[k] != end {
			return false
		}
	}
	return true
}

// topicPartition names one partition in the offset maps of offsets.
type topicPartition struct {
	topic     string
	partition int
}

// offsets returns the end offset and the group's committed offset (-1 when
// none) of every partition of the call and ticket topics.
func offsets(ctx context.Context, c kafkaio.Config) (ends, committed map[topicPartition]int64, err error) {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections() // called in polling loops: a pool left open refreshes metadata forever
	cl := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: tr}
	topics := c.Topics.Inputs()
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, nil, err
	}
	reqs := map[string][]kafka.OffsetRequest{}
	parts := map[string][]int{}
	for _, tp := range meta.Topics {
		for _, p := range tp.Partitions {
			reqs[tp.Name] = append(reqs[tp.Name], kafka.LastOffsetOf(p.ID))
			parts[tp.Name] = append(parts[tp.Name], p.ID)
		}
	}
	lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: reqs})
	if err != nil {
		return nil, nil, err
	}
	got, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: c.GroupID, Topics: parts})
	if err != nil {
		return nil, nil, err
	}
	ends, committed = map[topicPartition]int64{}, map[topicPartition]int64{}
	for topic, pos := range lo.Topics {
		for _, po := range pos {
			ends[topicPartition{topic, po.Partition}] = po.LastOffset
			committed[topicPartition{topic, po.Partition}] = -1
		}
	}
	for topic, fps := range got.Topics {
		for _, fp := range fps {
			committed[topicPartition{topic, fp.Partition}] = fp.CommittedOffset
		}
	}
	return ends, committed, nil
}

func checkDeadLetters(ctx context.Context, t *testing.T, broker, topic string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for p := range 3 {
		// Every message up to the partition's end, however slow the
		// broker is to serve them (a one-second read timeout once missed
		// all of them on a loaded machine).
		conn, err := kafka.DialLeader(ctx, "tcp", broker, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for next := int64(0); next < end; {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			m, err := r.ReadMessage(rctx)
			cancel()
			if err != nil {
				t.Fatalf("dead letters of partition %d: %v after offset %d of %d", p, err, next, end)
			}
			next = m.Offset + 1
			for _, h := range m.Headers {
				if h.Key == kafkaio.HeaderReason {
					got[string(m.Key)] = string(h.Value)
				}
			}
		}
		r.Close()
	}
	if len(got) != len(want) {
		t.Errorf("dead letters = %v, want %v", got, want)
	}
	for k, reason := range want {
		if got[k] != reason {
			t.Errorf("dead letter %s: reason %q, want %q", k, got[k], reason)
		}
	}
}

func waitFor(t *testing.T, done <-chan error, limit time.Duration, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, done, limit, cond)
}

func scrape(t *testing.T, url string) string { return testenv.Get(t, url) }

func promtoolCheck(t *testing.T, metrics string) {
	t.Helper()
	cmd := exec.Command(testenv.Promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(metrics)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

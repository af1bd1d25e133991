package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

const adapterData = "../../internal/adapter/testdata/"

func TestImportToNDJSON(t *testing.T) {
	dir := t.TempDir()
	out, dlq := filepath.Join(dir, "events.ndjson"), filepath.Join(dir, "dlq.ndjson")
	_, stderr, err := runCLI(t, "import", "--mapping", "cdr-example", "--center", "c1", "--out", out, "--dead-letter", dlq, adapterData+"cdr.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cdr.csv:7: rejected: outcome_contradicts_times", "cdr.csv:10: rejected: bad_record",
		"records read: 10; events emitted: 21; records skipped: 0; records rejected: 4"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	want, _ := os.ReadFile(adapterData + "cdr.events.ndjson")
	if got, _ := os.ReadFile(out); string(got) != string(want) {
		t.Errorf("events:\n%s", got)
	}
	b, _ := os.ReadFile(dlq)
	if n := strings.Count(string(b), "\n"); n != 4 || strings.Contains(string(b), "13800138006") {
		t.Errorf("dead letters (%d), a caller must be hashed:\n%s", n, b)
	}
	// The events compute accepts, with the figures the fixture test checks.
	res, _, err := runCLI(t, "compute", "--events", out, "--window", "month")
	if err != nil || !strings.Contains(res, `"accepted": 21`) && !strings.Contains(res, `"accepted":21`) {
		t.Errorf("compute on imported events: %v\n%s", err, res)
	}
}

func TestImportFailsLoudly(t *testing.T) {
	cases := map[string][]string{
		"no mapping":       {"import", "--out", "-"},
		"unknown mapping":  {"import", "--mapping", "nosuch", "--out", "-"},
		"no output":        {"import", "--mapping", "cdr-example", "--center", "c1"},
		"missing variable": {"import", "--mapping", "cdr-example", "--out", os.DevNull, adapterData + "cdr.csv"},
		"missing column":   {"import", "--mapping", "cdr-example", "--center", "c1", "--out", os.DevNull, adapterData + "tickets.csv"},
		"missing file":     {"import", "--mapping", "cdr-example", "--center", "c1", "--out", os.DevNull, "nosuch.csv"},
	}
	for name, args := range cases {
		if _, _, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	out, _, err := runCLI(t, "import", "--mapping", "asterisk-queue-log", "--print-mapping")
	if err != nil || !strings.Contains(out, "ENTERQUEUE") {
		t.Errorf("--print-mapping: %v\n%s", err, out)
	}
}

// Imported events reach the real broker keyed by call or ticket id, on the
// call and ticket topics, each id's events in one partition.
func TestImportToKafka(t *testing.T) {
	broker := testenv.Kafka(t)
	calls, tickets := testenv.UniqueName(t, "imp_calls"), testenv.UniqueName(t, "imp_tickets")
	dir := t.TempDir()
	_, stderr, err := runCLI(t, "import", "--mapping", "ticket-example", "--center", "c1", "--kafka", broker,
		"--topics", calls+","+tickets, "--state", filepath.Join(dir, "state.json"), adapterData+"tickets.csv")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	_, stderr, err = runCLI(t, "import", "--mapping", "asterisk-queue-log", "--center", "c1", "--kafka", broker,
		"--topics", calls+","+tickets, adapterData+"asterisk.queue_log")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	got := readTopic(t, broker, calls, 16)
	got = append(got, readTopic(t, broker, tickets, 26)...)
	partitionOf := map[string]int{}
	for _, m := range got {
		var e struct {
			Type     string `json:"type"`
			CallID   string `json:"call_id"`
			TicketID string `json:"ticket_id"`
		}
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Fatal(err)
		}
		id, wantTopic := e.CallID, calls
		if strings.HasPrefix(e.Type, "ticket.") {
			id, wantTopic = e.TicketID, tickets
		}
		if string(m.Key) != id || m.Topic != wantTopic {
			t.Errorf("%s with key %q on %s, want key %q on %s", e.Type, m.Key, m.Topic, id, wantTopic)
		}
		if p, seen := partitionOf[id]; seen && p != m.Partition {
			t.Errorf("%s's events in partitions %d and %d", id, p, m.Partition)
		}
		partitionOf[id] = m.Partition
	}
	// The state file says the tickets export was read to its end: a second
	// run produces nothing.
	_, stderr, err = runCLI(t, "import", "--mapping", "ticket-example", "--center", "c1", "--kafka", broker,
		"--topics", calls+","+tickets, "--state", filepath.Join(dir, "state.json"), adapterData+"tickets.csv")
	if err != nil || !strings.Contains(stderr, "records read: 0;") {
		t.Errorf("resumed run: %v\n%s", err, stderr)
	}
}

// readTopic reads n messages from the topic's 3 partitions.
func readTopic(t *testing.T, broker, topic string, n int) []kafka.Message {
	t.Helper()
	var out []kafka.Message
	deadline := time.Now().Add(30 * time.Second)
	for p := 0; p < 3; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			m, err := r.ReadMessage(ctx)
			cancel()
			if err != nil || time.Now().After(deadline) {
				break
			}
			out = append(out, m)
		}
		r.Close()
	}
	if len(out) != n {
		t.Fatalf("%s: %d messages, want %d", topic, len(out), n)
	}
	return out
}

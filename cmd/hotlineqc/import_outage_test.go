package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// `import --follow --kafka` reads an Asterisk queue_log as it grows while
// the broker (a private one) is killed and started again 20 s later: the
// lines written during the outage are held and delivered when it is back,
// the import never stops, and the topic ends with every event `import
// --out` makes of the same file (any written twice collapse by event_id
// downstream: counted and reported).
func TestImportFollowsThroughABrokerRestart(t *testing.T) {
	broker := testenv.StartLocalKafka(t)
	calls, tickets, agents := testenv.UniqueName(t, "imp_calls"), testenv.UniqueName(t, "imp_tickets"), testenv.UniqueName(t, "imp_agents")
	dir := t.TempDir()
	log := filepath.Join(dir, "queue_log")
	appendCalls(t, log, 0, 200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		root := newRoot()
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&syncWriter{w: &stderr})
		root.SetArgs([]string{"import", "--mapping", "asterisk-queue-log", "--center", "c1", "--kafka", broker.Addr,
			"--topics", calls + "," + tickets + "," + agents, "--follow", "--poll", "200ms", log})
		done <- root.ExecuteContext(ctx)
	}()
	untilTopicHolds(t, broker.Addr, calls, 600, done)
	broker.Kill()
	appendCalls(t, log, 200, 400) // read and held while the broker is away
	time.Sleep(20 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("import stopped during the outage: %v", err)
	default:
	}
	broker.Start()
	appendCalls(t, log, 400, 600)
	untilTopicHolds(t, broker.Addr, calls, 1800, done)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("import --follow: %v", err)
	}

	out := filepath.Join(dir, "events.ndjson")
	if _, errOut, err := runCLI(t, "import", "--mapping", "asterisk-queue-log", "--center", "c1", "--out", out, log); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	want := map[string]bool{}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		want[eventID(t, sc.Bytes())] = true
	}
	got, written := map[string]bool{}, 0
	for _, topic := range []string{calls, agents} { // each call's busy and ready go to the agents' topic
		for _, m := range testenv.ReadTopic(t, broker.Addr, topic) {
			got[eventID(t, m.Value)] = true
			written++
		}
	}
	t.Logf("%d events from %d calls; on the topic %d distinct, %d written (%d again)", len(want), 600, len(got), written, written-len(got))
	if len(got) != len(want) {
		t.Errorf("%d distinct events on the topic, want %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s never reached the topic", id)
			break
		}
	}
}

// appendCalls appends calls [from, to) to a queue_log: each enters the
// queue, is answered by an agent and ended by the caller.
func appendCalls(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for i := from; i < to; i++ {
		ts, id := 1791507600+60*i, fmt.Sprintf("1760000000.%d", i)
		fmt.Fprintf(&b, "%d|%s|general|NONE|ENTERQUEUE||1380013%04d|1\n", ts, id, i)
		fmt.Fprintf(&b, "%d|%s|general|a7|CONNECT|10|%s.1|3\n", ts+10, id, id)
		fmt.Fprintf(&b, "%d|%s|general|a7|COMPLETECALLER|10|120|1\n", ts+130, id)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// untilTopicHolds waits until the topic's partitions end past n messages.
func untilTopicHolds(t *testing.T, broker, topic string, n int64, done <-chan error) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Transport: tr}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("import stopped: %v", err)
		default:
		}
		var sum int64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err == nil && len(md.Topics) == 1 {
			req := map[string][]kafka.OffsetRequest{}
			for _, p := range md.Topics[0].Partitions {
				req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
			}
			if lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req}); err == nil {
				for _, p := range lo.Topics[topic] {
					sum += max(p.LastOffset, 0)
				}
			}
		}
		cancel()
		if sum >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages, want %d", topic, sum, n)
		}
	}
}

func eventID(t *testing.T, line []byte) string {
	t.Helper()
	var e struct {
		ID string `json:"event_id"`
	}
	if err := json.Unmarshal(line, &e); err != nil || e.ID == "" {
		t.Fatalf("not an event: %s", line)
	}
	return e.ID
}

package adapter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
)

// importFile imports path with a state file and returns the events.
func importFile(t *testing.T, mapping *adapter.Mapping, path, resume string) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: mapping, Files: []string{path}, State: resume,
		Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&out), FlushEvery: 3}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// An import stopped part-way and run again reads each record once: the
// two runs together give exactly the events of one run over the whole.
func TestResumeFromState(t *testing.T) {
	gbk := func(b []byte) []byte { out, _ := encodeGB18030(b); return out }
	cases := []struct {
		name, mapping, input string
		cut                  int // bytes in the first part
		encode               func([]byte) []byte
	}{
		{"queue_log", "asterisk-queue-log", "asterisk.queue_log", 700, nil},
		{"csv", "ticket-example", "tickets.csv", 1200, nil},
		{"csv gb18030", "ticket-example", "tickets.csv", 1000, gbk},
		{"json", "amazon-connect-ctr", "connect-ctr.json", 3000, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := adapter.LoadMapping(c.mapping)
			if err != nil {
				t.Fatal(err)
			}
			all, _ := os.ReadFile(filepath.Join("testdata", c.input))
			if c.encode != nil {
				all = c.encode(bytes.TrimPrefix(all, []byte("\ufeff")))
				m.CSV.Encoding = "gb18030"
			}
			dir := t.TempDir()
			path, resume := filepath.Join(dir, "in"), filepath.Join(dir, "state.json")
			os.WriteFile(path, all, 0o644)
			whole := importFile(t, m, path, "")

			os.WriteFile(path, all[:c.cut], 0o644)
			first := importFile(t, m, path, resume)
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(all[c.cut:])
			f.Close()
			second := importFile(t, m, path, resume)
			if got := append(first, second...); !bytes.Equal(got, whole) {
				t.Errorf("resumed import differs from one import:\n%s\nwant\n%s", got, whole)
			}
			if third := importFile(t, m, path, resume); len(third) != 0 {
				t.Errorf("a third run emitted again:\n%s", third)
			}
		})
	}
}

// lockedSink collects events from a following import.
type lockedSink struct {
	mu           sync.Mutex
	buf          bytes.Buffer
	n            int
	lastFlushErr error
}

func (s *lockedSink) Write(_ context.Context, events []adapter.Out) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.buf.Write(e.JSON)
		s.buf.WriteByte('\n')
		s.n++
	}
	return nil
}

// Flush records whether its context was still live: an interrupted run's
// last flush must get a context of its own.
func (s *lockedSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastFlushErr = ctx.Err()
	return ctx.Err()
}

func (s *lockedSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

// waitFor polls cond until it holds or the test's time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Following a log as it grows and across a rotation emits each line's
// events once, as the whole log read in one go would.
func TestFollowAcrossRotation(t *testing.T) {
	m, err := adapter.LoadMapping("asterisk-queue-log")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := os.ReadFile("testdata/asterisk.queue_log")
	lines := bytes.SplitAfter(all, []byte("\n"))
	dir := t.TempDir()
	path := filepath.Join(dir, "queue_log")
	os.WriteFile(path, bytes.Join(lines[:6], nil), 0o644) // QUEUESTART .. k1 ended: 3 events, 4 of agents

	sink := &lockedSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var sum *adapter.Summary
	go func() {
		var err error
		sum, err = adapter.Import(ctx, adapter.Options{Mapping: m, Files: []string{path}, Follow: true, Poll: 5 * time.Millisecond,
			State: filepath.Join(dir, "state.json"), Vars: map[string]string{"center": "c1"}, Sink: sink})
		done <- err
	}()
	waitFor(t, "k1's and the agents' 7 events", func() bool { return sink.count() == 7 })

	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(lines[6])
	f.Write(lines[7][:10]) // half a line: nothing until the rest arrives
	time.Sleep(30 * time.Millisecond)
	f.Write(lines[7][10:])
	f.Close()
	waitFor(t, "k2's 2 events", func() bool { return sink.count() == 9 })

	os.Rename(path, path+".1") // logrotate
	os.WriteFile(path, bytes.Join(lines[8:], nil), 0o644)
	waitFor(t, "the rotated log's 17 events", func() bool { return sink.count() == 26 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
	var whole bytes.Buffer
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{"testdata/asterisk.queue_log"},
		Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&whole)}); err != nil {
		t.Fatal(err)
	}
	if sink.buf.String() != whole.String() {
		t.Errorf("followed events:\n%s\nwant\n%s", sink.buf.String(), whole.String())
	}
	if sink.lastFlushErr != nil {
		t.Errorf("the last flush after the interruption had a dead context: %v", sink.lastFlushErr)
	}
	if sum == nil || sum.RejectedCount() != 1 {
		t.Errorf("summary %+v, want the garbage line rejected", sum)
	}
}

package ingest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// fakeSource serves fixed messages, then blocks; it records commits and
// the order of operations.
type fakeSource struct {
	mu      sync.Mutex
	msgs    []kafkaio.Message
	commits [][]kafkaio.Offset
	log     *[]string
}

func (s *fakeSource) Fetch(ctx context.Context) (kafkaio.Message, error) {
	s.mu.Lock()
	if len(s.msgs) > 0 {
		m := s.msgs[0]
		s.msgs = s.msgs[1:]
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return kafkaio.Message{}, ctx.Err()
}

func (s *fakeSource) Commit(_ context.Context, o []kafkaio.Offset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits = append(s.commits, o)
	*s.log = append(*s.log, "commit")
	return nil
}

type fakeSink struct {
	mu     sync.Mutex
	fail   []error // errors returned by successive calls, then success
	events int
	dead   []kafkaio.DeadLetter
	log    *[]string
}

func (f *fakeSink) next() error {
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return err
	}
	return nil
}

func (f *fakeSink) WriteRaw(_ context.Context, recs []event.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.next(); err != nil {
		*f.log = append(*f.log, "insert failed")
		return err
	}
	f.events += len(recs)
	*f.log = append(*f.log, "insert")
	return nil
}

func (f *fakeSink) WriteDeadLetters(_ context.Context, dls []kafkaio.DeadLetter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = append(f.dead, dls...)
	*f.log = append(*f.log, "dead_letter")
	return nil
}

var errTransient = errors.New("transient")

func setup(sinkErrs ...error) (*fakeSource, *fakeSink, *ingest.Pipeline, *prometheus.Registry, *[]string) {
	var log []string
	src := &fakeSource{log: &log}
	for i, v := range []string{
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`,
		`not json`,
		`{"event_id":"e2","type":"ticket.created","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t1"}`,
	} {
		src.msgs = append(src.msgs, kafkaio.Message{Topic: "calls", Partition: 0, Offset: int64(10 + i), Value: []byte(v)})
	}
	sink := &fakeSink{fail: sinkErrs, log: &log}
	reg := prometheus.NewRegistry()
	cfg := ingest.DefaultConfig()
	cfg.BatchSize, cfg.FlushInterval, cfg.RetryMin, cfg.RetryMax = 3, time.Hour, time.Millisecond, 5*time.Millisecond
	p := ingest.New(cfg, ingest.Deps{
		Source: src, Raw: sink, DeadLetters: sink, Decoder: &event.Decoder{},
		Retryable: func(err error) bool { return errors.Is(err, errTransient) },
		Metrics:   ingest.NewMetrics(reg),
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, "calls")
	return src, sink, p, reg, &log
}

func runUntil(t *testing.T, p *ingest.Pipeline, cond func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		select {
		case err := <-done:
			cancel()
			return err
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	return <-done
}

func TestCommitsOnlyAfterWrites(t *testing.T) {
	src, sink, p, reg, log := setup(errTransient, errTransient)
	err := runUntil(t, p, func() bool { src.mu.Lock(); defer src.mu.Unlock(); return len(src.commits) > 0 })
	if err != nil {
		t.Fatal(err)
	}
	if sink.events != 2 || len(sink.dead) != 1 || sink.dead[0].Reason != "invalid_json" {
		t.Errorf("events %d, dead %+v", sink.events, sink.dead)
	}
	want := []string{"dead_letter", "insert failed", "insert failed", "insert", "commit"}
	if len(*log) != len(want) {
		t.Fatalf("operations = %v, want %v", *log, want)
	}
	for i := range want {
		if (*log)[i] != want[i] {
			t.Fatalf("operations = %v, want %v", *log, want)
		}
	}
	if got := src.commits[0]; len(got) != 1 || got[0].Next != 13 {
		t.Errorf("commit = %+v, want next offset 13", got)
	}
	if n := counterValue(t, reg, "hotline_pipeline_flush_stage_failures_total", "insert"); n != 2 {
		t.Errorf("insert failures metric = %v", n)
	}
}

func TestPermanentFailureStopsWithoutCommit(t *testing.T) {
	src, _, p, _, _ := setup(errors.New("UNKNOWN_TABLE"))
	err := runUntil(t, p, func() bool { return false })
	if err == nil {
		t.Fatal("permanent error did not stop the pipeline")
	}
	if len(src.commits) != 0 {
		t.Errorf("committed after a failed write: %+v", src.commits)
	}
}

func TestStopFlushesWhatItHolds(t *testing.T) {
	src, sink, p, _, _ := setup()
	src.msgs = src.msgs[:1] // fewer than a batch: only the stop flushes it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.events != 1 || len(src.commits) != 1 {
		t.Errorf("after stop: events %d, commits %v", sink.events, src.commits)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// opLog records the order of operations; the writer's three writes run
// at once, so it is locked.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) add(op string) { l.mu.Lock(); l.ops = append(l.ops, op); l.mu.Unlock() }

func (l *opLog) get() []string { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.ops) }

// fakeSource hands out one generation per element of gens, then blocks;
// every generation serves its messages, then waits for its end. It records
// commits (with their generation) and the order of operations.
type fakeSource struct {
	mu      sync.Mutex
	gens    []*fakeGen
	commits [][]kafkaio.Offset
	log     *opLog
}

type fakeGen struct {
	src   *fakeSource
	id    int
	parts []kafkaio.Partition
	msgs  []kafkaio.Message
	end   chan struct{} // closed to end the generation (a rebalance)
	stale bool          // commits are refused
	down  int           // this many commits fail as if Kafka were away
	// after gap messages, the rest come gapWait later
	gap     int
	gapWait time.Duration
	// delivered counts the messages whose handler has returned: each is in
	// the pipeline's channel or batch (counted consumed, it may not be yet)
	delivered atomic.Int32
}

func (s *fakeSource) Next(ctx context.Context) (ingest.Generation, error) {
	s.mu.Lock()
	if len(s.gens) > 0 {
		g := s.gens[0]
		s.gens = s.gens[1:]
		s.mu.Unlock()
		return g, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}

func (g *fakeGen) Partitions() []kafkaio.Partition { return g.parts }

func (g *fakeGen) Run(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-g.end:
			cancel()
		case <-ctx.Done():
		}
	}()
	return fn(ctx)
}

func (g *fakeGen) Fetch(ctx context.Context, open func(kafkaio.Partition) kafkaio.Handler) error {
	if len(g.parts) == 0 {
		return nil // nothing to read: a fetcher may end at once
	}
	handlers := map[kafkaio.Partition]kafkaio.Handler{}
	for i, m := range g.msgs {
		if i == g.gap && g.gapWait > 0 {
			time.Sleep(g.gapWait)
		}
		p := kafkaio.Partition{Topic: m.Topic, Partition: m.Partition}
		if handlers[p] == nil {
			handlers[p] = open(p)
		}
		if err := handlers[p](ctx, m); err != nil {
			return nil
		}
		g.delivered.Add(1)
	}
	<-ctx.Done()
	return nil
}

func (g *fakeGen) Commit(_ context.Context, o []kafkaio.Offset) error {
	s := g.src
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.stale {
		s.log.add("commit refused")
		return kafkaio.ErrStaleGeneration
	}
	if g.down > 0 {
		g.down--
		s.log.add("commit failed")
		return fmt.Errorf("commit offsets: %w", syscall.ECONNREFUSED)
	}
	s.commits = append(s.commits, o)
	s.log.add(fmt.Sprintf("commit gen %d", g.id))
	return nil
}

func (s *fakeSource) gen(msgs ...kafkaio.Message) *fakeGen {
	g := &fakeGen{src: s, id: len(s.gens) + 1, msgs: msgs, end: make(chan struct{}),
		parts: []kafkaio.Partition{{Topic: "calls", Partition: 0}}}
	s.gens = append(s.gens, g)
	return g
}

type fakeSink struct {
	mu     sync.Mutex
	fail   []error // errors returned by successive calls, then success
	events int
	dead   []kafkaio.DeadLetter
	log    *opLog
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
		f.log.add("insert failed")
		return err
	}
	f.events += len(recs)
	f.log.add("insert")
	return nil
}

func (f *fakeSink) WriteDeadLetters(_ context.Context, dls []kafkaio.DeadLetter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = append(f.dead, dls...)
	f.log.add("dead_letter")
	return nil
}

var errTransient = errors.New("transient")

func setup(sinkErrs ...error) (*fakeSource, *fakeSink, *ingest.Pipeline, *prometheus.Registry, *opLog) {
	return setupWith(func(*ingest.Config) {}, sinkErrs...)
}

// setupWith is setup with the pipeline's configuration changed by edit.
func setupWith(edit func(*ingest.Config), sinkErrs ...error) (*fakeSource, *fakeSink, *ingest.Pipeline, *prometheus.Registry, *opLog) {
	log := &opLog{}
	src := &fakeSource{log: log}
	var msgs []kafkaio.Message
	for i, v := range []string{
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`,
		`{"caller":"13800000000", not json`,
		`{"event_id":"e2","type":"ticket.created","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t1"}`,
	} {
		msgs = append(msgs, kafkaio.Message{Topic: "calls", Partition: 0, Offset: int64(10 + i), Value: []byte(v)})
	}
	src.gen(msgs...)
	sink := &fakeSink{fail: sinkErrs, log: log}
	reg := prometheus.NewRegistry()
	cfg := ingest.DefaultConfig()
	cfg.BatchSize, cfg.FlushInterval, cfg.RetryMin, cfg.RetryMax = 3, time.Hour, time.Millisecond, 5*time.Millisecond
	edit(&cfg)
	p := ingest.New(cfg, ingest.Deps{
		Source: src, Raw: sink, DeadLetters: sink, NewDecoder: func() *event.Decoder { return &event.Decoder{} },
		MaskCaller: func(s string) string { return "hash-of-" + strconv.Itoa(len(s)) },
		Retryable:  func(err error) bool { return errors.Is(err, errTransient) },
		Metrics:    ingest.NewMetrics(reg),
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, "calls")
	return src, sink, p, reg, log
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
	// The dead letter keeps the message with its caller hashed.
	if v := string(sink.dead[0].Msg.Value); v != `{"caller":"hash-of-11", not json` {
		t.Errorf("dead letter = %s", v)
	}
	// The writes run at once; the commit comes after all of them.
	assertWritesThenCommit(t, log.get(), []string{"dead_letter", "insert failed", "insert failed", "insert"}, "commit gen 1")
	if got := src.commits[0]; len(got) != 1 || got[0].Next != 13 {
		t.Errorf("commit = %+v, want next offset 13", got)
	}
	if n := counterValue(t, reg, "hotline_pipeline_flush_stage_failures_total", "insert"); n != 2 {
		t.Errorf("insert failures metric = %v", n)
	}
}

// A commit that fails while Kafka is away is retried with backoff by
// itself, without waiting for another flush, and the pipeline goes on.
func TestFailedCommitIsRetried(t *testing.T) {
	src, sink, p, reg, log := setup()
	src.gens[0].down = 3
	err := runUntil(t, p, func() bool { src.mu.Lock(); defer src.mu.Unlock(); return len(src.commits) > 0 })
	if err != nil {
		t.Fatal(err)
	}
	ops := log.get()
	if n := slices.Index(ops, "commit gen 1"); n < 3 || slices.Compact(slices.Clone(ops[n-3 : n]))[0] != "commit failed" ||
		slices.Index(ops, "commit failed") != n-3 {
		t.Errorf("ops = %v, want three failed commits, then one", ops)
	}
	if sink.events != 2 || src.commits[0][0].Next != 13 {
		t.Errorf("events %d, commit %+v", sink.events, src.commits)
	}
	if n := counterValue(t, reg, "hotline_pipeline_flush_stage_failures_total", "commit"); n != 3 {
		t.Errorf("commit failures metric = %v", n)
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
	src, sink, p, reg, _ := setup()
	g := src.gens[0]
	g.msgs = g.msgs[:1] // fewer than a batch: only the stop flushes it
	err := runUntil(t, p, func() bool { return consumed(t, reg) == 1 && g.delivered.Load() == 1 })
	if err != nil {
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

func consumed(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return counterValue(t, reg, "hotline_pipeline_messages_consumed_total", "calls")
}

// assigns counts the assignments in an operation log.
func assigns(ops []string) int {
	n := 0
	for _, op := range ops {
		if strings.HasPrefix(op, "assign ") {
			n++
		}
	}
	return n
}

// recordingState is a state stage that records what it is told.
type recordingState struct {
	log *opLog
}

func (r *recordingState) note(s string) { r.log.add(s) }
func (r *recordingState) Assign(_ context.Context, ps []kafkaio.Partition) ([]stored.StateRow, error) {
	r.note(fmt.Sprintf("assign %d", len(ps)))
	return nil, nil
}
func (r *recordingState) Apply(_ context.Context, recs []event.Record) ([]stored.StateRow, int, error) {
	r.note(fmt.Sprintf("apply %d", len(recs)))
	return []stored.StateRow{{}}, len(recs), nil
}
func (r *recordingState) Tick() []stored.StateRow  { return nil }
func (r *recordingState) Backlog() *stored.Backlog { return nil }
func (r *recordingState) Evict(uint64) int         { return 0 }
func (r *recordingState) Reported() uint64         { return 0 }
func (r *recordingState) Revoke(ps []kafkaio.Partition) {
	r.note(fmt.Sprintf("revoke %d", len(ps)))
}
func (r *recordingState) WriteStates(context.Context, []stored.StateRow) error {
	r.note("state")
	return nil
}
func (r *recordingState) WriteBacklog(context.Context, *stored.Backlog) error {
	r.note("backlog")
	return nil
}

// A rebalance ends the first generation: what it consumed is flushed and
// committed through it, its state is dropped, and the next generation
// starts from a fresh assignment. A generation whose commits are refused
// (it went stale) neither stops the pipeline nor commits anything.
func TestRebalanceFlushesCommitsAndRevokes(t *testing.T) {
	src, _, _, _, log := setup()
	msgs := src.gens[0].msgs
	src.gens = nil
	first := src.gen(msgs[0])
	second := src.gen(msgs[1:]...)
	second.stale = true
	src.gen() // the third generation, after the stale one
	st := &recordingState{log: log}
	cfg := ingest.DefaultConfig()
	cfg.BatchSize, cfg.FlushInterval, cfg.RetryMin, cfg.RetryMax = 100, time.Hour, time.Millisecond, 5*time.Millisecond
	sink := &fakeSink{log: log}
	reg := prometheus.NewRegistry()
	p := ingest.New(cfg, ingest.Deps{
		Source: src, Raw: sink, DeadLetters: sink, State: st, States: st, NewDecoder: func() *event.Decoder { return &event.Decoder{} },
		Retryable: func(err error) bool { return errors.Is(err, errTransient) },
		Metrics:   ingest.NewMetrics(reg),
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, "calls")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	// Each step waits for what the previous one started, so that a slow
	// machine cannot end a generation before it has read its messages.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in %v", what, log.get())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitLog := func(entry string) {
		t.Helper()
		waitFor(entry, func() bool { return slices.Contains(log.get(), entry) })
	}
	// A message is counted consumed before its handler hands it on, so a
	// generation ended at that moment would cancel the hand-over: wait for
	// the generation to have delivered it too.
	read := func(n float64, g *fakeGen, delivered int32) {
		t.Helper()
		waitFor(fmt.Sprint(n, " messages read"), func() bool { return consumed(t, reg) == n && g.delivered.Load() == delivered })
	}
	read(1, first, 1)
	close(first.end) // rebalance
	waitLog("commit gen 1")
	read(3, second, 2)
	close(second.end)
	waitLog("commit refused")
	waitFor("third assignment", func() bool { return assigns(log.get()) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := log.get()
	if len(got) != 15 {
		t.Fatalf("operations: %v", got)
	}
	for _, part := range []struct {
		from, to int
		ops      []string
		then     string
	}{{2, 4, []string{"insert", "state"}, "commit gen 1"}, {8, 11, []string{"dead_letter", "insert", "state"}, "commit refused"}} {
		assertWritesThenCommit(t, got[part.from:part.to+1], part.ops, part.then)
	}
	for i, op := range map[int]string{0: "assign 1", 1: "apply 1", 5: "revoke 1", 6: "assign 1", 7: "apply 1", 12: "revoke 1", 13: "assign 1", 14: "revoke 1"} {
		if got[i] != op {
			t.Errorf("operation %d = %q, want %q (all: %v)", i, got[i], op, got)
		}
	}
	if len(src.commits) != 1 || src.commits[0][0].Next != 11 {
		t.Errorf("commits %+v, want only generation 1's next offset 11", src.commits)
	}
}

// assertWritesThenCommit checks that ops are the writes in any order, then
// the commit.
func assertWritesThenCommit(t *testing.T, ops, writes []string, commit string) {
	t.Helper()
	if len(ops) != len(writes)+1 || ops[len(ops)-1] != commit {
		t.Fatalf("operations = %v, want %v in any order, then %s", ops, writes, commit)
	}
	got := slices.Sorted(slices.Values(ops[:len(writes)]))
	if !slices.Equal(got, slices.Sorted(slices.Values(writes))) {
		t.Fatalf("operations = %v, want %v in any order, then %s", ops, writes, commit)
	}
}

// A member that owns no partition (more members than partitions) waits
// for the next generation instead of stopping.
func TestIdleMemberWaitsForTheNextGeneration(t *testing.T) {
	src, sink, p, reg, _ := setup()
	msgs := src.gens[0].msgs
	src.gens = nil
	idle := src.gen()
	idle.parts = nil
	next := src.gen(msgs...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.AfterFunc(50*time.Millisecond, func() { close(idle.end) }) // the rebalance, some time later
	deadline := time.Now().Add(5 * time.Second)
	for (consumed(t, reg) < 3 || next.delivered.Load() < 3) && time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the idle member stopped: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.events != 2 {
		t.Errorf("after the idle generation: %d events stored, want 2", sink.events)
	}
}

// A batch behind a backlog (its latest message not its partition's last
// when fetched) is not flushed when the interval ends: it grows until it
// is full, catches up, or is behindWait (8) intervals old. A batch that
// has caught up is flushed at the interval's end, as live traffic is.
func TestBatchBehindABacklogGrows(t *testing.T) {
	const interval = 100 * time.Millisecond
	for _, tc := range []struct {
		name   string
		hwm    int64 // the partition's end when the messages were fetched
		behind bool
	}{{"behind", 1000, true}, {"caught up", 5, false}} {
		t.Run(tc.name, func(t *testing.T) {
			src, sink, p, _, _ := setupWith(func(c *ingest.Config) { c.BatchSize, c.FlushInterval, c.WriteInterval = 100, interval, interval })
			var msgs []kafkaio.Message
			for i := range 5 {
				msgs = append(msgs, kafkaio.Message{Topic: "calls", Partition: 0, Offset: int64(i), HighWaterMark: tc.hwm,
					Value: fmt.Appendf(nil, `{"event_id":"e%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"q"}`, i, i)})
			}
			src.gens[0].msgs = msgs
			inserted := func() int { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.events }
			start := time.Now()
			var at time.Duration
			err := runUntil(t, p, func() bool {
				if inserted() == 5 && at == 0 {
					at = time.Since(start)
				}
				return at > 0
			})
			if err != nil {
				t.Fatal(err)
			}
			if at == 0 {
				t.Fatal("the batch was never flushed")
			}
			switch {
			case tc.behind && at < 3*interval:
				t.Errorf("a batch behind a backlog was flushed after %v: it should grow for 8 intervals of %v", at, interval)
			case !tc.behind && at >= 7*interval:
				t.Errorf("a caught-up batch waited %v to be flushed (interval %v)", at, interval)
			}
			t.Logf("flushed after %v", at)
		})
	}
}

// Flushes apply the batch to the state stage every flush interval (the
// live metrics), and write it, with the states, and commit only when it is
// write_interval old: two flushes here, one write of both, then the commit.
func TestFlushesAppliedEveryIntervalWrittenTogether(t *testing.T) {
	const flushEvery, writeEvery = 50 * time.Millisecond, 600 * time.Millisecond
	src, _, _, _, log := setup()
	src.gens[0].gap, src.gens[0].gapWait = 1, 3*flushEvery
	st := &recordingState{log: log}
	cfg := ingest.DefaultConfig()
	cfg.BatchSize, cfg.FlushInterval, cfg.WriteInterval = 100, flushEvery, writeEvery
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	sink := &fakeSink{log: log}
	p := ingest.New(cfg, ingest.Deps{
		Source: src, Raw: sink, DeadLetters: sink, State: st, States: st, NewDecoder: func() *event.Decoder { return &event.Decoder{} },
		Retryable: func(err error) bool { return errors.Is(err, errTransient) },
		Metrics:   ingest.NewMetrics(prometheus.NewRegistry()),
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, "calls")
	start := time.Now()
	var wrote time.Duration
	err := runUntil(t, p, func() bool {
		if wrote == 0 && slices.Contains(log.get(), "insert") {
			wrote = time.Since(start)
		}
		return slices.Contains(log.get(), "commit gen 1")
	})
	if err != nil {
		t.Fatal(err)
	}
	got := log.get()
	if len(got) < 6 || !slices.Equal(got[:3], []string{"assign 1", "apply 1", "apply 1"}) {
		t.Fatalf("operations %v: want the two flushes applied before anything is written", got)
	}
	assertWritesThenCommit(t, got[3:7], []string{"dead_letter", "insert", "state"}, "commit gen 1")
	if wrote < writeEvery {
		t.Errorf("written after %v, before the write interval (%v)", wrote, writeEvery)
	}
	if len(src.commits) != 1 || src.commits[0][0].Next != 13 {
		t.Errorf("commits %+v, want one, next offset 13", src.commits)
	}
}

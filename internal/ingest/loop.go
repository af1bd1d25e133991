// Package ingest is the consume-decode-persist-commit loop of the
// production pipeline. For each generation of the consumer group it
// fetches the partitions this process owns, decodes every message with the
// event contract, feeds accepted events to the live state stage, writes
// rejected messages to the dead-letter sink and accepted events and changed
// states to the store, and commits offsets through the generation only
// after all of it is durable. Writing one batch overlaps with fetching,
// decoding and evaluating the next.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Source hands out the generations of the consumer group: the partitions
// this process owns until the next rebalance.
type Source interface {
	Next(ctx context.Context) (Generation, error)
}

// Generation is one assignment of partitions. Its commits are fenced:
// they fail once the group has moved to a later generation.
type Generation interface {
	Partitions() []kafkaio.Partition
	// Run runs fn with a context that ends with the generation or ctx; the
	// group waits for fn to return before it rejoins.
	Run(ctx context.Context, fn func(ctx context.Context) error) error
	// Fetch passes each owned partition's messages, in offset order, to the
	// handler open returns for it, until ctx ends (see kafkaio.Generation).
	Fetch(ctx context.Context, open func(kafkaio.Partition) kafkaio.Handler) error
	// Commit commits next offsets of owned partitions.
	Commit(ctx context.Context, offsets []kafkaio.Offset) error
}

// RawSink stores accepted events durably; writing the same records twice
// must not count them twice.
type RawSink interface {
	WriteRaw(ctx context.Context, recs []event.Record) error
}

// DeadLetterSink stores rejected messages durably.
type DeadLetterSink interface {
	WriteDeadLetters(ctx context.Context, dls []kafkaio.DeadLetter) error
}

// StateStage is the live state of the owned partitions (see livestate).
type StateStage interface {
	// Assign loads the state of newly owned partitions and returns states
	// to store before anything else (those that may be behind what is
	// stored); it can be retried.
	Assign(ctx context.Context, parts []kafkaio.Partition) ([]stored.StateRow, error)
	// Apply feeds records and returns the changed states, and keep: recs
	// [:keep] are the events to store raw. Apply moves the duplicates it
	// recognised (replays, and conflicting duplicates that lost to the event
	// already kept) after them, so that the raw tables keep the winner of a
	// conflict. When Apply fails nothing changed, so it can be retried.
	Apply(ctx context.Context, recs []event.Record) (rows []stored.StateRow, keep int, err error)
	// Tick evaluates as time passes and returns the changed states.
	Tick() []stored.StateRow
	// Backlog returns the latest count of the owned partitions' open
	// tickets once, nil when there is none new.
	Backlog() *stored.Backlog
	// Reported numbers the states returned so far (the latest Assign,
	// Apply or Tick returned those of report Reported()).
	Reported() uint64
	// Evict forgets idle state whose states are stored up to report stored.
	Evict(stored uint64) int
	// Revoke drops the state of partitions no longer owned.
	Revoke(parts []kafkaio.Partition)
}

// StateSink stores evaluated states durably; a row that knows fewer events
// never replaces one that knows more.
type StateSink interface {
	WriteStates(ctx context.Context, rows []stored.StateRow) error
	WriteBacklog(ctx context.Context, b *stored.Backlog) error
}

// Config tunes batching and retries.
type Config struct {
	// BatchSize is the most messages flushed at once.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a consumed message waits to be applied
	// to the state stage (and so to reach the live metrics).
	FlushInterval time.Duration `yaml:"flush_interval"`
	// WriteInterval is the longest applied messages wait to be written to
	// ClickHouse (and their offsets committed): flushes in between are
	// gathered into one write, since each insert is a new part of every
	// table for ClickHouse to write and merge.
	WriteInterval time.Duration `yaml:"write_interval"`
	// RetryMin and RetryMax bound the exponential backoff of failed writes.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// ShutdownTimeout bounds the final flush after a stop signal or a
	// rebalance.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BatchSize: 100000, FlushInterval: 500 * time.Millisecond, WriteInterval: 2 * time.Second, RetryMin: 200 * time.Millisecond,
		RetryMax: 10 * time.Second, ShutdownTimeout: 30 * time.Second}
}

// Validate checks the configuration and reports every problem it finds.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be positive"))
	}
	for _, kv := range [...]struct {
		key string
		d   time.Duration
	}{{"flush_interval", c.FlushInterval}, {"write_interval", c.WriteInterval}, {"retry_min", c.RetryMin}, {"retry_max", c.RetryMax}, {"shutdown_timeout", c.ShutdownTimeout}} {
		if kv.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", kv.key))
		}
	}
	if c.RetryMax < c.RetryMin {
		errs = append(errs, errors.New("retry_max: must not be below retry_min"))
	}
	return errors.Join(errs...)
}

// Deps are what a Pipeline works with.
type Deps struct {
	Source      Source
	Raw         RawSink
	DeadLetters DeadLetterSink
	// State and States, if set, evaluate accepted events and store the
	// changed states before the commit.
	State  StateStage
	States StateSink
	// NewDecoder returns a decoder for one partition's fetching goroutine
	// (a decoder is not safe for concurrent use).
	NewDecoder func() *event.Decoder
	// MaskCaller, if set, replaces the caller of a rejected message before
	// it is dead-lettered (event.MaskCaller with this hash).
	MaskCaller func(string) string
	// Retryable classifies errors: retryable ones are retried with backoff
	// for as long as the context lives; others stop the pipeline with its
	// offsets uncommitted.
	Retryable func(error) bool
	Metrics   *Metrics
	Log       *slog.Logger
}

// evictEvery is how often idle state is forgotten.
const evictEvery = 10 * time.Second

// Pipeline is the ingest loop. Run it once.
type Pipeline struct {
	cfg  Config
	d    Deps
	free chan []event.Record // record buffers of written flushes, for reuse
}

// New returns a pipeline; topics pre-create the metric series.
func New(cfg Config, d Deps, topics ...string) *Pipeline {
	d.Metrics.initTopics(topics...)
	return &Pipeline{cfg: cfg, d: d, free: make(chan []event.Record, 2)}
}

// Run consumes generation after generation until ctx ends, then flushes
// and commits what it holds (bounded by ShutdownTimeout) and returns nil.
// It returns an error when a write fails in a way that retrying cannot
// fix, or the source fails.
func (p *Pipeline) Run(ctx context.Context) error {
	b := kafkaio.Backoff{Min: p.cfg.RetryMin, Max: p.cfg.RetryMax}
	failures := 0
	for {
		gen, err := p.d.Source.Next(ctx)
		switch {
		case ctx.Err() != nil:
			p.d.Log.Info("pipeline stopped after final flush")
			return nil
		case err != nil && p.d.Retryable(err):
			failures++
			wait := b.Next()
			lvl := slog.LevelDebug // a broker outage is logged once, by the Link
			if failures == 1 && !kafkaio.Disconnection(err) {
				lvl = slog.LevelWarn
			}
			p.d.Log.Log(ctx, lvl, "joining the consumer group failed, retrying", "attempt", failures, "backoff", wait, "error", err)
			sleep(ctx, wait)
			continue
		case err != nil:
			return err
		}
		if failures > 0 {
			p.d.Log.Info("joined the consumer group", "after_failed_attempts", failures)
		}
		failures = 0
		b.Reset()
		err = gen.Run(ctx, func(gctx context.Context) error { return p.generation(gctx, gen) })
		switch {
		case errors.Is(err, errUnfinished) && ctx.Err() == nil:
			// The generation ended (Kafka went away, a rebalance) before its
			// last flush could be made durable and committed: nothing of it
			// is committed, so its messages come again to whoever owns the
			// partitions next.
			p.d.Log.Warn("generation ended before its final flush was durable; its messages will be delivered again", "error", err)
		case err != nil:
			return err
		}
	}
}

// errUnfinished marks a generation whose final flush did not complete
// within ShutdownTimeout: a reason to rejoin, not to stop.
var errUnfinished = errors.New("final flush unfinished")

// sleep waits d or until ctx ends; it reports whether d passed.
var sleep = kafkaio.Sleep

// generation consumes the owned partitions until the generation or the
// process ends, then flushes, commits and gives the partitions up.
func (p *Pipeline) generation(ctx context.Context, gen Generation) error {
	parts := gen.Partitions()
	p.d.Log.Info("generation started", "partitions", len(parts))
	p.d.Metrics.generations.Inc()
	p.d.Metrics.assigned.Set(float64(len(parts)))
	var behind []stored.StateRow
	if p.d.State != nil {
		err := p.retry(ctx, stageAssign, func(ctx context.Context) (err error) {
			behind, err = p.d.State.Assign(ctx, parts)
			return err
		})
		if err != nil {
			p.d.State.Revoke(parts)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	w := p.newWriter(gen)
	if len(behind) > 0 {
		_ = w.submit(ctx, &flush{rows: behind, report: p.d.State.Reported()}) // the writer is fresh: this does not block
	}
	msgs := make(chan *fetched, fetchedBuffer)
	fetchCtx, stopFetch := context.WithCancel(ctx)
	f := &fetcher{done: make(chan struct{})}
	go func() { f.err = gen.Fetch(fetchCtx, p.decodeInto(msgs)); close(f.done) }()

	pending, err := p.consume(ctx, msgs, f, w)
	stopFetch()
	<-f.done
	if err == nil {
		err = p.drain(pending, msgs, w)
	} else {
		w.abort()
	}
	if p.d.State != nil {
		p.d.State.Revoke(parts)
	}
	p.d.Metrics.forget(parts)
	return err
}

// fetcher is the fetching goroutine of a generation: done is closed when
// it has stopped, err then says why (nil: its context ended, or it had no
// partition to read).
type fetcher struct {
	done chan struct{}
	err  error
}

// consume batches messages and hands flushes to the writer until ctx ends
// or something fails. It returns the batch not yet handed over: it must be
// flushed before anything consumed after it.
func (p *Pipeline) consume(ctx context.Context, msgs <-chan *fetched, f *fetcher, w *writer) (*batch, error) {
	fetched := f.done
	b := p.newBatch()
	tick := time.NewTicker(p.cfg.FlushInterval)
	defer tick.Stop()
	lastEvict := time.Now()
	due := false // the interval has passed while the batch was behind
	for {
		select {
		case m := <-msgs:
			p.add(b, m)
			p.addReady(b, msgs)
			switch {
			case due && !p.behind(b):
				due = false
				if err := p.flushDue(ctx, b, w, &lastEvict); err != nil {
					return b, p.stopped(ctx, err)
				}
			case b.len() >= p.cfg.BatchSize:
				if err := p.flush(ctx, b, w); err != nil {
					return b, p.stopped(ctx, err)
				}
			}
		case <-tick.C:
			if p.behind(b) {
				due = true // a backlog: the batch grows (see behind)
				continue
			}
			due = false
			if err := p.flushDue(ctx, b, w, &lastEvict); err != nil {
				return b, p.stopped(ctx, err)
			}
		case <-fetched:
			if f.err != nil && ctx.Err() == nil {
				return b, fmt.Errorf("fetch from kafka: %w", f.err)
			}
			fetched = nil // the fetcher ended cleanly: wait for the generation's end
		case <-w.failed:
			return b, w.err
		case <-ctx.Done():
			return b, nil
		}
	}
}

// behindWait is how many flush intervals a batch may grow while it is
// behind.
const behindWait = 8

// behind reports whether the batch is catching up with a backlog: its
// latest message was not its partition's last when fetched, and the batch
// is younger than behindWait intervals. Such a batch is not flushed when
// the interval ends but when it is full, catches up or grows old: a
// backlog is written in fewer, larger inserts (each insert is a new part
// of every table for ClickHouse to write and merge later), while live
// traffic is flushed every interval as before.
func (p *Pipeline) behind(b *batch) bool {
	return b.lagging && time.Since(b.started) < behindWait*p.cfg.FlushInterval
}

// flushDue applies the batch when its interval is over, does the
// interval's own work (time-driven state rows, evictions), and hands the
// batch to the writer when it is WriteInterval old.
func (p *Pipeline) flushDue(ctx context.Context, b *batch, w *writer, lastEvict *time.Time) error {
	if err := p.apply(ctx, b); err != nil {
		return err
	}
	p.tick(b, w, lastEvict)
	if time.Since(b.opened) < p.cfg.WriteInterval {
		return nil
	}
	return p.write(ctx, b, w)
}

// stopped turns an error caused by the end of ctx into a clean stop.
func (p *Pipeline) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// drain flushes what was consumed before the end of the generation (the
// pending batch first), with a fresh deadline, and waits until it is
// written and committed.
func (p *Pipeline) drain(pending *batch, msgs <-chan *fetched, w *writer) error {
	b := newBatch()
	for len(msgs) > 0 { // the fetcher has stopped, so this never blocks
		p.add(b, <-msgs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	for _, b := range []*batch{pending, b} {
		if err := p.flush(ctx, b, w); err != nil {
			w.abort()
			return unfinished(ctx, err)
		}
	}
	if err := w.close(ctx); err != nil {
		return unfinished(ctx, err)
	}
	return nil
}

// unfinished wraps a final flush's error: as errUnfinished when the
// flush ran out of time (a store or Kafka still away), as it is when a
// write failed for good.
func unfinished(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("final flush: %w: %w", errUnfinished, err)
	}
	return fmt.Errorf("final flush: %w", err)
}

// addReady adds the messages already waiting, up to the batch size, without
// going back through the loop's select for each.
func (p *Pipeline) addReady(b *batch, msgs <-chan *fetched) {
	for b.len() < p.cfg.BatchSize {
		select {
		case m := <-msgs:
			p.add(b, m)
		default:
			return
		}
	}
}

// fetched is a message as its partition's fetching goroutine decoded it:
// its event, or why it was rejected.
type fetched struct {
	m   kafkaio.Message
	e   event.Event
	err error
}

// fetchedBuffer is how many decoded messages wait for the batch at most.
const fetchedBuffer = 1024

// decodeInto returns the handlers that decode each partition's messages on
// its own fetching goroutine, with a decoder of its own, and send them to
// out: decoding runs beside the state stage instead of before it.
//
// Each partition decodes into a ring of fetchedBuffer+2 slots, so nothing
// is allocated per message: a slot is reused only after the consumer has
// taken the message in it into a batch. At most fetchedBuffer messages of
// any partitions wait in out and the consumer holds one (it receives the
// next only when it is done with the last), so when a partition writes its
// n-th message, its (n - len(ring))-th has been received and taken.
func (p *Pipeline) decodeInto(out chan<- *fetched) func(kafkaio.Partition) kafkaio.Handler {
	return func(part kafkaio.Partition) kafkaio.Handler {
		dec := p.d.NewDecoder()
		consumed, lag := p.d.Metrics.partition(part)
		ring, next := make([]fetched, cap(out)+2), 0
		return func(ctx context.Context, m kafkaio.Message) error {
			consumed.Inc()
			lag.Set(float64(m.Lag()))
			f := &ring[next]
			next = (next + 1) % len(ring)
			f.m = m
			f.err = dec.DecodeInto(m.Value, &f.e)
			select {
			case out <- f:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// add puts a fetched message into the batch: its event, or its dead letter.
func (p *Pipeline) add(b *batch, f *fetched) {
	if f.err != nil {
		m := f.m
		reason := event.ReasonOf(f.err)
		p.d.Metrics.rejected.WithLabelValues(m.Topic, string(reason)).Inc()
		p.d.Log.Warn("rejected message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset,
			"reason", reason, "error", f.err)
		if p.d.MaskCaller != nil {
			m.Value = event.MaskCaller(m.Value, p.d.MaskCaller)
		}
		b.reject(m, reason, f.err)
		return
	}
	b.accept(f.m, &f.e)
}

// tick lets the state stage evaluate as time passes, adding the states
// that changed and the count of open tickets to the batch, and every
// evictEvery forgets idle state whose states the writer has stored.
func (p *Pipeline) tick(b *batch, w *writer, lastEvict *time.Time) {
	if p.d.State == nil {
		return
	}
	if rows := p.d.State.Tick(); len(rows) > 0 {
		b.rows = append(b.rows, rows...)
		b.report = p.d.State.Reported()
	}
	if backlog := p.d.State.Backlog(); backlog != nil {
		b.backlog = backlog
	}
	if time.Since(*lastEvict) < evictEvery {
		return
	}
	*lastEvict = time.Now()
	if n := p.d.State.Evict(w.stored.Load()); n > 0 {
		p.d.Log.Debug("evicted idle calls and tickets", "count", n)
	}
}

// retry runs op until it succeeds, fails permanently, or ctx ends, with
// exponential backoff between RetryMin and RetryMax.
func (p *Pipeline) retry(ctx context.Context, stage string, op func(context.Context) error) error {
	wait := p.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := op(ctx)
		if err == nil {
			p.d.Metrics.stageDuration.WithLabelValues(stage).Observe(time.Since(start).Seconds())
			if attempt > 1 {
				p.d.Log.Info("stage recovered", "stage", stage, "failed_attempts", attempt-1)
			}
			return nil
		}
		p.d.Metrics.stageFailures.WithLabelValues(stage).Inc()
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		if !p.d.Retryable(err) {
			return fmt.Errorf("%s failed permanently: %w", stage, err)
		}
		lvl := slog.LevelDebug // later attempts, and Kafka outages (the Link logs those once)
		if attempt == 1 && !kafkaio.Disconnection(err) {
			lvl = slog.LevelWarn
		}
		p.d.Log.Log(ctx, lvl, "stage failed, retrying", "stage", stage, "attempt", attempt, "backoff", wait, "error", err)
		if !sleep(ctx, wait) {
			return errors.Join(ctx.Err(), err)
		}
		wait = min(wait*2, p.cfg.RetryMax)
	}
}

// GroupSource is the Source of a Kafka consumer group.
func GroupSource(g *kafkaio.Group) Source { return groupSource{g} }

type groupSource struct{ g *kafkaio.Group }

func (s groupSource) Next(ctx context.Context) (Generation, error) {
	gen, err := s.g.Next(ctx)
	if err != nil {
		return nil, err
	}
	return gen, nil
}

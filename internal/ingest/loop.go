// Package ingest runs the raw path: it takes messages from a source,
// decodes them with the event contract, writes accepted events to the raw
// store and rejected ones to the dead-letter sink, and commits the source
// offsets only after both writes are durable.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// Source yields messages and takes commits of offsets below which every
// message is durably processed.
type Source interface {
	Fetch(ctx context.Context) (kafkaio.Message, error)
	Commit(ctx context.Context, offsets []kafkaio.Offset) error
}

// RawSink stores accepted events durably; writing the same records twice
// must not count them twice.
type RawSink interface {
	WriteRaw(ctx context.Context, recs []event.Record) error
}

// StateSink is the stateful stage: it feeds durable events to the
// indicator core and stores what they change. Apply is retried with the
// same records after an error, so it must be idempotent; Tick evaluates
// as time passes (deadlines) when no events come.
type StateSink interface {
	Apply(ctx context.Context, recs []event.Record) error
	Tick(ctx context.Context) error
}

// DeadLetterSink stores rejected messages durably.
type DeadLetterSink interface {
	WriteDeadLetters(ctx context.Context, dls []kafkaio.DeadLetter) error
}

// Config tunes batching and retries.
type Config struct {
	// BatchSize is the most messages flushed at once.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a consumed message waits to be flushed.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// RetryMin and RetryMax bound the exponential backoff of failed writes.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// ShutdownTimeout bounds the final flush after a stop signal.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BatchSize: 10000, FlushInterval: time.Second, RetryMin: 200 * time.Millisecond,
		RetryMax: 10 * time.Second, ShutdownTimeout: 30 * time.Second}
}

// Validate checks the configuration and reports every problem it finds.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be positive"))
	}
	for key, d := range map[string]time.Duration{"flush_interval": c.FlushInterval, "retry_min": c.RetryMin,
		"retry_max": c.RetryMax, "shutdown_timeout": c.ShutdownTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", key))
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
	// State, if set, runs after the raw insert and before the commit.
	State   StateSink
	Decoder *event.Decoder
	// Retryable classifies write errors: retryable ones are retried with
	// backoff for as long as the context lives; others stop the pipeline
	// with its offsets uncommitted.
	Retryable func(error) bool
	Metrics   *Metrics
	Log       *slog.Logger
}

// Pipeline is the raw path. Run it once.
type Pipeline struct {
	cfg Config
	d   Deps
}

// New returns a pipeline; topics pre-create the metric series.
func New(cfg Config, d Deps, topics ...string) *Pipeline {
	d.Metrics.initTopics(topics...)
	return &Pipeline{cfg: cfg, d: d}
}

// Run consumes until ctx ends, then flushes and commits what it holds
// (bounded by ShutdownTimeout) and returns nil. It returns an error when a
// write fails in a way that retrying cannot fix, or the source fails.
func (p *Pipeline) Run(ctx context.Context) error {
	msgs := make(chan kafkaio.Message, p.cfg.BatchSize)
	fetchErr := make(chan error, 1)
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	go p.fetch(fetchCtx, msgs, fetchErr)

	b := newBatch()
	tick := time.NewTicker(p.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case m := <-msgs:
			p.add(b, m)
			if b.len() >= p.cfg.BatchSize {
				if err := p.flush(ctx, b); err != nil {
					return p.stopped(ctx, err)
				}
			}
		case <-tick.C:
			if err := p.flush(ctx, b); err != nil {
				return p.stopped(ctx, err)
			}
			if err := p.tick(ctx); err != nil {
				return p.stopped(ctx, err)
			}
		case err := <-fetchErr:
			if ctx.Err() == nil {
				return fmt.Errorf("fetch from kafka: %w", err)
			}
		case <-ctx.Done():
			return p.drain(msgs, b)
		}
	}
}

// stopped turns an error caused by shutdown into a clean stop.
func (p *Pipeline) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (p *Pipeline) fetch(ctx context.Context, out chan<- kafkaio.Message, errc chan<- error) {
	for {
		m, err := p.d.Source.Fetch(ctx)
		if err != nil {
			errc <- err
			return
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// drain flushes what was consumed before the stop, with a fresh deadline.
func (p *Pipeline) drain(msgs <-chan kafkaio.Message, b *batch) error {
	for len(msgs) > 0 { // only this goroutine receives, so this never blocks
		p.add(b, <-msgs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	if err := p.flush(ctx, b); err != nil {
		return fmt.Errorf("final flush: %w", err)
	}
	p.d.Log.Info("pipeline stopped after final flush")
	return nil
}

// add decodes m into the batch.
func (p *Pipeline) add(b *batch, m kafkaio.Message) {
	p.d.Metrics.consumed.WithLabelValues(m.Topic).Inc()
	p.d.Metrics.observeLag(m.Topic, m.Partition, m.Lag())
	e, err := p.d.Decoder.Decode(m.Value)
	if err != nil {
		reason := event.ReasonOf(err)
		p.d.Metrics.rejected.WithLabelValues(m.Topic, string(reason)).Inc()
		p.d.Log.Warn("rejected message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset,
			"reason", reason, "error", err)
		b.reject(m, reason, err)
		return
	}
	b.accept(m, e)
}

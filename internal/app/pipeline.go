package app

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
)

// Parts are what a streaming pipeline is assembled from: where it reads
// (Kafka), how it evaluates, and where it stores. `run` supplies
// ClickHouse and the caller-hash decoder; the demo supplies the in-memory
// store (or ClickHouse) and the simulator's clock. Everything else (the
// consumer group, the dead-letter writer, the Link that watches Kafka, the
// live state stage and its metrics, the ingest loop) is built the same way
// for both by Assemble.
type Parts struct {
	Kafka    kafkaio.Config
	Pipeline ingest.Config
	Stream   livestate.Config
	Profiles *indicator.Profiles
	// Store is what the state stage reads back (calls and tickets owned
	// before, open tickets); Raw and States are where the loop writes.
	Store  livestate.Store
	Raw    ingest.RawSink
	States ingest.StateSink
	// NewDecoder returns one partition's decoder; MaskCaller, if set,
	// hashes callers of dead letters (see ingest.Deps).
	NewDecoder func() *event.Decoder
	MaskCaller func(string) string
	Clock      func() time.Time
	Registry   *prometheus.Registry
	Log        *slog.Logger
}

// Pipeline is an assembled streaming pipeline: run Loop.Run, serve
// /healthz with Link.Ready, and Close when done.
type Pipeline struct {
	Loop  *ingest.Pipeline
	Stage *livestate.Stage
	Link  *kafkaio.Link
	close []func() error
}

// Assemble builds the pipeline of p. Nothing talks to Kafka before the
// loop runs.
func Assemble(p Parts) (*Pipeline, error) {
	out := &Pipeline{}
	// One Link hears of every exchange with the brokers: it logs an outage
	// once, keeps the connection gauges and turns /healthz not-ready.
	out.Link = kafkaio.NewLink(p.Kafka, p.Log)
	out.close = append(out.close, func() error { out.Link.Close(); return nil })
	out.Link.Register(p.Registry)
	group, err := kafkaio.NewGroup(p.Kafka, p.Log, out.Link)
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	out.close = append(out.close, group.Close)
	dlq, err := kafkaio.NewDeadLetterWriter(p.Kafka, out.Link)
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	out.close = append(out.close, dlq.Close)
	out.Stage = livestate.New(p.Stream, p.Profiles, p.Store, p.Kafka.Topics, p.Clock, p.Log)
	out.Stage.Instrument(livestate.NewMetrics(p.Registry))
	out.Loop = ingest.New(p.Pipeline, ingest.Deps{
		Source:      ingest.GroupSource(group),
		Raw:         p.Raw,
		State:       out.Stage,
		States:      p.States,
		DeadLetters: dlq,
		NewDecoder:  p.NewDecoder,
		MaskCaller:  p.MaskCaller,
		Retryable:   Retryable,
		Metrics:     ingest.NewMetrics(p.Registry),
		Log:         p.Log,
	}, p.Kafka.Topics.Inputs()...)
	return out, nil
}

// Close closes what Assemble opened, last first.
func (p *Pipeline) Close() error {
	var errs []error
	for i := len(p.close) - 1; i >= 0; i-- {
		errs = append(errs, p.close[i]())
	}
	p.close = nil
	return errors.Join(errs...)
}

// Retryable classifies the pipeline's errors, in one place: a refused
// login or permission never succeeds by waiting; transient ClickHouse and
// Kafka errors and a lost connection do.
func Retryable(err error) bool {
	return !kafkaio.Permanent(err) && (chstore.Retryable(err) || kafkaio.Retryable(err) || kafkaio.Disconnection(err))
}

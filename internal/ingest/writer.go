package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// writer makes flushes durable one at a time, in the order they were
// submitted, and commits each flush's offsets through the generation only
// after its writes succeeded. While it writes one flush, the loop prepares
// the next; at most one more waits. After a failure it writes and commits
// nothing more, so no offset passes a message that is not stored.
type writer struct {
	p       *Pipeline
	gen     Generation
	flushes chan *flush
	done    chan struct{} // closed when the writer has stopped
	failed  chan struct{} // closed on a permanent failure; err says why
	err     error
	ctx     context.Context // the writes' context: outlives the generation's
	cancel  context.CancelFunc
	once    sync.Once
	stored  atomic.Uint64 // the state stage's reports stored so far
	// pending are the next offsets of durable flushes not committed yet
	// (a commit failed): the next commit carries them, and while there
	// are any the writer retries with backoff.
	pending map[partitionKey]int64
	backoff kafkaio.Backoff
}

func (p *Pipeline) newWriter(gen Generation) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{p: p, gen: gen, flushes: make(chan *flush, 1), done: make(chan struct{}),
		failed: make(chan struct{}), ctx: ctx, cancel: cancel, pending: map[partitionKey]int64{},
		backoff: kafkaio.Backoff{Min: p.cfg.RetryMin, Max: p.cfg.RetryMax}}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	var retry <-chan time.Time
	for {
		select {
		case f, ok := <-w.flushes:
			if !ok {
				if len(w.pending) > 0 && w.err == nil {
					w.commitPending() // the last word before the generation is given up
				}
				return
			}
			if w.err != nil {
				continue
			}
			d, err := w.p.persist(w.ctx, f)
			if err != nil {
				w.err = err
				close(w.failed)
				continue
			}
			if f.report > w.stored.Load() {
				w.stored.Store(f.report)
			}
			w.p.count(d)
			w.hold(d)
			w.commitPending()
			w.p.recycle(f.recs)
		case <-retry:
			w.commitPending()
		}
		retry = nil
		if len(w.pending) > 0 {
			retry = time.After(w.backoff.Next())
		} else {
			w.backoff.Reset()
		}
	}
}

// submit queues f; it blocks while the writer is busy with an earlier one.
func (w *writer) submit(ctx context.Context, f *flush) error {
	select {
	case w.flushes <- f:
		return nil
	case <-w.failed:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close waits for every submitted flush to be written and committed, until
// ctx ends; then it stops the writer, abandoning what is left uncommitted.
func (w *writer) close(ctx context.Context) error {
	w.once.Do(func() { close(w.flushes) })
	defer w.cancel()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return ctx.Err()
	}
}

// abort stops the writer at once: what is not yet committed stays so.
func (w *writer) abort() {
	w.cancel()
	w.once.Do(func() { close(w.flushes) })
	<-w.done
}

// durable is proof that every message of a flush is stored: only persist
// makes one, and commit takes nothing else. The offsets it carries are
// gap-free because a flush holds every message fetched since the previous
// one of the same generation, and the writer persists flushes in order.
type durable struct{ f *flush }

// persist writes a flush's dead letters, raw events and states, the three
// at once (they are independent, and the stores work in parallel), each
// retried on its own. It fails when any of them fails for good.
func (p *Pipeline) persist(ctx context.Context, f *flush) (durable, error) {
	steps := []struct {
		stage string
		skip  bool
		op    func(context.Context) error
	}{
		{stageDeadLetter, len(f.dead) == 0, func(ctx context.Context) error { return p.d.DeadLetters.WriteDeadLetters(ctx, f.dead) }},
		{stageInsert, len(f.recs) == 0, func(ctx context.Context) error { return p.d.Raw.WriteRaw(ctx, f.recs) }},
		{stageState, (len(f.rows) == 0 && f.backlog == nil) || p.d.States == nil, func(ctx context.Context) error {
			if len(f.rows) > 0 {
				if err := p.d.States.WriteStates(ctx, f.rows); err != nil {
					return err
				}
			}
			if f.backlog != nil {
				return p.d.States.WriteBacklog(ctx, f.backlog)
			}
			return nil
		}},
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range steps {
		if !s.skip {
			g.Go(func() error { return p.retry(gctx, s.stage, s.op) })
		}
	}
	if err := g.Wait(); err != nil {
		return durable{}, err
	}
	return durable{f: f}, nil
}

// count counts what a durable flush made durable.
func (p *Pipeline) count(d durable) {
	m := p.d.Metrics
	if d.f.n > 0 {
		m.batchSize.Observe(float64(d.f.n))
	}
	m.written.WithLabelValues("call").Add(float64(d.f.calls))
	m.written.WithLabelValues("ticket").Add(float64(d.f.tickets))
	m.deadLettered.Add(float64(len(d.f.dead)))
}

// hold adds the offsets of a durable flush to those waiting to be
// committed. It takes only the proof that the flush is stored, and flushes
// reach it in order, so each partition's highest offset has no gap below it.
func (w *writer) hold(d durable) {
	for _, o := range d.f.offsets {
		k := partitionKey{o.Topic, o.Partition}
		w.pending[k] = max(w.pending[k], o.Next)
	}
}

// commitPending commits the held offsets through the generation. A failed
// commit (Kafka unreachable, a coordinator moving) keeps them for the next
// attempt; a commit refused because the generation has ended drops them:
// the messages will be delivered again and the stores collapse the replay.
// Neither stops the pipeline.
func (w *writer) commitPending() {
	if len(w.pending) == 0 {
		return
	}
	offsets := make([]kafkaio.Offset, 0, len(w.pending))
	for k, next := range w.pending {
		offsets = append(offsets, kafkaio.Offset{Topic: k.topic, Partition: k.partition, Next: next})
	}
	m, log := w.p.d.Metrics, w.p.d.Log
	start := time.Now()
	err := w.gen.Commit(w.ctx, offsets)
	switch {
	case err == nil:
		clear(w.pending)
		m.stageDuration.WithLabelValues(stageCommit).Observe(time.Since(start).Seconds())
		m.commits.Inc()
		m.lastCommitTime.SetToCurrentTime()
		return
	case errors.Is(err, kafkaio.ErrStaleGeneration):
		clear(w.pending)
		log.Warn("offset commit refused: the group has moved on; the messages will be delivered again", "error", err)
	case kafkaio.Disconnection(err):
		log.Debug("offset commit failed, will retry", "error", err) // the Link logs the outage once
	default:
		log.Warn("offset commit failed, will retry", "error", err)
	}
	m.stageFailures.WithLabelValues(stageCommit).Inc()
}

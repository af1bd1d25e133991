package ingest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
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
}

func (p *Pipeline) newWriter(gen Generation) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{p: p, gen: gen, flushes: make(chan *flush, 1), done: make(chan struct{}),
		failed: make(chan struct{}), ctx: ctx, cancel: cancel}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	for f := range w.flushes {
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
		w.p.commit(w.ctx, w.gen, d)
		w.p.recycle(f.recs)
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

// commit commits the offsets of a durable flush and counts what it made
// durable. A failed commit (a rebalance, a stale generation) is logged and
// counted but does not stop the pipeline: the messages will be delivered
// again and the stores collapse the replay.
func (p *Pipeline) commit(ctx context.Context, gen Generation, d durable) {
	m := p.d.Metrics
	if d.f.n > 0 {
		m.batchSize.Observe(float64(d.f.n))
	}
	m.written.WithLabelValues("call").Add(float64(d.f.calls))
	m.written.WithLabelValues("ticket").Add(float64(d.f.tickets))
	m.deadLettered.Add(float64(len(d.f.dead)))
	if len(d.f.offsets) == 0 {
		return
	}
	start := time.Now()
	if err := gen.Commit(ctx, d.f.offsets); err != nil {
		m.stageFailures.WithLabelValues(stageCommit).Inc()
		p.d.Log.Warn("offset commit failed; the messages will be delivered again", "error", err)
		return
	}
	m.stageDuration.WithLabelValues(stageCommit).Observe(time.Since(start).Seconds())
	m.commits.Inc()
	m.lastCommitTime.SetToCurrentTime()
}

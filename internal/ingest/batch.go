package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// Flush stages, also the `stage` label values.
const (
	stageDeadLetter = "dead_letter"
	stageInsert     = "insert"
	stageState      = "state"
	stageCommit     = "commit"
)

type partitionKey struct {
	topic     string
	partition int32
}

// batch holds the messages consumed since the last flush: their decoded
// events, their rejections, and the next offset of each partition.
type batch struct {
	recs    []event.Record
	dead    []kafkaio.DeadLetter
	next    map[partitionKey]int64
	n       int
	calls   int
	tickets int
}

func newBatch() *batch { return &batch{next: map[partitionKey]int64{}} }

func (b *batch) len() int { return b.n }

func (b *batch) track(m kafkaio.Message) {
	b.n++
	k := partitionKey{m.Topic, m.Partition}
	if m.Offset+1 > b.next[k] {
		b.next[k] = m.Offset + 1
	}
}

func (b *batch) accept(m kafkaio.Message, e event.Event) {
	b.track(m)
	b.recs = append(b.recs, event.Record{Event: e, Origin: event.Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}})
	if e.Type.IsCall() {
		b.calls++
	} else {
		b.tickets++
	}
}

func (b *batch) reject(m kafkaio.Message, reason event.Reason, err error) {
	b.track(m)
	b.dead = append(b.dead, kafkaio.DeadLetter{Msg: m, Reason: string(reason), Err: err.Error()})
}

func (b *batch) reset() {
	b.recs, b.dead = b.recs[:0], b.dead[:0]
	clear(b.next)
	b.n, b.calls, b.tickets = 0, 0, 0
}

// durable is proof that every message of a batch is stored: only persist
// makes one, and commit takes nothing else. The offsets it carries are
// gap-free because a batch holds every message fetched since the last
// flush, and flushes run one at a time.
type durable struct{ offsets []kafkaio.Offset }

// flush makes the batch durable, then commits its offsets.
func (p *Pipeline) flush(ctx context.Context, b *batch) error {
	if b.len() == 0 {
		return nil
	}
	d, err := p.persist(ctx, b)
	if err != nil {
		return err
	}
	p.d.Metrics.batchSize.Observe(float64(b.len()))
	p.d.Metrics.written.WithLabelValues("call").Add(float64(b.calls))
	p.d.Metrics.written.WithLabelValues("ticket").Add(float64(b.tickets))
	p.d.Metrics.deadLettered.Add(float64(len(b.dead)))
	b.reset()
	return p.commit(ctx, d)
}

func (p *Pipeline) persist(ctx context.Context, b *batch) (durable, error) {
	if len(b.dead) > 0 {
		if err := p.retry(ctx, stageDeadLetter, func(ctx context.Context) error {
			return p.d.DeadLetters.WriteDeadLetters(ctx, b.dead)
		}); err != nil {
			return durable{}, err
		}
	}
	if len(b.recs) > 0 {
		if err := p.retry(ctx, stageInsert, func(ctx context.Context) error {
			return p.d.Raw.WriteRaw(ctx, b.recs)
		}); err != nil {
			return durable{}, err
		}
		if p.d.State != nil {
			if err := p.retry(ctx, stageState, func(ctx context.Context) error {
				return p.d.State.Apply(ctx, b.recs)
			}); err != nil {
				return durable{}, err
			}
		}
	}
	d := durable{offsets: make([]kafkaio.Offset, 0, len(b.next))}
	for k, next := range b.next {
		d.offsets = append(d.offsets, kafkaio.Offset{Topic: k.topic, Partition: k.partition, Next: next})
	}
	return d, nil
}

// tick lets the stateful stage evaluate as time passes.
func (p *Pipeline) tick(ctx context.Context) error {
	if p.d.State == nil {
		return nil
	}
	return p.retry(ctx, stageState, p.d.State.Tick)
}

// commit commits the offsets of a durable batch. A failed commit (for
// example during a rebalance) is logged and counted but does not stop the
// pipeline: the messages will be delivered again and the raw tables
// collapse the replay by event_id.
func (p *Pipeline) commit(ctx context.Context, d durable) error {
	start := time.Now()
	if err := p.d.Source.Commit(ctx, d.offsets); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.d.Metrics.stageFailures.WithLabelValues(stageCommit).Inc()
		p.d.Log.Warn("offset commit failed; the batch will be redelivered", "error", err)
		return nil
	}
	p.d.Metrics.stageDuration.WithLabelValues(stageCommit).Observe(time.Since(start).Seconds())
	p.d.Metrics.commits.Inc()
	p.d.Metrics.lastCommitTime.SetToCurrentTime()
	return nil
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
			return nil
		}
		p.d.Metrics.stageFailures.WithLabelValues(stage).Inc()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !p.d.Retryable(err) {
			return fmt.Errorf("%s failed permanently: %w", stage, err)
		}
		p.d.Log.Warn("write failed, retrying", "stage", stage, "attempt", attempt, "backoff", wait, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		}
		wait = min(wait*2, p.cfg.RetryMax)
	}
}

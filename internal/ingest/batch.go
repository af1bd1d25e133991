package ingest

import (
	"context"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Flush stages, also the `stage` label values.
const (
	stageAssign     = "assign"
	stageDeadLetter = "dead_letter"
	stageInsert     = "insert"
	stageApply      = "apply"
	stageState      = "state"
	stageCommit     = "commit"
)

type partitionKey struct {
	topic     string
	partition int32
}

// batch holds the messages consumed since the last flush: their decoded
// events, their rejections, the next offset of each partition, and, once
// the state stage has seen the events, the states they changed. Flushes
// apply it as it grows; it is written when WriteInterval old or full.
type batch struct {
	recs    []event.Record
	dead    []kafkaio.DeadLetter
	next    map[partitionKey]int64
	n       int
	calls   int
	tickets int
	rows    []stored.StateRow
	backlog *stored.Backlog // the latest count of open tickets
	report  uint64          // the state stage's report of rows
	applied int             // recs[:applied] were applied: rows hold the states they changed
	opened  time.Time       // when the batch was made
	started time.Time       // when the first message was added
	lagging bool            // the latest message was behind its partition's end
}

func newBatch() *batch { return &batch{next: map[partitionKey]int64{}, opened: time.Now()} }

// newBatch returns an empty batch whose records reuse the buffer of a
// batch already written, when there is one: a batch of records is large,
// and growing a fresh one for every flush costs more than its decoding.
func (p *Pipeline) newBatch() *batch {
	b := newBatch()
	select {
	case b.recs = <-p.free:
	default:
		b.recs = make([]event.Record, 0, p.cfg.BatchSize)
	}
	return b
}

// recycle keeps the record buffer of a written flush for a later batch.
func (p *Pipeline) recycle(recs []event.Record) {
	if cap(recs) == 0 {
		return
	}
	select {
	case p.free <- recs[:0]:
	default:
	}
}

func (b *batch) len() int { return b.n }

func (b *batch) track(m kafkaio.Message) {
	if b.n == 0 {
		b.started = time.Now()
	}
	b.lagging = m.Lag() > 0
	b.n++
	k := partitionKey{m.Topic, m.Partition}
	if m.Offset+1 > b.next[k] {
		b.next[k] = m.Offset + 1
	}
}

func (b *batch) accept(m kafkaio.Message, e *event.Event) {
	b.track(m)
	b.recs = append(b.recs, event.Record{Event: *e, Origin: event.Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}})
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

// flush is what the writer makes durable (dead letters, raw events and
// states, written at once) before it commits the offsets.
type flush struct {
	recs    []event.Record
	dead    []kafkaio.DeadLetter
	rows    []stored.StateRow
	backlog *stored.Backlog // a count of open tickets to store with the states
	offsets []kafkaio.Offset
	n       int
	calls   int
	tickets int
	report  uint64 // the state stage's report the rows belong to
}

// flush applies what the batch holds that the state stage has not seen
// and hands the batch to the writer.
func (p *Pipeline) flush(ctx context.Context, b *batch, w *writer) error {
	if err := p.apply(ctx, b); err != nil {
		return err
	}
	return p.write(ctx, b, w)
}

// apply evaluates the batch's events not applied yet in the state stage
// (once: a batch that failed to be handed over keeps its states), adding
// the states they changed to the batch.
func (p *Pipeline) apply(ctx context.Context, b *batch) error {
	if p.d.State == nil || b.applied == len(b.recs) {
		return nil
	}
	from := b.applied
	err := p.retry(ctx, stageApply, func(ctx context.Context) error {
		rows, keep, err := p.d.State.Apply(ctx, b.recs[from:])
		if err == nil {
			b.rows, b.recs = append(b.rows, rows...), b.recs[:from+keep]
		}
		return err
	})
	if err != nil {
		return err
	}
	b.applied = len(b.recs)
	b.report = p.d.State.Reported()
	return nil
}

// write hands the batch, applied, to the writer and starts a new one.
func (p *Pipeline) write(ctx context.Context, b *batch, w *writer) error {
	if b.len() == 0 && len(b.rows) == 0 && b.backlog == nil {
		b.opened = time.Now()
		return nil
	}
	f := &flush{recs: b.recs, dead: b.dead, rows: b.rows, backlog: b.backlog, report: b.report, n: b.n,
		calls: b.calls, tickets: b.tickets, offsets: make([]kafkaio.Offset, 0, len(b.next))}
	for k, next := range b.next {
		f.offsets = append(f.offsets, kafkaio.Offset{Topic: k.topic, Partition: k.partition, Next: next})
	}
	if err := w.submit(ctx, f); err != nil {
		return err
	}
	*b = *p.newBatch()
	return nil
}

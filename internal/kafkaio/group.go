package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Partition is one partition assigned to this member in a generation, and
// the offset its consumption starts from: the group's committed offset, or
// FirstOffset / LastOffset when the group has none yet.
type Partition struct {
	Topic     string
	Partition int32
	Start     int64
}

// Start offsets used when a partition has no committed offset.
const (
	FirstOffset = kafka.FirstOffset
	LastOffset  = kafka.LastOffset
)

// Group is this process's membership of the consumer group for the call
// and ticket topics. It hands out one Generation at a time: the partitions
// this member owns until the next rebalance.
type Group struct {
	cg     *kafka.ConsumerGroup
	c      Config
	dialer *kafka.Dialer
	link   *Link
}

// NewGroup joins the consumer group of c; log, if set, receives the
// group's errors; link, if set, hears of every failed and successful
// exchange with the brokers. Nothing is consumed or committed until a
// Generation runs.
func NewGroup(c Config, log *slog.Logger, link *Link) (*Group, error) {
	d, err := c.Dialer()
	if err != nil {
		return nil, err
	}
	start := kafka.FirstOffset
	if c.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     c.GroupID,
		Brokers:                c.Brokers,
		Dialer:                 d,
		Topics:                 c.Topics.Inputs(),
		HeartbeatInterval:      c.SessionTimeout / 10,
		SessionTimeout:         c.SessionTimeout,
		RebalanceTimeout:       c.SessionTimeout,
		PartitionWatchInterval: 5 * time.Second,
		WatchPartitionChanges:  true,
		JoinGroupBackoff:       time.Second,
		StartOffset:            start,
		Timeout:                10 * time.Second,
		ErrorLogger:            errorLogger(log),
	})
	if err != nil {
		return nil, fmt.Errorf("kafka consumer group %s: %w", c.GroupID, err)
	}
	return &Group{cg: cg, c: c, dialer: d, link: link}, nil
}

// errorLogger passes kafka-go's group errors (failed joins, lost
// coordinators) to log at debug level, nil discards them: they come once
// per attempt, and what matters of them reaches the log through the
// pipeline and the Link (once per outage).
func errorLogger(log *slog.Logger) kafka.Logger {
	if log == nil {
		return nil
	}
	return kafka.LoggerFunc(func(msg string, args ...any) { log.Debug("kafka consumer group: " + fmt.Sprintf(msg, args...)) })
}

// Next blocks until this member has joined the next generation of the
// group, or ctx ends. Transient failures to join (a rebalance under way,
// a broker restarting) are returned as errors that Retryable accepts.
func (g *Group) Next(ctx context.Context) (*Generation, error) {
	gen, err := g.cg.Next(ctx)
	if err != nil {
		g.link.Failed(err)
		return nil, fmt.Errorf("join consumer group %s: %w", g.c.GroupID, err)
	}
	g.link.OK()
	out := &Generation{gen: gen, c: g.c, dialer: g.dialer, link: g.link}
	for topic, ps := range gen.Assignments {
		for _, p := range ps {
			out.parts = append(out.parts, Partition{Topic: topic, Partition: int32(p.ID), Start: p.Offset})
		}
	}
	return out, nil
}

// Close leaves the group.
func (g *Group) Close() error { return g.cg.Close() }

// Generation is one assignment of partitions to this member, valid until
// the next rebalance. Its commits are fenced: once the group has moved on
// to a later generation, the coordinator rejects them, so a member that
// lost its partitions can never move their committed offsets.
type Generation struct {
	gen    *kafka.Generation
	c      Config
	dialer *kafka.Dialer
	link   *Link
	parts  []Partition
}

// ID is the generation number given by the group coordinator.
func (g *Generation) ID() int32 { return g.gen.ID }

// Partitions are the partitions this member owns in the generation.
func (g *Generation) Partitions() []Partition { return g.parts }

// Run runs fn bound to the generation: fn's context ends when the
// generation ends (a rebalance) or parent ends, whichever comes first. The
// group does not rejoin before fn returns, so fn can still flush and commit
// what it holds after its context ended. Run returns fn's error.
func (g *Generation) Run(parent context.Context, fn func(ctx context.Context) error) error {
	done := make(chan error, 1)
	g.gen.Start(func(genCtx context.Context) {
		ctx, cancel := context.WithCancel(parent)
		stop := context.AfterFunc(genCtx, cancel)
		defer stop()
		defer cancel()
		done <- fn(ctx)
	})
	return <-done
}

// Fetch reads every owned partition from its start offset, each on its
// own goroutine, and passes its messages in offset order to the handler
// that open returns for it (so a handler may keep per-partition state,
// such as a decoder, and runs in parallel with the others), until ctx
// ends. It returns the first read or handler error that is not the end of
// ctx.
func (g *Generation) Fetch(ctx context.Context, open func(Partition) Handler) error {
	if len(g.parts) == 0 { // a member with nothing to read (more members than partitions)
		<-ctx.Done()
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(g.parts))
	var wg sync.WaitGroup
	for _, p := range g.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.fetchPartition(ctx, p, open(p)); err != nil && ctx.Err() == nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// Handler takes the messages of one partition, one at a time. An error
// stops the fetch; a handler blocked on something returns when ctx ends.
type Handler func(ctx context.Context, m Message) error

// Send returns the handlers that send every message to out.
func Send(out chan<- Message) func(Partition) Handler {
	return func(Partition) Handler {
		return func(ctx context.Context, m Message) error {
			select {
			case out <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

func (g *Generation) fetchPartition(ctx context.Context, p Partition, handle Handler) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        g.c.Brokers,
		Topic:          p.Topic,
		Partition:      int(p.Partition),
		Dialer:         g.dialer,
		MinBytes:       1,
		MaxBytes:       max(g.c.MaxMessageBytes*2, 8<<20),
		MaxWait:        250 * time.Millisecond,
		QueueCapacity:  1000,
		ReadBackoffMax: time.Second,
	})
	defer r.Close()
	if err := r.SetOffset(p.Start); err != nil {
		return fmt.Errorf("seek %s/%d to %d: %w", p.Topic, p.Partition, p.Start, err)
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || !fetchRetryable(err) {
				return fmt.Errorf("fetch %s/%d: %w", p.Topic, p.Partition, err)
			}
			g.link.Failed(err) // the reader reconnects with its own backoff
			continue
		}
		// A fetched message is no news of the broker (the reader serves
		// what it prefetched): the Link is not told.
		err = handle(ctx, Message{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset,
			HighWaterMark: m.HighWaterMark, Key: m.Key, Value: m.Value, Time: m.Time})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("handle %s/%d offset %d: %w", p.Topic, p.Partition, m.Offset, err)
		}
	}
}

// fetchRetryable reports whether waiting may fix a failed fetch: the
// broker is unreachable or answered with a temporary error.
func fetchRetryable(err error) bool {
	return !Permanent(err) && (Disconnection(err) || Retryable(err))
}

// ErrStaleGeneration reports a commit refused because the group has moved
// on: the partitions may belong to another member now.
var ErrStaleGeneration = errors.New("commit refused: the consumer group generation has ended")

// Commit commits the next offsets of owned partitions through this
// generation. It fails with ErrStaleGeneration once a later generation
// exists, so a committed offset never moves under another owner.
func (g *Generation) Commit(_ context.Context, offsets []Offset) error {
	m := map[string]map[int]int64{}
	for _, o := range offsets {
		if m[o.Topic] == nil {
			m[o.Topic] = map[int]int64{}
		}
		m[o.Topic][int(o.Partition)] = o.Next
	}
	if err := g.gen.CommitOffsets(m); err != nil {
		g.link.Failed(err)
		if errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.UnknownMemberId) ||
			errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.FencedInstanceID) {
			return fmt.Errorf("%w (generation %d): %v", ErrStaleGeneration, g.gen.ID, err)
		}
		return fmt.Errorf("commit offsets in generation %d: %w", g.gen.ID, err)
	}
	g.link.OK()
	return nil
}

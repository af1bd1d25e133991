package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
)

// Message is one consumed Kafka message.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	// HighWaterMark is the partition's end offset when the message was fetched.
	HighWaterMark int64
	Key, Value    []byte
	Time          time.Time
}

// Lag is how many messages of the partition were behind this one when it
// was fetched.
func (m Message) Lag() int64 {
	if l := m.HighWaterMark - m.Offset - 1; l > 0 {
		return l
	}
	return 0
}

// Offset is the next offset to consume in one partition: committing it
// says every message below it is durably processed.
type Offset struct {
	Topic     string
	Partition int32
	Next      int64
}

// Consumer reads the call and ticket topics as one member of a consumer
// group. Commits are synchronous and explicit: nothing is committed unless
// Commit is called.
type Consumer struct {
	r *kafka.Reader
}

// NewConsumer joins the consumer group of c for its call and ticket topics.
func NewConsumer(c Config) (*Consumer, error) {
	d, err := c.Dialer()
	if err != nil {
		return nil, err
	}
	start := kafka.FirstOffset
	if c.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:               c.Brokers,
		GroupID:               c.GroupID,
		GroupTopics:           []string{c.Topics.Calls, c.Topics.Tickets},
		Dialer:                d,
		MinBytes:              1,
		MaxBytes:              max(c.MaxMessageBytes*2, 8<<20),
		MaxWait:               500 * time.Millisecond,
		StartOffset:           start,
		CommitInterval:        0, // synchronous commits, only when asked
		SessionTimeout:        c.SessionTimeout,
		HeartbeatInterval:     c.SessionTimeout / 10,
		RebalanceTimeout:      c.SessionTimeout,
		WatchPartitionChanges: true,
		ReadBackoffMax:        time.Second,
	})
	return &Consumer{r: r}, nil
}

// Fetch blocks until the next message arrives or ctx ends.
func (c *Consumer) Fetch(ctx context.Context) (Message, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return Message{}, err
	}
	return Message{
		Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset, HighWaterMark: m.HighWaterMark,
		Key: m.Key, Value: m.Value, Time: m.Time,
	}, nil
}

// Commit commits the given next offsets for the group.
func (c *Consumer) Commit(ctx context.Context, offsets []Offset) error {
	msgs := make([]kafka.Message, len(offsets))
	for i, o := range offsets {
		// kafka-go commits Offset+1 of the message it is given.
		msgs[i] = kafka.Message{Topic: o.Topic, Partition: int(o.Partition), Offset: o.Next - 1}
	}
	if err := c.r.CommitMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	return nil
}

// Close leaves the group and releases the connections.
func (c *Consumer) Close() error { return c.r.Close() }

// Retryable reports whether err is a transient Kafka or network error.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

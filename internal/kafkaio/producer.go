package kafkaio

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Producer writes keyed messages to the call and ticket topics. Messages
// with the same key go to the same partition, in order.
type Producer struct {
	w      *kafka.Writer
	topics Topics
}

// NewProducer returns a producer for the topics of c.
func NewProducer(c Config) (*Producer, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &Producer{topics: c.Topics, w: &kafka.Writer{
		Addr:                   kafka.TCP(c.Brokers...),
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		Transport:              t,
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              1000,
		AllowAutoTopicCreation: true,
	}}, nil
}

// Outgoing is one event to produce.
type Outgoing struct {
	Ticket bool // to the ticket topic, else the call topic
	Key    []byte
	Value  []byte
}

// Write produces msgs synchronously.
func (p *Producer) Write(ctx context.Context, msgs ...Outgoing) error {
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		topic := p.topics.Calls
		if m.Ticket {
			topic = p.topics.Tickets
		}
		out[i] = kafka.Message{Topic: topic, Key: m.Key, Value: m.Value}
	}
	if err := p.w.WriteMessages(ctx, out...); err != nil {
		return fmt.Errorf("produce %d events: %w", len(msgs), err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }

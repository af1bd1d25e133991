package kafkaio

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Producer writes keyed messages to the call and ticket topics. Messages
// with the same key go to the same partition, in order. A producer that
// cannot deliver keeps its messages and waits for the brokers.
type Producer struct {
	w      *kafka.Writer
	topics Topics
	link   *Link
}

// NewProducer returns a producer for the topics of c; link, if set, hears
// of every failed and successful write (and logs an outage once).
func NewProducer(c Config, link *Link) (*Producer, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &Producer{topics: c.Topics, link: link, w: &kafka.Writer{
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
	Ticket bool // to the ticket topic
	Agent  bool // to the agent topic, else the call topic
	Key    []byte
	Value  []byte
}

// Write produces msgs synchronously: it returns once the brokers
// acknowledged all of them, waiting through an outage until ctx ends (see
// deliver).
func (p *Producer) Write(ctx context.Context, msgs ...Outgoing) error {
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		topic := p.topics.Calls
		switch {
		case m.Ticket:
			topic = p.topics.Tickets
		case m.Agent:
			topic = p.topics.Agents
		}
		if topic == "" {
			return fmt.Errorf("produce: no topic configured for %s events", map[bool]string{true: "agent", false: "call"}[m.Agent])
		}
		out[i] = kafka.Message{Topic: topic, Key: m.Key, Value: m.Value}
	}
	if err := deliver(ctx, p.w, p.link, out); err != nil {
		return fmt.Errorf("produce %d events: %w", len(msgs), err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return closeWriter(p.w) }

// closeWriter flushes and closes w, then its transport: a kafka-go
// Writer closes only a transport of its own, and each connection pool of
// a transport left open keeps its connections and refreshes the cluster's
// metadata every few seconds for as long as the process lives.
func closeWriter(w *kafka.Writer) error {
	err := w.Close()
	if t, ok := w.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	return err
}

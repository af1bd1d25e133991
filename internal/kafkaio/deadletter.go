package kafkaio

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// Headers of a dead-letter record. The value and key are the original
// message's, byte for byte, so that it can be repaired and replayed.
const (
	HeaderReason    = "hotlineqc-reason"
	HeaderError     = "hotlineqc-error"
	HeaderTopic     = "hotlineqc-source-topic"
	HeaderPartition = "hotlineqc-source-partition"
	HeaderOffset    = "hotlineqc-source-offset"
)

// DeadLetter is a rejected message with why it was rejected.
type DeadLetter struct {
	Msg    Message
	Reason string // a bounded reason code, e.g. "invalid_json"
	Err    string // the decoder's explanation; never quotes personal data
}

// DeadLetterWriter writes rejected messages to the dead-letter topic and
// returns only once the broker has acknowledged them on all in-sync
// replicas, waiting for a broker that cannot be reached.
type DeadLetterWriter struct {
	w    *kafka.Writer
	link *Link
}

// NewDeadLetterWriter returns a writer to c.Topics.DeadLetter; link, if
// set, hears of every failed and successful write.
func NewDeadLetterWriter(c Config, link *Link) (*DeadLetterWriter, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &DeadLetterWriter{w: &kafka.Writer{
		Addr:                   kafka.TCP(c.Brokers...),
		Topic:                  c.Topics.DeadLetter,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		Transport:              t,
		BatchTimeout:           10 * time.Millisecond,
		BatchBytes:             int64(max(c.MaxMessageBytes*2, 1<<20)),
		AllowAutoTopicCreation: true,
	}, link: link}, nil
}

// WriteDeadLetters writes dls synchronously, waiting for the brokers until
// ctx ends (see deliver).
func (d *DeadLetterWriter) WriteDeadLetters(ctx context.Context, dls []DeadLetter) error {
	msgs := make([]kafka.Message, len(dls))
	for i, dl := range dls {
		msgs[i] = kafka.Message{
			Key:   dl.Msg.Key,
			Value: dl.Msg.Value,
			Headers: []kafka.Header{
				{Key: HeaderReason, Value: []byte(dl.Reason)},
				{Key: HeaderError, Value: []byte(dl.Err)},
				{Key: HeaderTopic, Value: []byte(dl.Msg.Topic)},
				{Key: HeaderPartition, Value: []byte(strconv.Itoa(int(dl.Msg.Partition)))},
				{Key: HeaderOffset, Value: []byte(strconv.FormatInt(dl.Msg.Offset, 10))},
			},
		}
	}
	if err := deliver(ctx, d.w, d.link, msgs); err != nil {
		return fmt.Errorf("write %d dead letters to %s: %w", len(dls), d.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (d *DeadLetterWriter) Close() error { return closeWriter(d.w) }

package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Delivery backoff bounds: a producer that cannot deliver waits between
// these, with jitter, for as long as its context lives.
const (
	deliverRetryMin = 200 * time.Millisecond
	deliverRetryMax = 10 * time.Second
	deliverAttempt  = time.Minute
	deliverSlow     = 2 * time.Second
)

// deliver writes msgs through w and returns once the broker acknowledged
// every one of them. A broker that cannot be reached or answers with a
// temporary error is waited for with capped exponential backoff and
// jitter until ctx ends; when the writer says which messages failed, only
// those are written again (a message written twice is collapsed by its
// event_id downstream). Errors that waiting cannot fix (a refused login or
// permission, a message too large) are returned at once.
func deliver(ctx context.Context, w *kafka.Writer, link *Link, msgs []kafka.Message) error {
	b := Backoff{Min: deliverRetryMin, Max: deliverRetryMax}
	for {
		// kafka-go's writer waits for an unreachable broker as long as its
		// context lives, without a word: each attempt gets a bound of its
		// own, and one that is slow makes the Link probe the brokers (so
		// the outage shows at once, while the attempt goes on).
		actx, cancel := context.WithTimeout(ctx, deliverAttempt)
		slow := time.AfterFunc(deliverSlow, link.Suspect)
		err := w.WriteMessages(actx, msgs...)
		slow.Stop()
		cancel()
		if err == nil {
			link.OK()
			return nil
		}
		link.Failed(err)
		if ctx.Err() != nil || Permanent(err) || !(Disconnection(err) || Retryable(err) || errors.Is(err, context.DeadlineExceeded)) {
			return err
		}
		msgs = failed(msgs, err)
		if !Sleep(ctx, b.Next()) {
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		}
	}
}

// failed returns the messages of msgs that err says were not written: all
// of them unless err is a kafka.WriteErrors of the same length.
func failed(msgs []kafka.Message, err error) []kafka.Message {
	var we kafka.WriteErrors
	if !errors.As(err, &we) || len(we) != len(msgs) {
		return msgs
	}
	var out []kafka.Message
	for i, e := range we {
		if e != nil {
			out = append(out, msgs[i])
		}
	}
	return out
}

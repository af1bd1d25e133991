package kafkaio

import (
	"context"
	"errors"

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

// Retryable reports whether err is a transient Kafka or network error.
func Retryable(err error) bool {
	if Permanent(err) {
		return false
	}
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		// A batch write failed message by message: retry when every
		// failure is transient.
		any := false
		for _, e := range we {
			if e != nil {
				if !Retryable(e) {
					return false
				}
				any = true
			}
		}
		return any
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// Permanent reports whether err carries a Kafka error that retrying cannot
// fix: a refused login or a missing permission. A kafka.Error has the
// methods of a net.Error, so classifiers that retry network errors must
// ask this first. Errors of a group in motion (a rebalance, a stale
// generation) are not permanent: the loop rejoins.
func Permanent(err error) bool {
	var ke kafka.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case kafka.SASLAuthenticationFailed, kafka.UnsupportedSASLMechanism, kafka.IllegalSASLState,
		kafka.TopicAuthorizationFailed, kafka.GroupAuthorizationFailed, kafka.ClusterAuthorizationFailed:
		return true
	}
	return false
}

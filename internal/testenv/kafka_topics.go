package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// ReadTopic reads every message of every partition of topic on broker,
// each partition until none comes for a second.
func ReadTopic(t testing.TB, broker, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Transport: tr}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range md.Topics[0].Partitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p.ID, MaxWait: 100 * time.Millisecond})
		for {
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			m, err := r.ReadMessage(rctx)
			cancel()
			if err != nil {
				break
			}
			out = append(out, m)
		}
		r.Close()
	}
	return out
}

// WaitFor polls cond every 200 ms until it holds; it fails the test when
// a value comes on done (the process under test stopped) or limit passes.
func WaitFor(t testing.TB, done <-chan error, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("stopped early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Produce writes msgs to topic on broker, keyed, acknowledged by every
// in-sync replica, with a transport of its own (the shared default one
// caches metadata that predates a test's new topics).
func Produce(ctx context.Context, t testing.TB, broker, topic string, msgs []kafka.Message) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections() // a writer closes only a transport of its own
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, Transport: tr}
	defer w.Close()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

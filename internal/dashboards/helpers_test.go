package dashboards_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// streamConfig is a `run` configuration of the test's own on the real
// servers.
func streamConfig(t *testing.T) config.Config {
	t.Helper()
	return testenv.PipelineConfig(t, testenv.Kafka(t), 3)
}

func startPrometheus(t *testing.T, bin, addr, target, more string, job ...string) {
	t.Helper()
	testenv.StartPrometheus(t, bin, addr, target, more, job...)
}

func scrape(t *testing.T, url string) string { return testenv.Get(t, url) }

// produce writes msgs to topic, keyed, acknowledged by every replica.
func produce(ctx context.Context, t *testing.T, broker, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{}}
	defer w.Close()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

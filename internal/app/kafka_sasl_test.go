package app_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// run consumes, and writes its dead letters, through the real broker's
// SASL_SSL listener (SCRAM-SHA-512, TLS with the services script's CA).
// A wrong password and an unknown CA each stop it at start with one clear
// error, having consumed and committed nothing. The dead letter of a
// malformed message keeps its caller only as the keyed hash.
func TestRunThroughKafkaSASL(t *testing.T) {
	cfg := streamConfig(t) // the topics, created through the plain listener of the same broker
	plain := cfg.Kafka
	cfg.Kafka = testenv.KafkaSASL(t, cfg.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	prod, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafkaio.Outgoing
	for i := range 30 {
		msgs = append(msgs, kafkaio.Outgoing{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf(
			`{"event_id":"q%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"general"}`, i, i))})
	}
	msgs = append(msgs, kafkaio.Outgoing{Key: []byte("bad"), Value: []byte(`{"event_id":"bad","type":"call.arrived","caller":"13912345678","ts":`)})
	if err := prod.Write(ctx, msgs...); err != nil {
		t.Fatalf("produce through SASL_SSL: %v", err)
	}
	_ = prod.Close()

	other := testenv.NewCerts(t, t.TempDir())
	for _, c := range []struct {
		what, want string
		change     func(*kafkaio.Config)
	}{
		{"a wrong password", "sasl", func(k *kafkaio.Config) { k.SASL.Password.Value = "wrong-password" }},
		{"an unknown CA", "certificate", func(k *kafkaio.Config) { k.TLS.CAFile = other.CAFile }},
	} {
		bad := cfg
		c.change(&bad.Kafka)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		err = app.Run(rctx, bad, ln, app.NewRegistry(), quiet())
		rcancel()
		t.Logf("%s: %v", c.what, err)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), c.want) || time.Since(start) > 45*time.Second {
			t.Errorf("%s: %v after %v; want one error about %q at start", c.what, err, time.Since(start), c.want)
		}
		if strings.Contains(fmt.Sprint(err), string(cfg.Kafka.SASL.Password.Value)) {
			t.Errorf("%s: the password shows in the error", c.what)
		}
	}
	_, committed, err := offsets(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	for tp, off := range committed {
		if off >= 0 {
			t.Errorf("%v: offset %d committed by a run that could not connect", tp, off)
		}
	}

	_, done, stop := runInBackground(t, ctx, cfg)
	defer stop()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, done, 2*time.Minute, func() bool {
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM "+cfg.ClickHouse.Database+".call_state FINAL").Scan(&n)
		return err == nil && n == 30
	})
	var dead []kafka.Message
	waitFor(t, done, time.Minute, func() bool {
		dead = testenv.ReadTopic(t, plain.Brokers[0], cfg.Kafka.Topics.DeadLetter)
		return len(dead) == 1
	})
	if v := string(dead[0].Value); strings.Contains(v, "13912345678") || !strings.Contains(v, `"caller"`) {
		t.Errorf("dead letter %s: want the caller replaced by its hash", v)
	}
}

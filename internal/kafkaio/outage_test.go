package kafkaio_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// The producer and the dead-letter writer are called while the real
// broker (a private one) is down and keep their messages until it is back
// 20 s later: both return without error, every message is on its topic,
// and the Link logged the outage once.
func TestProducersWaitThroughABrokerRestart(t *testing.T) {
	broker := testenv.StartLocalKafka(t)
	c := kafkaio.DefaultConfig()
	c.Brokers = []string{broker.Addr}
	c.Topics = kafkaio.Topics{Calls: "calls", Tickets: "tickets", DeadLetter: "dlq"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := kafkaio.EnsureTopics(ctx, c, 3, 1); err != nil {
		t.Fatal(err)
	}
	var logs syncLog
	link := kafkaio.NewLink(c, slog.New(slog.NewTextHandler(&logs, nil)))
	defer link.Close()
	prod, err := kafkaio.NewProducer(c, link)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	dlq, err := kafkaio.NewDeadLetterWriter(c, link)
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	const n = 2000
	var events []kafkaio.Outgoing
	var dead []kafkaio.DeadLetter
	for i := range n {
		v := []byte(strconv.Itoa(i))
		events = append(events, kafkaio.Outgoing{Ticket: i%2 == 1, Key: []byte("k" + strconv.Itoa(i)), Value: v})
		dead = append(dead, kafkaio.DeadLetter{Msg: kafkaio.Message{Topic: "calls", Partition: int32(i % 3), Offset: int64(i), Key: v, Value: v},
			Reason: "invalid_json", Err: "x"})
	}
	// Something delivered before: the writers hold connections that the
	// kill breaks.
	if err := prod.Write(ctx, events[:10]...); err != nil {
		t.Fatal(err)
	}
	if err := dlq.WriteDeadLetters(ctx, dead[:10]); err != nil {
		t.Fatal(err)
	}
	broker.Kill()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = prod.Write(ctx, events[10:]...) })
	wg.Go(func() { errs[1] = dlq.WriteDeadLetters(ctx, dead[10:]) })
	time.Sleep(20 * time.Second)
	if _, down := link.Down(); !down {
		t.Error("the Link did not notice the outage")
	}
	broker.Start()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("producer: %v; dead letters: %v", errs[0], errs[1])
	}
	for _, topic := range []struct {
		name string
		n    int
	}{{"calls", n / 2}, {"tickets", n / 2}, {"dlq", n}} {
		got := map[string]int{}
		for _, m := range testenv.ReadTopic(t, broker.Addr, topic.name) {
			got[string(m.Value)]++
		}
		total := 0
		for _, k := range got {
			total += k
		}
		t.Logf("%s: %d distinct messages of %d, %d written (%d again)", topic.name, len(got), topic.n, total, total-len(got))
		if len(got) != topic.n {
			t.Errorf("%s: %d distinct messages, want %d", topic.name, len(got), topic.n)
		}
	}
	if out := logs.String(); strings.Count(out, "kafka unreachable") != 1 || strings.Count(out, "kafka reachable again") != 1 {
		t.Errorf("log:\n%s", out)
	}
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncLog) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

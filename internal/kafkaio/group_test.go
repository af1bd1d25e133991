package kafkaio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// fakeCluster starts an in-process Kafka with the call, ticket and
// dead-letter topics of two partitions each, and returns a configuration
// for it with a fresh group.
func fakeCluster(t *testing.T) kafkaio.Config {
	t.Helper()
	c := kafkaio.DefaultConfig()
	c.Topics = kafkaio.Topics{Calls: "calls", Tickets: "tickets", DeadLetter: "dlq"}
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, c.Topics.Calls, c.Topics.Tickets, c.Topics.DeadLetter))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	c.Brokers, c.GroupID, c.SessionTimeout = cl.ListenAddrs(), "g-"+t.Name(), 6*time.Second
	return c
}

func produceN(t *testing.T, c kafkaio.Config, n int) {
	t.Helper()
	p, err := kafkaio.NewProducer(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []kafkaio.Outgoing
	for i := range n {
		out = append(out, kafkaio.Outgoing{Ticket: i%2 == 1, Key: []byte("k" + strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
	}
	if err := p.Write(context.Background(), out...); err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, g *kafkaio.Group) *kafkaio.Generation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gen, err := g.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

// fetchAll reads n messages of a generation, each partition in order.
func fetchAll(t *testing.T, gen *kafkaio.Generation, n int) []kafkaio.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan kafkaio.Message, n)
	done := make(chan error, 1)
	go func() { done <- gen.Fetch(ctx, kafkaio.Send(out)) }()
	var got []kafkaio.Message
	for len(got) < n {
		select {
		case m := <-out:
			got = append(got, m)
		case err := <-done:
			t.Fatalf("fetch ended after %d of %d: %v", len(got), n, err)
		case <-ctx.Done():
			t.Fatalf("fetched %d of %d", len(got), n)
		}
	}
	cancel()
	<-done
	return got
}

func nextOffsets(ms []kafkaio.Message) []kafkaio.Offset {
	next := map[string]kafkaio.Offset{}
	for _, m := range ms {
		k := fmt.Sprint(m.Topic, m.Partition)
		if m.Offset+1 > next[k].Next {
			next[k] = kafkaio.Offset{Topic: m.Topic, Partition: m.Partition, Next: m.Offset + 1}
		}
	}
	var out []kafkaio.Offset
	for _, o := range next {
		out = append(out, o)
	}
	return out
}

// One member owns every partition, reads them from the start, and its
// commits are where the next generation starts.
func TestGroupFetchesOwnedPartitionsAndCommits(t *testing.T) {
	c := fakeCluster(t)
	produceN(t, c, 40)
	g, err := kafkaio.NewGroup(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := next(t, g)
	if len(gen.Partitions()) != 4 {
		t.Fatalf("partitions %+v, want all 4", gen.Partitions())
	}
	for _, p := range gen.Partitions() {
		if p.Start != kafkaio.FirstOffset {
			t.Errorf("%+v: a new group starts at the first offset", p)
		}
	}
	got := fetchAll(t, gen, 40)
	last := map[string]int64{}
	for _, m := range got {
		k := fmt.Sprint(m.Topic, m.Partition)
		if prev, ok := last[k]; ok && m.Offset != prev+1 {
			t.Errorf("%s: offset %d after %d", k, m.Offset, prev)
		}
		last[k] = m.Offset
	}
	if err := gen.Commit(context.Background(), nextOffsets(got)); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g2, err := kafkaio.NewGroup(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	for _, p := range next(t, g2).Partitions() {
		if want := last[fmt.Sprint(p.Topic, p.Partition)] + 1; p.Start != want {
			t.Errorf("%s/%d starts at %d, want the committed %d", p.Topic, p.Partition, p.Start, want)
		}
	}
}

// When a second member joins, the first generation ends: its Run context
// is cancelled, a commit made before it returns still lands, and the two
// members of the next generation own disjoint partitions. A commit through
// the old generation afterwards is refused.
func TestRebalanceEndsTheGenerationAndFencesItsCommits(t *testing.T) {
	c := fakeCluster(t)
	produceN(t, c, 8)
	a, err := kafkaio.NewGroup(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	first := next(t, a)
	got := fetchAll(t, first, 8)
	ended := make(chan error, 1)
	go func() {
		ended <- first.Run(context.Background(), func(ctx context.Context) error {
			<-ctx.Done() // the rebalance
			return first.Commit(context.Background(), nextOffsets(got))
		})
	}()
	b, err := kafkaio.NewGroup(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	genB := make(chan *kafkaio.Generation, 1)
	go func() { genB <- next(t, b) }()
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("commit while the generation ends: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first generation did not end when a member joined")
	}
	secondA, secondB := next(t, a), <-genB
	committed := map[string]int64{}
	for _, o := range nextOffsets(got) {
		committed[fmt.Sprint(o.Topic, o.Partition)] = o.Next
	}
	var owned []string
	for _, gen := range []*kafkaio.Generation{secondA, secondB} {
		for _, p := range gen.Partitions() {
			owned = append(owned, fmt.Sprint(p.Topic, p.Partition))
			if want, ok := committed[fmt.Sprint(p.Topic, p.Partition)]; ok && p.Start != want {
				t.Errorf("%+v: starts at %d, want the offset committed while the generation ended, %d", p, p.Start, want)
			}
		}
	}
	slices.Sort(owned)
	if len(owned) != 4 || len(slices.Compact(owned)) != 4 || len(secondA.Partitions()) == 0 || len(secondB.Partitions()) == 0 {
		t.Errorf("owned after the rebalance: %v (a %d, b %d)", owned, len(secondA.Partitions()), len(secondB.Partitions()))
	}
	if err := first.Commit(context.Background(), []kafkaio.Offset{{Topic: "calls", Partition: 0, Next: 0}}); err == nil {
		t.Error("a commit through an ended generation was accepted")
	}
}

func TestDeadLetterWriterKeepsTheMessageAndSaysWhy(t *testing.T) {
	c := fakeCluster(t)
	w, err := kafkaio.NewDeadLetterWriter(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dl := kafkaio.DeadLetter{Msg: kafkaio.Message{Topic: "calls", Partition: 1, Offset: 41, Key: []byte("k"), Value: []byte("not json")},
		Reason: "invalid_json", Err: "invalid JSON at byte 0"}
	if err := w.WriteDeadLetters(context.Background(), []kafkaio.DeadLetter{dl}); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: "dlq", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m kafka.Message
	for m.Value == nil {
		// The key hashes to one of two partitions; read the one it took.
		if m, err = r.FetchMessage(ctx); err != nil {
			r.Close()
			r = kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: "dlq", Partition: 1, MaxWait: 100 * time.Millisecond})
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if m, err = r.FetchMessage(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	if string(m.Value) != "not json" || h[kafkaio.HeaderReason] != "invalid_json" || h[kafkaio.HeaderOffset] != "41" ||
		h[kafkaio.HeaderPartition] != "1" || h[kafkaio.HeaderTopic] != "calls" {
		t.Errorf("dead letter %q with headers %v", m.Value, h)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", context.Canceled, false},
		{"deadline", context.DeadlineExceeded, true},
		{"leader moving", kafka.NotLeaderForPartition, true},
		{"request timed out", fmt.Errorf("write: %w", kafka.RequestTimedOut), true},
		{"authorization", kafka.TopicAuthorizationFailed, false},
		{"message too large", kafka.MessageSizeTooLarge, false},
		{"write errors, all transient", fmt.Errorf("write 2 dead letters: %w", kafka.WriteErrors{kafka.NotEnoughReplicas, nil, kafka.LeaderNotAvailable}), true},
		{"write errors, one permanent", kafka.WriteErrors{kafka.NotEnoughReplicas, kafka.TopicAuthorizationFailed}, false},
		{"write errors, none", kafka.WriteErrors{nil, nil}, false},
		{"plain error", errors.New("boom"), false},
	} {
		if got := kafkaio.Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// A closed producer, dead-letter writer or topic creation leaves no
// connection pool behind: kafka-go keeps a transport's pools, their
// connections and their metadata refresh every few seconds until the
// transport is closed, and a writer closes only a transport of its own.
func TestClosedClientsLeaveNoConnectionPools(t *testing.T) {
	c := fakeCluster(t)
	if err := kafkaio.CreateTopics(context.Background(), c, 2, 1, "more"); err != nil {
		t.Fatal(err)
	}
	produceN(t, c, 10)
	w, err := kafkaio.NewDeadLetterWriter(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	dl := kafkaio.DeadLetter{Msg: kafkaio.Message{Topic: "calls", Value: []byte("x")}, Reason: "invalid_json", Err: "x"}
	if err := w.WriteDeadLetters(context.Background(), []kafkaio.DeadLetter{dl}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pools := func() int {
		buf := make([]byte, 1<<22)
		return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("kafka-go.(*connPool).discover"))
	}
	for deadline := time.Now().Add(10 * time.Second); pools() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connection pools still refresh metadata after every client was closed", pools())
		}
	}
}

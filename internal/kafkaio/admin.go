package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the call, ticket, agent and dead-letter topics of c
// with the given partition count if they do not exist yet. Existing topics
// are left as they are.
func EnsureTopics(ctx context.Context, c Config, partitions, replication int) error {
	return CreateTopics(ctx, c, partitions, replication, append(c.Topics.Inputs(), c.Topics.DeadLetter)...)
}

// CreateTopics creates the named topics with the given partition count if
// they do not exist yet, and waits until every partition has a leader.
// Existing topics are left as they are.
func CreateTopics(ctx context.Context, c Config, partitions, replication int, names ...string) error {
	// The admin client turns a refused login into "broker not available":
	// a connection of our own says why.
	if err := Reach(ctx, c); err != nil {
		return err
	}
	t, err := c.Transport()
	if err != nil {
		return err
	}
	defer t.CloseIdleConnections() // else its pool lives on, refreshing metadata
	cl := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: t}
	var cfgs []kafka.TopicConfig
	for _, name := range names {
		cfgs = append(cfgs, kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: replication})
	}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: cfgs})
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	return waitForLeaders(ctx, cl, cfgs)
}

// waitForLeaders polls the metadata until every partition of the topics
// has a leader: a topic just created on a fresh broker refuses produce
// requests until then.
func waitForLeaders(ctx context.Context, cl *kafka.Client, cfgs []kafka.TopicConfig) error {
	var names []string
	for _, c := range cfgs {
		names = append(names, c.Topic)
	}
	for {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
		if err == nil && ready(md, cfgs) && servesOffsets(ctx, cl, cfgs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v have no leaders yet: %w", names, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// servesOffsets asks every partition for its first offset: the leader
// answers only once it hosts the partition.
func servesOffsets(ctx context.Context, cl *kafka.Client, cfgs []kafka.TopicConfig) bool {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, c := range cfgs {
		for p := range c.NumPartitions {
			req.Topics[c.Topic] = append(req.Topics[c.Topic], kafka.FirstOffsetOf(p))
		}
	}
	res, err := cl.ListOffsets(ctx, req)
	if err != nil {
		return false
	}
	for _, parts := range res.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return false
			}
		}
	}
	return true
}

func ready(md *kafka.MetadataResponse, cfgs []kafka.TopicConfig) bool {
	want := map[string]int{}
	for _, c := range cfgs {
		want[c.Topic] = c.NumPartitions
	}
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) < want[t.Name] {
			return false
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false
			}
		}
		delete(want, t.Name)
	}
	return len(want) == 0
}

// Reach connects to a broker of c as the clients do (TLS, SASL) and
// returns why none can be reached: an unknown CA, refused credentials,
// nothing listening.
func Reach(ctx context.Context, c Config) error {
	d, err := c.Dialer()
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range c.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return conn.Close()
		}
		errs = append(errs, fmt.Errorf("kafka %s: %w", b, err))
	}
	return errors.Join(errs...)
}

// Await waits until a broker of c answers (see Reach), with capped
// exponential backoff and jitter, telling link of each attempt. It returns
// at once when the answer is one that waiting cannot change (a refused
// login, an unknown CA) and when ctx ends.
func Await(ctx context.Context, c Config, link *Link) error {
	b := Backoff{Min: deliverRetryMin, Max: deliverRetryMax}
	for {
		err := Reach(ctx, c)
		if err == nil {
			link.OK()
			return nil
		}
		if !Disconnection(err) {
			return err
		}
		link.Failed(err)
		if !Sleep(ctx, b.Next()) {
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		}
	}
}

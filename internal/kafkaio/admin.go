package kafkaio

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics creates the call, ticket and dead-letter topics of c with
// the given partition count if they do not exist yet. Existing topics are
// left as they are.
func EnsureTopics(ctx context.Context, c Config, partitions, replication int) error {
	t, err := c.Transport()
	if err != nil {
		return err
	}
	cl := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: t}
	var cfgs []kafka.TopicConfig
	for _, name := range []string{c.Topics.Calls, c.Topics.Tickets, c.Topics.DeadLetter} {
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
	return nil
}

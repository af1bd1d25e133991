// Command produce writes NDJSON event files to the call and ticket topics,
// keyed by call_id / ticket_id as the event contract says, for the
// benchmarks: go run ./bench/produce -kafka 127.0.0.1:9092 -topics T.calls,T.tickets FILE...
// With -delete T1,T2,… it deletes those topics instead (a benchmark's
// topics hold hundreds of megabytes of a shared broker). With -committed
// GROUP -until N it waits until GROUP's committed offsets on -topics add
// up to N messages (new topics, whose offsets start at 0): the end of a
// run, read from the broker rather than by scraping the process measured.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/valyala/fastjson"

	"github.com/hotlineqc/hotlineqc/bench/internal/keyed"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

func main() {
	brokers := flag.String("kafka", "127.0.0.1:9092", "Kafka brokers, comma-separated")
	topics := flag.String("topics", "hotline.calls,hotline.tickets", "call and ticket topics")
	partitions := flag.Int("partitions", 3, "partitions of the topics when they must be created")
	del := flag.String("delete", "", "delete these topics (comma-separated) instead, as a benchmark's clean-up")
	group := flag.String("committed", "", "wait until this consumer group has committed -until messages of -topics, instead")
	until := flag.Int64("until", 0, "with -committed: the messages to wait for")
	flag.Parse()
	if *group != "" {
		if err := waitCommitted(*brokers, *group, strings.Split(*topics, ","), *until); err != nil {
			fmt.Fprintln(os.Stderr, "produce:", err)
			os.Exit(1)
		}
		return
	}
	if *del != "" {
		if err := deleteTopics(*brokers, strings.Split(*del, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "produce:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*brokers, *topics, *partitions, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "produce:", err)
		os.Exit(1)
	}
}

func run(brokers, topics string, partitions int, files []string) error {
	cfg := kafkaio.DefaultConfig()
	cfg.Brokers = strings.Split(brokers, ",")
	t := strings.Split(topics, ",")
	if len(t) != 2 {
		return fmt.Errorf("-topics %q: want CALLS,TICKETS", topics)
	}
	cfg.Topics.Calls, cfg.Topics.Tickets = t[0], t[1]
	ctx := context.Background()
	if err := kafkaio.CreateTopics(ctx, cfg, partitions, 1, t[0], t[1]); err != nil {
		return err
	}
	prod, err := kafkaio.NewProducer(cfg, nil)
	if err != nil {
		return err
	}
	defer prod.Close()
	var p fastjson.Parser
	batch := make([]kafkaio.Outgoing, 0, 5000)
	n := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			m, err := keyed.Message(&p, append([]byte(nil), sc.Bytes()...))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			batch = append(batch, m)
			if len(batch) == cap(batch) {
				if err := prod.Write(ctx, batch...); err != nil {
					return err
				}
				n += len(batch)
				batch = batch[:0]
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	if err := prod.Write(ctx, batch...); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "produced %d events\n", n+len(batch))
	return nil
}

// deleteTopics deletes the named topics; one already gone is not an error.
func deleteTopics(brokers string, names []string) error {
	cl := &kafka.Client{Addr: kafka.TCP(strings.Split(brokers, ",")...)}
	res, err := cl.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: names})
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for name, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", name, err)
		}
	}
	return nil
}

// waitCommitted polls group's committed offsets on topics every 100 ms
// until they add up to n. A group that has not committed yet counts 0.
func waitCommitted(brokers, group string, topics []string, n int64) error {
	cl := &kafka.Client{Addr: kafka.TCP(strings.Split(brokers, ",")...), Timeout: 10 * time.Second}
	ctx := context.Background()
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	parts := map[string][]int{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			return fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
		}
	}
	for ; ; time.Sleep(100 * time.Millisecond) {
		res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
		if err != nil {
			continue // the coordinator not ready yet: ask again
		}
		var sum int64
		for _, ps := range res.Topics {
			for _, p := range ps {
				if p.Error == nil && p.CommittedOffset > 0 {
					sum += p.CommittedOffset
				}
			}
		}
		if sum >= n {
			return nil
		}
	}
}

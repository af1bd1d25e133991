package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
)

func produceScenario(t *testing.T, cfg config.Config, sc streamScenario) {
	t.Helper()
	// Generous: on a loaded two-core machine three consumers compete
	// with the producer (three minutes ran out once the agents' events
	// were added to the calls' and tickets').
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, sc.calls)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Tickets, sc.tickets)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Agents, sc.agents)
}

// assertNoDoubles checks that no raw event is stored twice once the
// replacing tables are read FINAL, and that no state misses an event.
func assertNoDoubles(t *testing.T, cfg config.Config) {
	t.Helper()
	ctx := context.Background()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, table := range []string{chstore.RawCallTable, chstore.RawTicketTable, chstore.RawAgentTable} {
		var rows, ids uint64
		q := fmt.Sprintf("SELECT count(), uniqExact(event_id) FROM %s.%s FINAL", cfg.ClickHouse.Database, table)
		if err := conn.QueryRow(ctx, q).Scan(&rows, &ids); err != nil {
			t.Fatal(err)
		}
		if rows != ids {
			t.Errorf("%s: %d rows for %d events after FINAL", table, rows, ids)
		}
	}
	assertStatesKnowEveryEvent(ctx, t, conn, cfg)
}

// assertStatesKnowEveryEvent checks that every stored state row counts all
// the distinct stored events of its call or ticket: none was lost.
func assertStatesKnowEveryEvent(ctx context.Context, t *testing.T, conn driver.Conn, cfg config.Config) {
	t.Helper()
	db := cfg.ClickHouse.Database
	for _, k := range []struct{ state, raw, id string }{{chstore.CallStateTable, chstore.RawCallTable, "call_id"},
		{chstore.TicketStateTable, chstore.RawTicketTable, "ticket_id"}} {
		q := fmt.Sprintf(`SELECT count(), countIf(events != n) FROM (
SELECT center_id, %[1]s, n, events FROM (SELECT center_id, %[1]s, toUInt32(uniqExact(event_id)) AS n FROM %[2]s.%[3]s GROUP BY center_id, %[1]s)
ANY LEFT JOIN (SELECT center_id, %[1]s, events FROM %[2]s.%[4]s FINAL) USING (center_id, %[1]s))`, k.id, db, k.raw, k.state)
		var all, short uint64
		if err := conn.QueryRow(ctx, q).Scan(&all, &short); err != nil {
			t.Fatal(err)
		}
		if short > 0 || all == 0 {
			t.Errorf("%s: %d of %d have a state that misses stored events", k.state, short, all)
		}
		t.Logf("%s: all %d states know every stored event", k.state, all)
	}
}

// SIGTERM flushes what the pipeline holds, commits it and exits cleanly.
func TestSIGTERMFlushesAndCommits(t *testing.T) {
	cfg := streamConfig(t)
	cfg.Pipeline.FlushInterval = time.Hour // only the stop can flush
	cfg.Pipeline.BatchSize = 1_000_000
	sc := newStreamScenario(t, 6*time.Hour, 9)
	produceScenario(t, cfg, sc)
	total := float64(len(sc.calls) + len(sc.tickets) + len(sc.agents))
	p := startRun(t, writeConfig(t, cfg), freePort(t))
	deadline := time.Now().Add(90 * time.Second)
	for p.counter("hotline_pipeline_messages_consumed_total") < total {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %v of %v messages\n%s", p.counter("hotline_pipeline_messages_consumed_total"), total, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if committed(context.Background(), t, cfg.Kafka) {
		t.Fatal("offsets committed before the stop: the test proves nothing")
	}
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.log)
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(p.log.String(), "pipeline stopped after final flush") {
		t.Errorf("no final flush in the log:\n%s", p.log)
	}
	if !committed(context.Background(), t, cfg.Kafka) {
		t.Error("offsets not committed by the stop")
	}
	assertStreamEqualsCompute(t, cfg, withAsOfFromStore(t, cfg, sc))
}

// The consumer is killed with SIGKILL mid-stream and restarted, several
// times; the result is exact and no event is stored twice.
func TestKillLoopLosesAndDoublesNothing(t *testing.T) {
	cfg := streamConfig(t)
	// Small batches: many commits, and a stream long enough for the kills
	// to land mid-way.
	cfg.Pipeline.BatchSize = 500
	// A killed member holds its partitions until its session expires; a
	// short session keeps the restarts quick.
	cfg.Kafka.SessionTimeout = 6 * time.Second
	sc := newStreamScenario(t, 96*time.Hour, 11)
	produceScenario(t, cfg, sc)
	path, port := writeConfig(t, cfg), freePort(t)
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	var recoveries []time.Duration
	for range 6 {
		p := startRun(t, path, port)
		before := p.counter("hotline_pipeline_offset_commits_total")
		started := time.Now()
		for p.counter("hotline_pipeline_offset_commits_total") <= max(before, 0) && time.Since(started) < 30*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		recoveries = append(recoveries, time.Since(started))
		time.Sleep(time.Duration(200+rng.IntN(900)) * time.Millisecond)
		if committed(context.Background(), t, cfg.Kafka) {
			p.signal(t, syscall.SIGTERM)
			_ = p.wait(t, 30*time.Second)
			break
		}
		p.signal(t, syscall.SIGKILL)
		_ = p.wait(t, 10*time.Second)
		kills++
	}
	t.Logf("survived %d SIGKILLs; time from start to first commit: %v", kills, recoveries)
	if kills < 3 {
		t.Errorf("only %d kills landed mid-stream: make the stream longer", kills)
	}
	p := startRun(t, path, port)
	// A bound against a hang: the last run takes up most of the stream in
	// 500-event batches, and the suite runs packages side by side under
	// the race detector on two cores (two minutes ran out there once).
	started := time.Now()
	untilCommitted(t, cfg, 6*time.Minute, p) // states are stored before their offsets are committed
	t.Logf("the last run committed the rest in %s", time.Since(started).Round(time.Millisecond))
	p.signal(t, syscall.SIGTERM)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	assertNoDoubles(t, cfg)
	assertStreamEqualsCompute(t, cfg, withAsOfFromStore(t, cfg, sc))
}

// Two consumers share the group and one is killed: the other takes its
// partitions over and the result is the same and exact.
func TestTwoConsumersOneKilled(t *testing.T) {
	cfg := streamConfig(t)
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Pipeline.BatchSize = 2000
	sc := newStreamScenario(t, 48*time.Hour, 13)
	path := writeConfig(t, cfg)
	a := startRun(t, path, freePort(t))
	b := startRun(t, path, freePort(t))
	waitCounter(t, 2*time.Minute, "hotline_kafka_partitions_assigned", 5, a, b) // both own their share
	produceScenario(t, cfg, sc)
	// A bound for progress on a loaded machine (the suite runs packages in
	// parallel under the race detector), not for speed.
	waitCounter(t, 3*time.Minute, "hotline_pipeline_offset_commits_total", 0, a) // a is mid-stream
	a.signal(t, syscall.SIGKILL)
	_ = a.wait(t, 10*time.Second)
	untilCommitted(t, cfg, 5*time.Minute, b)
	b.signal(t, syscall.SIGTERM)
	if err := b.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	assertNoDoubles(t, cfg)
	assertStreamEqualsCompute(t, cfg, withAsOfFromStore(t, cfg, sc))
}

// withAsOfFromStore sets the scenario's evaluation time to the one the
// processes (on the wall clock) stored, for compute to use the same.
func withAsOfFromStore(t *testing.T, cfg config.Config, sc streamScenario) streamScenario {
	t.Helper()
	ctx := context.Background()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := chstore.NewReader(conn, cfg.ClickHouse.Database).ReadStored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc.asOf = time.UnixMilli(st.AsOf)
	return sc
}

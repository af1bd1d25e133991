package app_test

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// ClickHouse is stopped for 30 s mid-stream: the pipeline pauses and
// retries with backoff, its memory stays bounded, it resumes, and the
// result is exact.
func TestClickHouseOutage(t *testing.T) {
	cfg := streamConfig(t) // topics and a migrated database on the shared server (unused below)
	local := testenv.StartLocalClickHouse(t)
	cfg.ClickHouse.Addr = []string{local.Addr}
	cfg.Pipeline.BatchSize = 1000
	cfg.Pipeline.RetryMax = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chstore.Migrate(ctx, conn, cfg.ClickHouse, quiet()); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	sc := newStreamScenario(t, 48*time.Hour, 17)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := app.NewRegistry()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(runCtx, cfg, ln, reg, quiet(), app.WithClock(func() time.Time { return sc.asOf }))
	}()
	half := len(sc.calls) / 2
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, sc.calls[:half])
	waitFor(t, done, time.Minute, func() bool { return gauge(t, reg, "hotline_pipeline_events_written_total") > 0 }) // mid-stream

	local.Stop()
	t.Log("clickhouse stopped")
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, sc.calls[half:])
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Tickets, sc.tickets)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Agents, sc.agents)
	var peak uint64
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		select {
		case err := <-done:
			t.Fatalf("pipeline gave up during the outage: %v", err)
		default:
		}
	}
	failures := gauge(t, reg, "hotline_pipeline_flush_stage_failures_total")
	local.Start()
	t.Logf("clickhouse back after 30 s; %v failed write attempts; peak heap in use %d MiB", failures, peak>>20)
	if failures < 3 {
		t.Errorf("only %v failed attempts in 30 s: the pipeline did not retry", failures)
	}
	if peak > 512<<20 {
		t.Errorf("heap grew to %d MiB during the outage", peak>>20)
	}
	waitFor(t, done, 2*time.Minute, func() bool { return committed(ctx, t, cfg.Kafka) })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertStreamEqualsCompute(t, cfg, sc)
}

// gauge sums a metric's series in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.Metric {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

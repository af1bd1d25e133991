package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// PipelineConfig returns a `run` configuration of the test's own on the
// real servers: a migrated database on the shared ClickHouse (dropped
// after the test), and a consumer group and call, ticket and dead-letter
// topics of the given partitions on broker, with small batches.
func PipelineConfig(t testing.TB, broker string, partitions int) config.Config {
	t.Helper()
	conn, chCfg := ClickHouse(t)
	// Generous: a loaded two-core machine has taken over 30 s to create
	// four topics and migrate a database.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.ClickHouse = chCfg
	name := UniqueName(t, "st")
	cfg.Kafka.Brokers = []string{broker}
	cfg.Kafka.GroupID = name
	cfg.Kafka.Topics = kafkaio.Topics{Calls: name + ".calls", Tickets: name + ".tickets", Agents: name + ".agents", DeadLetter: name + ".dlq"}
	cfg.Privacy.CallerHashKey.Value = "integration-test-key-0123456789"
	cfg.Pipeline.BatchSize = 2000
	cfg.Pipeline.FlushInterval = 200 * time.Millisecond
	cfg.Pipeline.WriteInterval = 400 * time.Millisecond // flushes gathered in twos: the writes of the product, sooner
	if _, err := chstore.Migrate(ctx, conn, cfg.ClickHouse, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, partitions, 1); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// StartPrometheus runs the real Prometheus on addr, scraping target (one
// address, or several separated by commas) every second and evaluating
// rules every second, with more configuration (rule_files, alerting) and
// lines of the scrape job (scheme, credentials) if given; it stops when
// the test ends.
func StartPrometheus(t testing.TB, bin, addr, target, more string, job ...string) {
	t.Helper()
	dir := t.TempDir()
	var targets []string
	for _, a := range strings.Split(target, ",") {
		targets = append(targets, fmt.Sprintf("%q", a))
	}
	conf := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
%sscrape_configs:
  - job_name: hotlineqc
    static_configs: [{targets: [%s]}]
%s`, more, strings.Join(targets, ", "), strings.Join(job, ""))
	if err := os.WriteFile(filepath.Join(dir, "prom.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	StartProcess(t, "http://"+addr+"/-/ready", bin, "--config.file="+filepath.Join(dir, "prom.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+addr)
}

package app_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

// ledgerDays are the days of the tamper-evidence scenario: the three
// before today, within the pipeline's periodic check.
var ledgerDays = func() []string {
	today := time.Now().In(shanghai)
	var out []string
	for d := 3; d >= 1; d-- {
		out = append(out, today.AddDate(0, 0, -d).Format("2006-01-02"))
	}
	return out
}()

// ledgerEvents are n calls of one event each on each day, to the calls
// topic, and n tickets on each day, to the tickets topic.
func ledgerEvents(n int, prefix string) (calls, tickets []kafka.Message) {
	for d, day := range ledgerDays {
		for i := range n {
			ts := fmt.Sprintf("%sT%02d:%02d:00+08:00", day, 9+i/60, i%60)
			call, ticket := fmt.Sprintf("%sk%d-%d", prefix, d, i), fmt.Sprintf("%st%d-%d", prefix, d, i)
			calls = append(calls, msg(call, `{"event_id":"%s-q","type":"call.queued","ts":"%s","center_id":"c1","call_id":"%s","queue":"general"}`, call, ts, call))
			tickets = append(tickets, msg(ticket, `{"event_id":"%s-c","type":"ticket.created","ts":"%s","center_id":"c1","ticket_id":"%s","category":"help"}`, ticket, ts, ticket))
		}
	}
	return calls, tickets
}

// TestTamperEvidence runs the pipeline on the real Kafka and ClickHouse
// with short ledger settings: every day is sealed, a replay and a late
// arrival through the pipeline keep it verified (with a new version), and
// an update, a delete and an insert made directly in ClickHouse are each
// named by verify, by the pipeline's check and its gauge, and by the
// `hotlineqc verify` command's exit status.
func TestTamperEvidence(t *testing.T) {
	cfg := streamConfig(t)
	cfg.Ledger = ledger.Config{Grace: 0, Settle: 2 * time.Second, Every: 300 * time.Millisecond, Check: time.Second}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := cfg.ClickHouse.Database
	led := ledger.New(chstore.NewLedgerStore(conn, db), shanghai, cfg.Ledger, quiet())

	calls, tickets := ledgerEvents(50, "")
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, calls)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Tickets, tickets)

	metricsOf, stop := runPipeline(ctx, t, cfg)
	versions := func(day string) uint32 {
		var v uint32
		q := fmt.Sprintf("SELECT max(version) FROM %s.event_digests WHERE day = toDate(?)", db)
		if err := conn.QueryRow(ctx, q, day).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	until(t, 60*time.Second, "every day sealed", func() bool {
		for _, d := range ledgerDays {
			if versions(d) == 0 {
				return false
			}
		}
		return true
	})
	allOK := map[string]ledger.Status{ledgerDays[0]: ledger.StatusOK, ledgerDays[1]: ledger.StatusOK, ledgerDays[2]: ledger.StatusOK}
	expectDays(ctx, t, led, allOK)

	// A replay and a late arrival through the pipeline.
	late := msg("late", `{"event_id":"late-q","type":"call.queued","ts":"%sT18:00:00+08:00","center_id":"c1","call_id":"late","queue":"general"}`, ledgerDays[0])
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, []kafka.Message{calls[0], late})
	until(t, 60*time.Second, "the late arrival sealed as version 2", func() bool { return versions(ledgerDays[0]) == 2 })
	expectDays(ctx, t, led, allOK)
	if v := versions(ledgerDays[1]); v != 1 {
		t.Errorf("%s has version %d after a replay of nothing of it", ledgerDays[1], v)
	}
	// A report from the store states the head of the centre's log.
	v, err := led.Verify(ctx, "c1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := report.FromStore(ctx, chstore.NewReader(conn, db), profile.Single(profile.Default()), time.Time{}, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	stated := false
	for _, in := range src.Inputs() {
		stated = stated || (strings.Contains(in.Name, "封存摘要链头 c1") && in.SHA256 == v.Heads["c1"].String())
	}
	if !stated {
		t.Errorf("report inputs %+v lack the chain head %s", src.Inputs(), v.Heads["c1"])
	}
	if m := metricsOf(); !strings.Contains(m, "hotline_ledger_unexplained_digests 0") || !strings.Contains(m, "hotline_ledger_versions_sealed_total 4") {
		t.Errorf("ledger series before tampering:\n%s", grep(m, "hotline_ledger"))
	}

	// Changes made directly in ClickHouse, one per day.
	mutate(ctx, t, conn, fmt.Sprintf("ALTER TABLE %s.raw_call_events UPDATE queue = 'vip' WHERE event_id = 'k0-5-q'", db))
	mutate(ctx, t, conn, fmt.Sprintf("ALTER TABLE %s.raw_ticket_events DELETE WHERE event_id = 't1-7-c'", db))
	forged, err := time.ParseInLocation("2006-01-02 15:04", ledgerDays[2]+" 10:00", shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.raw_call_events (event_id, type, ts, ts_ms, center_id, call_id, queue, v, ingested_at)
SELECT 'forged-q', 'call.queued', toDateTime(%d), %d, 'c1', 'forged', 'general', 1, now()`, db, forged.Unix(), forged.UnixMilli())); err != nil {
		t.Fatal(err)
	}
	expectDays(ctx, t, led, map[string]ledger.Status{ledgerDays[0]: ledger.StatusChanged, ledgerDays[1]: ledger.StatusRemoved, ledgerDays[2]: ledger.StatusAdded})
	until(t, 30*time.Second, "the pipeline's check counts the three days", func() bool {
		return strings.Contains(metricsOf(), "hotline_ledger_unexplained_digests 3")
	})
	stop()

	// The command an auditor runs: exit status 1, each day named.
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", cfg.ClickHouse.Username, cfg.ClickHouse.Addr[0], db)
	out, err := exec.Command(binary(t), "verify", "--clickhouse", dsn, "--from", ledgerDays[0], "--to", ledgerDays[2]).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("verify exit = %v, want status 1\n%s", err, out)
	}
	for _, s := range []string{ledgerDays[0], "封存后记录被改动", ledgerDays[1], "封存后被删除记录", ledgerDays[2], "封存后被新增记录"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("verify output lacks %q:\n%s", s, out)
		}
	}
}

// runPipeline runs app.Run on cfg until stop; metrics scrapes it.
func runPipeline(ctx context.Context, t *testing.T, cfg config.Config) (metrics func() string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet()) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after stop = %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not stop")
		}
	}
	t.Cleanup(stop)
	return func() string { return scrape(t, "http://"+ln.Addr().String()+"/metrics") }, stop
}

func until(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func expectDays(ctx context.Context, t *testing.T, led *ledger.Ledger, want map[string]ledger.Status) {
	t.Helper()
	v, err := led.Verify(ctx, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Breaks) > 0 {
		t.Errorf("chain breaks: %+v", v.Breaks)
	}
	got := map[string]ledger.DayResult{}
	for _, d := range v.Days {
		got[d.Day] = d
	}
	for d, s := range want {
		if got[d].Status != s {
			t.Errorf("%s: %v, want %s", d, got[d], s)
		}
	}
}

// mutate runs an ALTER … UPDATE/DELETE and waits until it is applied.
func mutate(ctx context.Context, t *testing.T, conn driver.Conn, q string) {
	t.Helper()
	if err := conn.Exec(ctx, q); err != nil {
		t.Fatal(err)
	}
	until(t, 30*time.Second, "mutation applied: "+q, func() bool {
		var pending uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE is_done = 0").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0
	})
}

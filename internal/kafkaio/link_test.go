package kafkaio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// syncBuffer is a log sink safe for the Link's probing goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// testLink returns a Link whose probe answers as reachable says.
func testLink(reachable *atomic.Bool) (*Link, *syncBuffer) {
	var logs syncBuffer
	l := &Link{every: time.Millisecond, log: slog.New(slog.NewTextHandler(&logs, nil)), now: time.Now, stop: make(chan struct{}),
		probe: func(context.Context) error {
			if reachable.Load() {
				return nil
			}
			return fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
		}}
	return l, &logs
}

func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 5 s", what)
		}
	}
}

// An outage is counted and logged once however many operations fail, and
// its end once, with its length; the gauges and readiness follow.
func TestLinkLogsAnOutageOnce(t *testing.T) {
	var reachable atomic.Bool
	l, logs := testLink(&reachable)
	defer l.Close()
	reg := prometheus.NewRegistry()
	l.Register(reg)
	for range 50 {
		l.Failed(fmt.Errorf("fetch: %w", syscall.ECONNREFUSED))
	}
	until(t, "down", func() bool { _, down := l.Down(); return down })
	for range 50 {
		l.Failed(fmt.Errorf("commit: %w", syscall.ECONNRESET))
	}
	if err := l.Ready(); err == nil || !strings.Contains(err.Error(), "kafka unreachable") {
		t.Errorf("Ready during the outage = %v", err)
	}
	if v := valueOf(t, reg, "hotline_kafka_connected"); v != 0 {
		t.Errorf("hotline_kafka_connected = %v during the outage", v)
	}
	time.Sleep(20 * time.Millisecond)
	reachable.Store(true)
	until(t, "up", func() bool { _, down := l.Down(); return !down })
	if err := l.Ready(); err != nil {
		t.Errorf("Ready after the outage = %v", err)
	}
	out := logs.String()
	if strings.Count(out, "kafka unreachable") != 1 || strings.Count(out, "kafka reachable again") != 1 || !strings.Contains(out, "outage=") {
		t.Errorf("log:\n%s", out)
	}
	if v := valueOf(t, reg, "hotline_kafka_outages_total"); v != 1 {
		t.Errorf("outages = %v", v)
	}
}

// A failed operation whose broker answers the probe (a stale connection,
// a broker back already) is no outage; nor is an error Kafka answered.
func TestLinkIgnoresWhatIsNoOutage(t *testing.T) {
	var reachable atomic.Bool
	reachable.Store(true)
	l, logs := testLink(&reachable)
	defer l.Close()
	l.Failed(fmt.Errorf("commit: %w", syscall.EPIPE))
	until(t, "probed", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return !l.probing })
	reachable.Store(false)
	l.Failed(fmt.Errorf("join: %w", kafka.RebalanceInProgress))
	l.Failed(fmt.Errorf("login: %w", kafka.SASLAuthenticationFailed))
	time.Sleep(50 * time.Millisecond)
	if _, down := l.Down(); down || logs.String() != "" {
		t.Errorf("down = %v, log %q", down, logs.String())
	}
}

func TestDisconnection(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("fetch: failed to dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("commit: %w", errors.New("EOF")), false},
		{kafka.BrokerNotAvailable, true},
		{kafka.RebalanceInProgress, false},
		{kafka.SASLAuthenticationFailed, false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := Disconnection(c.err); got != c.want {
			t.Errorf("Disconnection(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Waits double from Min up to Max, each drawn from [d/2, d].
func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for i, d := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		d *= time.Millisecond
		if got := b.Next(); got < d/2 || got > d {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, got, d/2, d)
		}
	}
	b.Reset()
	if got := b.Next(); got > 100*time.Millisecond {
		t.Errorf("after Reset: %s", got)
	}
}

// Only the messages a batch write says failed are written again.
func TestFailedKeepsOnlyWhatFailed(t *testing.T) {
	msgs := []kafka.Message{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
	got := failed(msgs, kafka.WriteErrors{nil, kafka.NotEnoughReplicas, nil})
	if len(got) != 1 || string(got[0].Value) != "b" {
		t.Errorf("failed = %v", got)
	}
	if got := failed(msgs, syscall.ECONNREFUSED); len(got) != 3 {
		t.Errorf("failed without per-message errors = %v", got)
	}
}

func valueOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.Metric[0].GetGauge().GetValue() + mf.Metric[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("%s not registered", name)
	return 0
}

package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Link says whether this process reaches Kafka. Every place that talks to
// Kafka reports its failures and successes to the one Link of the process;
// a failure that looks like a lost connection makes the Link probe the
// brokers (a dial with TLS and SASL, as the clients do), and only when no
// broker answers is Kafka counted as unreachable: a stale connection to a
// broker that is back is not an outage. While unreachable, the Link
// probes every few seconds until a broker answers or an operation
// succeeds. The log says once that Kafka is unreachable and once that it
// is back, with the outage's length.
type Link struct {
	probe func(context.Context) error
	every time.Duration // between probes while unreachable
	log   *slog.Logger
	now   func() time.Time

	// downAt is when Kafka became unreachable, in Unix nanoseconds; 0
	// while connected (read without the lock on every fetched message).
	downAt atomic.Int64

	mu      sync.Mutex
	lastErr error
	probing bool
	outages int
	stop    chan struct{}
}

// ProbeEvery is how often an unreachable Kafka is probed; a probe that
// gets no answer within probeTimeout (a broker still starting accepts
// connections before it answers) counts as failed.
const (
	ProbeEvery   = 2 * time.Second
	probeTimeout = 3 * time.Second
)

// NewLink returns the Link of c's brokers; log, if set, receives the
// outage and recovery messages.
func NewLink(c Config, log *slog.Logger) *Link {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Link{probe: func(ctx context.Context) error { return Reach(ctx, c) }, every: ProbeEvery, log: log, now: time.Now,
		stop: make(chan struct{})}
}

// Close stops probing.
func (l *Link) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
}

// Failed reports a failed Kafka operation. An error that says the
// connection was lost or refused starts a probe; other errors (a rebalance,
// a refused login) say nothing about reachability and are ignored here.
func (l *Link) Failed(err error) {
	if l == nil || !Disconnection(err) {
		return
	}
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
	l.Suspect()
}

// Suspect makes the Link probe the brokers now (unless a probe runs): an
// operation takes longer than a reachable broker would.
func (l *Link) Suspect() {
	if l == nil {
		return
	}
	l.mu.Lock()
	start := !l.probing
	l.probing = true
	l.mu.Unlock()
	if start {
		go l.probeLoop()
	}
}

// OK reports a Kafka operation that succeeded: Kafka is reachable.
func (l *Link) OK() {
	if l == nil || l.downAt.Load() == 0 {
		return
	}
	l.up("operation")
}

// probeLoop dials the brokers until one answers: at once, then every
// ProbeEvery while none does.
func (l *Link) probeLoop() {
	defer func() { l.mu.Lock(); l.probing = false; l.mu.Unlock() }()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		err := l.probe(ctx)
		cancel()
		if err == nil {
			l.up("probe")
			return
		}
		l.markDown(err)
		select {
		case <-l.stop:
			return
		case <-time.After(l.every):
		}
		if l.downAt.Load() == 0 { // an operation succeeded meanwhile
			return
		}
	}
}

func (l *Link) markDown(probeErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.downAt.Load() != 0 {
		return
	}
	l.downAt.Store(l.now().UnixNano())
	l.outages++
	l.log.Warn("kafka unreachable; waiting for a broker, nothing is dropped meanwhile",
		"error", l.lastErr, "probe", probeErr)
}

func (l *Link) up(by string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at := l.downAt.Load()
	if at == 0 {
		return
	}
	l.log.Info("kafka reachable again", "outage", l.now().Sub(time.Unix(0, at)).Round(time.Millisecond).String(), "noticed_by", by)
	l.downAt.Store(0)
}

// Down reports whether Kafka is unreachable now, and for how long.
func (l *Link) Down() (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	at := l.downAt.Load()
	if at == 0 {
		return 0, false
	}
	return l.now().Sub(time.Unix(0, at)), true
}

// Ready returns nil while Kafka is reachable, else why not: the check of
// /healthz.
func (l *Link) Ready() error {
	if d, down := l.Down(); down {
		return fmt.Errorf("kafka unreachable for %s", d.Round(time.Second))
	}
	return nil
}

// Register adds the Link's gauges to reg: hotline_kafka_connected (1 or 0),
// hotline_kafka_disconnected_seconds (0 while connected) and
// hotline_kafka_outages_total.
func (l *Link) Register(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_kafka_connected",
			Help: "1 while this process reaches a Kafka broker, 0 while none answers."},
			func() float64 {
				if _, down := l.Down(); down {
					return 0
				}
				return 1
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_kafka_disconnected_seconds",
			Help: "How long no Kafka broker has answered this process (0 while connected)."},
			func() float64 { d, _ := l.Down(); return d.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_kafka_outages_total",
			Help: "Times this process lost every Kafka broker."},
			func() float64 { l.mu.Lock(); defer l.mu.Unlock(); return float64(l.outages) }),
	)
}

// Disconnection reports whether err says a connection to Kafka was
// refused, lost or timed out, rather than that Kafka answered with an
// error. A kafka.Error has the methods of a net.Error, so it is asked
// first.
func Disconnection(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, kafka.BrokerNotAvailable) || errors.Is(err, kafka.NetworkException) {
		return true
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Backoff is capped exponential backoff with jitter: each wait is drawn
// from [d/2, d], d doubling from Min up to Max, so that instances that
// lost Kafka together do not come back in step.
type Backoff struct {
	Min, Max time.Duration
	d        time.Duration
}

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	if b.d == 0 {
		b.d = b.Min
	} else {
		b.d = min(b.d*2, b.Max)
	}
	half := b.d / 2
	return half + rand.N(b.d-half+1)
}

// Reset starts again from Min.
func (b *Backoff) Reset() { b.d = 0 }

// Sleep waits d or until ctx ends; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Package app assembles the long-running processes of hotlineqc from their
// parts: it opens the connections, builds the pipeline, serves /metrics, and
// owns the lifecycle (start, run, drain on stop).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/httpserve"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
	"github.com/hotlineqc/hotlineqc/internal/privacy"
)

// NewLogger builds the process logger from the log configuration.
func NewLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Option changes how Run works, for tests.
type Option func(*runOptions)

type runOptions struct{ clock func() time.Time }

// WithClock sets the evaluation clock (time.Now by default).
func WithClock(clock func() time.Time) Option { return func(o *runOptions) { o.clock = clock } }

// Run runs the production pipeline until ctx ends, then drains: the last
// batch is flushed and committed before Run returns. /metrics is served on
// ln for as long as the pipeline runs.
func Run(ctx context.Context, cfg config.Config, ln net.Listener, reg *prometheus.Registry, log *slog.Logger, opts ...Option) error {
	ro := runOptions{clock: time.Now}
	for _, o := range opts {
		o(&ro)
	}
	if open := cfg.Unprotected(); len(open) > 0 {
		if cfg.Production {
			return fmt.Errorf("production: refusing to start with %s", strings.Join(open, "; "))
		}
		for _, o := range open {
			log.Warn("unprotected: "+o, "hint", "set production: true to refuse this")
		}
	}
	key, err := cfg.Privacy.CallerHashKey.Load()
	if err != nil {
		return fmt.Errorf("privacy.caller_hash_key: %w", err)
	}
	hasher, err := privacy.NewHasher([]byte(key.Reveal()))
	if err != nil {
		return fmt.Errorf("privacy.caller_hash_key: %w", err)
	}
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := chstore.CheckSchema(ctx, conn, cfg.ClickHouse); err != nil {
		return err
	}
	set, err := cfg.ProfileSet()
	if err != nil {
		return err
	}
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		return err
	}
	// The ledger's days are in the default profile's time zone, for every
	// centre: `verify --profile` must name the same default.
	led := ledger.New(chstore.NewLedgerStore(conn, cfg.ClickHouse.Database), set.Default.Location(), cfg.Ledger, log)
	pl, err := Assemble(Parts{
		Kafka: cfg.Kafka, Pipeline: cfg.Pipeline, Stream: cfg.Stream, Profiles: ps,
		Store:  chstore.NewReader(conn, cfg.ClickHouse.Database),
		Raw:    led.Marker(chstore.NewRawWriter(conn, cfg.ClickHouse.Database), time.Now),
		States: chstore.NewStateWriter(conn, cfg.ClickHouse),
		NewDecoder: func() *event.Decoder {
			return &event.Decoder{MaxBytes: cfg.Kafka.MaxMessageBytes, HashCaller: hasher.Clone().Hash}
		},
		MaskCaller: maskCaller(cfg.Privacy, hasher),
		Clock:      ro.clock, Registry: reg, Log: log,
	})
	if err != nil {
		return err
	}
	defer pl.Close()
	stage, p, link := pl.Stage, pl.Loop, pl.Link

	log.Info("pipeline starting", "brokers", cfg.Kafka.Brokers, "group", cfg.Kafka.GroupID,
		"topics", cfg.Kafka.Topics.Inputs(),
		"clickhouse", cfg.ClickHouse.Addr, "database", cfg.ClickHouse.Database, "metrics", ln.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		mux := httpserve.Mux(reg, link.Ready)
		if cfg.HTTP.PProf {
			httpserve.WithProfiling(mux)
		}
		return httpserve.Run(gctx, ln, mux, cfg.HTTP.WebConfigFile, log)
	})
	// The owner of the first ticket partition seals the days.
	sealer := kafkaio.Partition{Topic: cfg.Kafka.Topics.Tickets, Partition: 0}
	ledgerMetrics := ledger.NewMetrics(reg)
	g.Go(func() error { return led.Run(gctx, func() bool { return stage.Owns(sealer) }, ledgerMetrics) })
	settler := chstore.NewSettler(conn, cfg.ClickHouse.Database, log)
	g.Go(func() error { settler.Run(gctx, cfg.ClickHouse.SettleEvery); return nil })
	staffing := newStaffingWatch(reg, ps, chstore.NewReader(conn, cfg.ClickHouse.Database).StaffingCells, ro.clock, log)
	g.Go(func() error { staffing.run(gctx, cfg.ClickHouse.SettleEvery); return nil })
	needs := newNeedsWatch(reg, set, ps, chstore.NewReader(conn, cfg.ClickHouse.Database).NeedsSince, ro.clock, log)
	g.Go(func() error { needs.run(gctx, cfg.ClickHouse.SettleEvery); return nil })
	g.Go(func() error {
		err := p.Run(gctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("pipeline stopped unexpectedly")
		}
		return err
	})
	return g.Wait()
}

// maskCaller is the hash that replaces callers in dead-letter records, or
// nil when the deployment keeps them in clear.
func maskCaller(p config.Privacy, h *privacy.Hasher) func(string) string {
	if p.DeadLetterClearCaller {
		return nil
	}
	return h.Hash
}

// Package demo runs the whole loop on one machine with no outside service:
// an in-process Kafka-protocol broker (kfake), the traffic simulator in
// accelerated time producing to it, the production pipeline and live state
// stage consuming through a kafka-go consumer group (stored in memory, or in
// ClickHouse with --clickhouse), and a status page and /metrics on loopback.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/memstore"
	"github.com/hotlineqc/hotlineqc/internal/privacy"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
)

// Options configure a demo run.
type Options struct {
	Listener net.Listener  // where the status page and /metrics are served
	Speed    float64       // simulated seconds per wall-clock second
	Backfill time.Duration // simulated time generated at once before pacing
	Span     time.Duration // simulated time in all
	Centers  int
	Seed     uint64
	Profile  *profile.Profile
	Log      *slog.Logger
	Out      io.Writer // where the addresses are printed
	// ClickHouse, if set, is a DSN: the pipeline then also stores raw
	// events and call and ticket state there, as `hotlineqc run` does.
	ClickHouse string
	// WebConfig, if set, is an exporter-toolkit web configuration file:
	// the status page and /metrics are served with its TLS and basic auth.
	WebConfig string
}

// Run runs the demo until ctx ends, then stops everything cleanly.
func Run(ctx context.Context, o Options) error {
	topics := kafkaio.Topics{Calls: "hotline.calls", Tickets: "hotline.tickets", Agents: "hotline.agents", DeadLetter: "hotline.dlq"}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics.Calls, topics.Tickets, topics.Agents, topics.DeadLetter))
	if err != nil {
		return fmt.Errorf("start in-process Kafka: %w", err)
	}
	defer cluster.Close()
	kc := kafkaio.DefaultConfig()
	kc.Brokers, kc.Topics, kc.GroupID = cluster.ListenAddrs(), topics, "hotlineqc-demo"

	cal, err := o.Profile.NewCalendar()
	if err != nil {
		return err
	}
	loc := o.Profile.Location()
	y, m, d := time.Now().In(loc).Date()
	start := time.Date(y, m, d, 7, 0, 0, 0, loc) // a morning: traffic at once
	cfg := sim.Default(o.Centers, start, o.Span, o.Seed)
	cfg.Agents = true // the agents' sign-ins, breaks and calls: 坐席 and staffing
	s, err := sim.New(cfg, o.Profile, cal)
	if err != nil {
		return err
	}

	reg := app.NewRegistry()

	st, closeStore, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer closeStore()
	// The production pipeline of `run`, evaluated on the simulator's
	// clock, with the live indicator metrics `run` serves.
	ps := indicator.Single(o.Profile, cal)
	pace := &sim.Accelerated{Speed: o.Speed, From: start.Add(o.Backfill).UnixMilli()}
	status := newStatus(o.Profile, ps, pace, st.reader, st.raw)
	reg.MustRegister(status.simTime)
	pcfg := ingest.DefaultConfig()
	pcfg.BatchSize, pcfg.FlushInterval, pcfg.WriteInterval = 2000, 250*time.Millisecond, time.Second
	hasher := privacy.Ephemeral()
	pl, err := app.Assemble(app.Parts{
		Kafka: kc, Pipeline: pcfg, Stream: livestate.DefaultConfig(), Profiles: ps,
		Store: st.reader, Raw: status, States: st.states,
		// Callers hashed with a key that lives only in this process: the
		// demo's repeat calls, and no number kept.
		NewDecoder: func() *event.Decoder { return &event.Decoder{HashCaller: hasher.Clone().Hash} },
		Clock:      func() time.Time { return time.UnixMilli(pace.Clock()) },
		Registry:   reg, Log: o.Log,
	})
	if err != nil {
		return err
	}
	defer pl.Close()
	if o.ClickHouse != "" {
		fmt.Fprintf(o.Out, "  clickhouse   database %s\n", st.db)
	}
	p := pl.Loop

	url := "http://" + o.Listener.Addr().String()
	fmt.Fprintf(o.Out, "hotlineqc demo: %d centre(s), simulated from %s at %g× speed\n", o.Centers, start.Format("2006-01-02 15:04"), o.Speed)
	fmt.Fprintf(o.Out, "  status page  %s/\n  metrics      %s/metrics\n  kafka        %s (in-process)\nPress Ctrl-C to stop.\n", url, url, kc.Brokers[0])

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(gctx, o.Listener, status, reg, o.WebConfig, o.Log, pl.Link.Ready) })
	g.Go(func() error { return p.Run(gctx) })
	if st.settler != nil {
		g.Go(func() error { st.settler.Run(gctx, chstore.DefaultConfig().SettleEvery); return nil })
	}
	g.Go(func() error { return produce(gctx, kc, s, pace) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

// store is where the demo's pipeline keeps raw events and state, and
// reads them back: memstore, or ClickHouse with --clickhouse.
type store struct {
	raw    ingest.RawSink
	states ingest.StateSink
	reader interface {
		livestate.Store
		storedReader
	}
	db      string
	settler *chstore.Settler // the daily aggregates in ClickHouse; none in memory
}

// openStore returns the demo's store and what closes it.
func openStore(ctx context.Context, o Options) (*store, func(), error) {
	if o.ClickHouse == "" {
		m := memstore.New()
		return &store{raw: m, states: m, reader: m}, func() {}, nil
	}
	conn, db, err := chstore.OpenDSN(ctx, o.ClickHouse)
	if err != nil {
		return nil, nil, err
	}
	cfg := chstore.DefaultConfig()
	cfg.Database = db
	if _, err := chstore.Migrate(ctx, conn, cfg, o.Log); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return &store{raw: chstore.NewRawWriter(conn, db), states: chstore.NewStateWriter(conn, cfg), reader: chstore.NewReader(conn, db),
		settler: chstore.NewSettler(conn, db, o.Log), db: db}, func() { conn.Close() }, nil
}

// produce runs the simulator into Kafka.
func produce(ctx context.Context, kc kafkaio.Config, s *sim.Sim, pace sim.Pacer) error {
	prod, err := kafkaio.NewProducer(kc, nil)
	if err != nil {
		return err
	}
	defer prod.Close()
	var batch []kafkaio.Outgoing
	last := time.Now()
	flush := func() error {
		err := prod.Write(ctx, batch...)
		batch, last = batch[:0], time.Now()
		return err
	}
	_, err = s.Run(ctx, func(e sim.Event) error {
		batch = append(batch, kafkaio.Outgoing{Ticket: e.Ticket, Agent: e.Agent, Key: []byte(e.Key), Value: e.JSON})
		if len(batch) >= 500 || time.Since(last) > 100*time.Millisecond {
			return flush()
		}
		return nil
	}, pace)
	if err == nil {
		err = flush()
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

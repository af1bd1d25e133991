package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
)

type simulateFlags struct {
	out, kafka, topics, start, truth, profile string
	kafkaConfig                               string
	preset                                    string
	span                                      time.Duration
	centers                                   int
	seed                                      uint64
	rate, speed                               float64
	partitions                                int
	inject                                    map[string]string
	agents                                    bool
	surges                                    []string
}

func newSimulateCmd() *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate (--out FILE | --kafka BROKERS)",
		Short: "Generate realistic, seeded hotline traffic to NDJSON or Kafka",
		Long: `Simulate one or more hotline centres: calls on a daily curve waiting for agents
on shifts, abandoning when patience runs out; tickets from calls and written
channels handled by departments of different speed, with returns, callbacks
and reopens; statutory holidays and make-up days. The same seed gives the
same events. --truth writes what the simulation did (calls offered, answered,
abandoned; tickets late), which an evaluation of its output must reproduce.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSimulate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "write NDJSON to this file (- for stdout)")
	fl.StringVar(&f.kafka, "kafka", "", "produce to these Kafka brokers (comma-separated)")
	fl.StringVar(&f.topics, "topics", "hotline.calls,hotline.tickets", "call and ticket topics, and the agent topic (default hotline.agents)")
	fl.StringVar(&f.kafkaConfig, "config", "", "with --kafka: TLS and SASL from this configuration file's kafka section (and HOTLINEQC_KAFKA__… variables)")
	fl.StringVar(&f.start, "start", "", "simulated start, RFC 3339, or a negative duration from now such as -168h (default: today 00:00 in the profile's time zone)")
	fl.DurationVar(&f.span, "span", 24*time.Hour, "simulated duration, e.g. 24h or 720h (a month)")
	fl.IntVar(&f.centers, "centers", 1, "number of centres")
	fl.StringVar(&f.preset, "preset", "default", "default (centres of about 3,400 calls a working day; most targets met), strained (the same centres under strain: slow departments, many breaches and late tickets) or large (one centre of 50,000–60,000 calls a working day; --centers ignored)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	fl.Float64Var(&f.rate, "rate", 0, "events per second (0: as fast as possible)")
	fl.Float64Var(&f.speed, "speed", 0, "follow the clock: simulated time before now is produced at once, after now at this many simulated seconds per second (1: real time; 0: as fast as possible)")
	fl.StringVar(&f.truth, "truth", "", "write the ground truth (JSON) to this file")
	fl.IntVar(&f.partitions, "partitions", 3, "with --kafka: partitions of the topics when they must be created")
	fl.StringVar(&f.profile, "profile", profile.DefaultID, "profile whose deadlines and calendar the truth uses")
	fl.BoolVar(&f.agents, "agents", false, "also emit the agents' events (sign-in and sign-out at the shift changes, breaks and meals, busy, wrap-up, ready); "+
		"to the agent topic with --kafka)")
	fl.StringToStringVar(&f.inject, "inject", nil, "add calls and tickets with a records fault, per centre and day, by audit class "+
		"(e.g. ticket_without_created=2,answer_without_end=0.5; all=R for every class); the truth lists them")
	fl.StringArrayVar(&f.surges, "surge", nil, "a hot spot: multiply a topic's share of the day's requests, TOPIC@YYYY-MM-DD×FACTOR "+
		"(or x), e.g. 0101@2026-07-15x6 (topics of pipelines/topics/example-topics.csv; repeatable)")
	return cmd
}

func runSimulate(cmd *cobra.Command, f simulateFlags) error {
	if (f.out == "") == (f.kafka == "") {
		return errors.New("give exactly one of --out FILE and --kafka BROKERS")
	}
	p, err := profile.Load(f.profile)
	if err != nil {
		return err
	}
	cal, err := p.NewCalendar()
	if err != nil {
		return err
	}
	y, m, d := time.Now().In(p.Location()).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, p.Location())
	if ago, derr := time.ParseDuration(f.start); derr == nil && ago < 0 {
		start = time.Now().Add(ago).Truncate(time.Minute)
	} else if f.start != "" {
		if start, err = time.Parse(time.RFC3339, f.start); err != nil {
			return fmt.Errorf("--start %q: want RFC 3339 or a negative duration", f.start)
		}
	}
	preset, ok := sim.Presets[f.preset]
	if !ok {
		return fmt.Errorf("--preset %q: want default, strained or large", f.preset)
	}
	cfg := preset(f.centers, start, f.span, f.seed)
	cfg.Agents = f.agents
	for _, s := range f.surges {
		sg, err := sim.ParseSurge(s)
		if err != nil {
			return err
		}
		cfg.Surges = append(cfg.Surges, sg)
	}
	if cfg.Inject, err = injectRates(f.inject); err != nil {
		return err
	}
	s, err := sim.New(cfg, p, cal)
	if err != nil {
		return err
	}
	sink, done, err := simSink(cmd.Context(), f)
	if err != nil {
		return err
	}
	var pace sim.Pacer
	if f.speed > 0 {
		pace = &sim.Accelerated{Speed: f.speed, From: time.Now().UnixMilli()}
	}
	if f.rate > 0 {
		rate := &sim.Rate{PerSecond: f.rate}
		inner := sink
		sink = func(e sim.Event) error {
			if err := rate.Wait(cmd.Context(), 0); err != nil {
				return err
			}
			return inner(e)
		}
	}
	truth, err := s.Run(cmd.Context(), sink, pace)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "simulated %s from %s: %d events, %d calls offered, %d tickets\n",
		f.span, start.Format(time.RFC3339), truth.Events, truth.CallsOffered, truth.TicketsCreated)
	if f.truth != "" {
		b, _ := json.MarshalIndent(truth, "", "  ")
		return os.WriteFile(f.truth, append(b, '\n'), 0o644)
	}
	return nil
}

// injectRates reads --inject: class=rate pairs, "all" for every class.
func injectRates(flag map[string]string) (map[string]float64, error) {
	out := map[string]float64{}
	for k, v := range flag {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("--inject %s=%q: want a rate per centre and day", k, v)
		}
		if k == "all" {
			for _, c := range sim.InjectableClasses() {
				if _, set := flag[c]; !set {
					out[c] = rate
				}
			}
			continue
		}
		out[k] = rate
	}
	return out, nil
}

// simSink returns where events go and a function that flushes and closes it.
func simSink(ctx context.Context, f simulateFlags) (sim.Sink, func() error, error) {
	if f.out != "" {
		file := os.Stdout
		if f.out != "-" {
			var err error
			if file, err = os.Create(f.out); err != nil {
				return nil, nil, err
			}
		}
		w := bufio.NewWriterSize(file, 1<<20)
		sink := func(e sim.Event) error {
			w.Write(e.JSON)
			return w.WriteByte('\n')
		}
		return sink, func() error {
			err := w.Flush()
			if f.out != "-" {
				err = errors.Join(err, file.Close())
			}
			return err
		}, nil
	}
	prod, err := openProducer(ctx, f.kafkaConfig, f.kafka, f.topics, f.partitions)
	if err != nil {
		return nil, nil, err
	}
	var batch []kafkaio.Outgoing
	flush := func() error {
		err := prod.Write(ctx, batch...)
		batch = batch[:0]
		return err
	}
	sink := func(e sim.Event) error {
		batch = append(batch, kafkaio.Outgoing{Ticket: e.Ticket, Agent: e.Agent, Key: []byte(e.Key), Value: e.JSON})
		// Paced (--rate), a write carries about 50 ms of events: one write
		// per event would bound the rate by Kafka's round trip (~200/s).
		if len(batch) >= 1000 || (f.rate > 0 && len(batch) >= max(1, int(f.rate/20))) {
			return flush()
		}
		return nil
	}
	return sink, func() error { return errors.Join(flush(), prod.Close()) }, nil
}

// openProducer creates the call and ticket topics when missing and returns
// a producer for them; the connection's security is the kafka section of
// the configuration file at path, when given.
func openProducer(ctx context.Context, path, brokers, topics string, partitions int) (*kafkaio.Producer, error) {
	cfg := kafkaio.DefaultConfig()
	if path != "" {
		c, err := config.LoadKafka(path, os.Environ())
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	cfg.Brokers = strings.Split(brokers, ",")
	switch t := strings.Split(topics, ","); len(t) {
	case 3:
		cfg.Topics.Agents = t[2]
		fallthrough
	case 2:
		cfg.Topics.Calls, cfg.Topics.Tickets = t[0], t[1]
	default:
		return nil, fmt.Errorf("--topics %q: want CALLS,TICKETS[,AGENTS]", topics)
	}
	// Waiting for the brokers and retrying deliveries through an outage
	// are logged once per outage.
	link := kafkaio.NewLink(cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	b := kafkaio.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	for {
		if err := kafkaio.Await(ctx, cfg, link); err != nil {
			return nil, err
		}
		err := kafkaio.CreateTopics(ctx, cfg, partitions, 1, cfg.Topics.Calls, cfg.Topics.Tickets, cfg.Topics.Agents)
		if err == nil {
			break
		}
		if !kafkaio.Disconnection(err) || ctx.Err() != nil {
			return nil, err
		}
		link.Failed(err) // the broker went away between the two: wait again
		kafkaio.Sleep(ctx, b.Next())
	}
	return kafkaio.NewProducer(cfg, link)
}

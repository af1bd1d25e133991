package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

type importFlags struct {
	mapping, reader, center, out, kafka, topics, state, deadLetter string
	kafkaConfig                                                    string
	vars                                                           map[string]string
	follow, deadLetterRaw, printMapping                            bool
	poll                                                           time.Duration
	partitions                                                     int
}

func newImportCmd() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --mapping NAME|FILE (--out FILE | --kafka BROKERS) [INPUT ...]",
		Short: "Turn a vendor or CSV export into canonical events (NDJSON or Kafka)",
		Long: `Read what a centre's systems already write and emit canonical v1 events.
A mapping says how a record becomes events (docs/adapters.md). Built-in
mappings: ` + strings.Join(adapter.Builtins(), ", ") + `.
Print one with --print-mapping to start your own.

Bad records are rejected with a reason, reported on stderr with their line,
written to --dead-letter, and counted; the import goes on. A summary of what
was emitted, skipped and rejected ends the run. With --state the import
resumes where it stopped; with --follow it keeps reading the last input as
it grows (across log rotation) until interrupted. Inputs default to stdin.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mapping, "mapping", "", "mapping file, or a built-in mapping's name")
	fl.StringVar(&f.reader, "reader", "", "override the mapping's reader: csv, xlsx, queue_log or json (e.g. csv for a queue_log database table)")
	fl.StringVar(&f.center, "center", "", "centre id, for mappings that take it as {$center}")
	fl.StringToStringVar(&f.vars, "var", nil, "set a mapping variable {$NAME} (repeatable NAME=VALUE)")
	fl.StringVar(&f.out, "out", "", "write NDJSON events to this file (- for stdout)")
	fl.StringVar(&f.kafka, "kafka", "", "produce events to these Kafka brokers (comma-separated), keyed by call or ticket id")
	fl.StringVar(&f.topics, "topics", "hotline.calls,hotline.tickets", "with --kafka: call and ticket topics, and the agent topic (default hotline.agents)")
	fl.StringVar(&f.kafkaConfig, "config", "", "with --kafka: TLS and SASL from this configuration file's kafka section (and HOTLINEQC_KAFKA__… variables)")
	fl.IntVar(&f.partitions, "partitions", 3, "with --kafka: partitions of the topics when they must be created")
	fl.BoolVar(&f.follow, "follow", false, "keep reading the last input as it grows, until interrupted")
	fl.DurationVar(&f.poll, "poll", time.Second, "with --follow: how often to look for new data")
	fl.StringVar(&f.state, "state", "", "resume file: where each input was read up to (created if missing)")
	fl.StringVar(&f.deadLetter, "dead-letter", "", "write rejected records to this NDJSON file")
	fl.BoolVar(&f.deadLetterRaw, "dead-letter-raw", false, "also keep each rejected record as read, phone numbers included")
	fl.BoolVar(&f.printMapping, "print-mapping", false, "print the mapping (a built-in one's YAML) and exit")
	return cmd
}

func runImport(cmd *cobra.Command, f importFlags, inputs []string) error {
	if f.mapping == "" {
		return errors.New("--mapping is required (built-in: " + strings.Join(adapter.Builtins(), ", ") + ")")
	}
	if f.printMapping {
		return printMapping(cmd, f.mapping)
	}
	m, err := adapter.LoadMapping(f.mapping)
	if err != nil {
		return err
	}
	if (f.out == "") == (f.kafka == "") {
		return errors.New("give exactly one of --out FILE and --kafka BROKERS")
	}
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := adapter.Options{Mapping: m, Vars: map[string]string{}, Reader: f.reader, Files: inputs,
		Follow: f.follow, Poll: f.poll, State: f.state}
	for k, v := range f.vars {
		opts.Vars[k] = v
	}
	if f.center != "" {
		opts.Vars["center"] = f.center
	}
	stderr := cmd.ErrOrStderr()
	opts.OnReject = func(r adapter.Reject) {
		fmt.Fprintf(stderr, "%s:%d: rejected: %s: %s\n", r.File, r.Line, r.Reason, r.Detail)
	}
	if f.deadLetter != "" {
		dl, closeDL, err := importDeadLetter(f)
		if err != nil {
			return err
		}
		defer closeDL()
		opts.DeadLetter = dl
	}
	sink, closeSink, err := importSink(ctx, f)
	if err != nil {
		return err
	}
	opts.Sink = sink
	sum, err := adapter.Import(ctx, opts)
	if cerr := closeSink(); err == nil {
		err = cerr
	}
	if sum != nil {
		for _, l := range sum.Lines() {
			fmt.Fprintln(stderr, l)
		}
	}
	return err
}

func printMapping(cmd *cobra.Command, name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		if b, err = adapter.BuiltinMapping(name); err != nil {
			return err
		}
	}
	_, err = cmd.OutOrStdout().Write(b)
	return err
}

func importDeadLetter(f importFlags) (*adapter.DeadLetter, func(), error) {
	file, err := os.Create(f.deadLetter)
	if err != nil {
		return nil, nil, fmt.Errorf("dead-letter file: %w", err)
	}
	mask, err := deadLetterHasher()
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	dl := adapter.NewDeadLetter(file, mask)
	dl.Raw = f.deadLetterRaw
	return dl, func() { file.Close() }, nil
}

// importSink returns where the events go and a function that closes it.
func importSink(ctx context.Context, f importFlags) (adapter.Sink, func() error, error) {
	if f.out != "" {
		file := os.Stdout
		if f.out != "-" {
			var err error
			// Appending keeps what an earlier run wrote before its state.
			if file, err = os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
				return nil, nil, err
			}
		}
		return adapter.NewNDJSONSink(file), func() error {
			if f.out != "-" {
				return file.Close()
			}
			return nil
		}, nil
	}
	prod, err := openProducer(ctx, f.kafkaConfig, f.kafka, f.topics, f.partitions)
	if err != nil {
		return nil, nil, err
	}
	return &kafkaSink{p: prod}, prod.Close, nil
}

// kafkaSink produces events keyed by call or ticket id; Flush returns once
// the brokers acknowledged them.
type kafkaSink struct {
	p     *kafkaio.Producer
	batch []kafkaio.Outgoing
}

func (k *kafkaSink) Write(ctx context.Context, events []adapter.Out) error {
	for _, e := range events {
		// The event's JSON is reused by the next record: keep a copy.
		k.batch = append(k.batch, kafkaio.Outgoing{Ticket: e.Ticket, Agent: e.Agent, Key: []byte(e.Key), Value: bytes.Clone(e.JSON)})
	}
	if len(k.batch) >= 5000 {
		return k.Flush(ctx)
	}
	return nil
}

func (k *kafkaSink) Flush(ctx context.Context) error {
	if len(k.batch) == 0 {
		return nil
	}
	err := k.p.Write(ctx, k.batch...)
	k.batch = k.batch[:0]
	return err
}

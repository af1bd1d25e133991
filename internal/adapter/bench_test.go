package adapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

const benchCalls = 100_000

// benchInputs writes, once per run, a queue_log, a CDR export and a file of
// contact records for benchCalls calls, and the NDJSON events the queue_log
// imports to (the input compute reads).
func benchInputs(b *testing.B) map[string]string {
	b.Helper()
	dir := b.TempDir()
	var ql, cdr, ctr bytes.Buffer
	cdr.WriteString("话单编号,主叫号码,日期,来电时刻,转人工时刻,技能组,应答时刻,坐席工号,挂机时刻,挂机方,呼叫结果,满意度评价\n")
	t0 := int64(1791507600) // 2026-10-09 09:00 +08:00
	for i := range benchCalls {
		t := t0 + int64(i)
		id := fmt.Sprintf("%d.%d", t, i)
		fmt.Fprintf(&ql, "%d|%s|general|NONE|ENTERQUEUE||13800%06d|1\n", t, id, i%1000000)
		hh, mm, ss := 9+(i/3600)%14, (i/60)%60, i%60
		if i%10 == 9 {
			fmt.Fprintf(&ql, "%d|%s|general|NONE|ABANDON|1|1|30\n", t+30, id)
			fmt.Fprintf(&cdr, "D%d,13800%06d,2026-10-12,%d:%02d:%02d,%d:%02d:%02d,综合,0:00:00,,%d:%02d:%02d,客户,放弃,未评价\n", i, i%1000000, hh, mm, ss, hh, mm, ss, hh, mm, ss)
			continue
		}
		fmt.Fprintf(&ql, "%d|%s|general|a%d|CONNECT|12|%s.1|3\n", t+12, id, i%50, id)
		fmt.Fprintf(&ql, "%d|%s|general|a%d|COMPLETECALLER|12|180|1\n", t+192, id, i%50)
		fmt.Fprintf(&cdr, "D%d,13800%06d,2026-10-12,%d:%02d:%02d,%d:%02d:%02d,综合,%d:%02d:%02d,%d,%d:%02d:%02d,客户,人工接通,满意\n",
			i, i%1000000, hh, mm, ss, hh, mm, ss, hh, mm, ss, i%50, hh, mm, ss)
		rec := map[string]any{"ContactId": id, "InitiationMethod": "INBOUND", "Channel": "VOICE",
			"InitiationTimestamp": "2026-10-12T01:00:00Z", "CustomerEndpoint": map[string]any{"Address": "+8613800138000", "Type": "TELEPHONE_NUMBER"},
			"Queue":               map[string]any{"Name": "general", "EnqueueTimestamp": "2026-10-12T01:00:05Z", "DequeueTimestamp": "2026-10-12T01:00:17Z"},
			"Agent":               map[string]any{"Username": "agent1", "ConnectedToAgentTimestamp": "2026-10-12T01:00:17Z", "AfterContactWorkEndTimestamp": "2026-10-12T01:04:00Z"},
			"DisconnectTimestamp": "2026-10-12T01:03:17Z", "DisconnectReason": "CUSTOMER_DISCONNECT", "Attributes": map[string]any{}}
		j, _ := json.Marshal(rec)
		ctr.Write(append(j, '\n'))
	}
	files := map[string]string{}
	for name, data := range map[string][]byte{"queue_log": ql.Bytes(), "cdr.csv": cdr.Bytes(), "ctr.json": ctr.Bytes()} {
		files[name] = filepath.Join(dir, name)
		os.WriteFile(files[name], data, 0o644)
	}
	var events bytes.Buffer
	importBench(b, "asterisk-queue-log", files["queue_log"], adapter.NewNDJSONSink(&events))
	files["events.ndjson"] = filepath.Join(dir, "events.ndjson")
	os.WriteFile(files["events.ndjson"], events.Bytes(), 0o644)
	return files
}

type countSink struct{ n int64 }

func (c *countSink) Write(_ context.Context, events []adapter.Out) error {
	c.n += int64(len(events))
	return nil
}
func (c *countSink) Flush(context.Context) error { return nil }

func importBench(b *testing.B, mapping, path string, sink adapter.Sink) *adapter.Summary {
	m, err := adapter.LoadMapping(mapping)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path},
		Vars: map[string]string{"center": "c1"}, Sink: sink})
	if err != nil {
		b.Fatal(err)
	}
	if sum.RejectedCount() != 0 {
		b.Fatalf("%s: %v", mapping, sum.Lines())
	}
	return sum
}

// BenchmarkImport compares, in one run, each importer with compute reading
// the canonical events of the same calls: decoding only, and end to end
// (run with -cpu 1 for per core; bench/import.sh). events/s counts events
// emitted (import) or read (compute).
func BenchmarkImport(b *testing.B) {
	files := benchInputs(b)
	for _, c := range []struct{ name, mapping, file string }{
		{"asterisk-queue_log", "asterisk-queue-log", "queue_log"},
		{"cdr-csv", "cdr-example", "cdr.csv"},
		{"connect-json", "amazon-connect-ctr", "ctr.json"},
	} {
		b.Run(c.name, func(b *testing.B) {
			info, _ := os.Stat(files[c.file])
			b.SetBytes(info.Size())
			var events int64
			for b.Loop() {
				sink := &countSink{}
				importBench(b, c.mapping, files[c.file], sink)
				events += sink.n
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("compute-decode-ndjson", func(b *testing.B) {
		info, _ := os.Stat(files["events.ndjson"])
		b.SetBytes(info.Size())
		var events int64
		for b.Loop() {
			err := compute.Decode(context.Background(), []string{files["events.ndjson"]}, 0,
				func(ev []event.Event) { events += int64(len(ev)) }, func(compute.Reject) {})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
	// compute end to end (decode, engine, results): how fast compute
	// reads NDJSON, the figure an importer is held to.
	b.Run("compute-run-ndjson", func(b *testing.B) {
		p, err := profile.Load(profile.DefaultID)
		if err != nil {
			b.Fatal(err)
		}
		info, _ := os.Stat(files["events.ndjson"])
		b.SetBytes(info.Size())
		var events int64
		for b.Loop() {
			out, err := compute.Run(context.Background(), compute.Options{Files: []string{files["events.ndjson"]}, Profiles: profile.Single(p),
				Query: indicator.Query{Window: "day", GroupBy: []string{"center_id"}}})
			if err != nil {
				b.Fatal(err)
			}
			events += out.Events.Accepted
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}

package compute_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/benchdata"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

const benchEvents = 200_000

func benchFile(b *testing.B) (string, []byte) {
	b.Helper()
	var buf bytes.Buffer
	if err := benchdata.Write(&buf, benchEvents, 1); err != nil {
		b.Fatal(err)
	}
	f := filepath.Join(b.TempDir(), "events.ndjson")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return f, buf.Bytes()
}

func report(b *testing.B, events int) {
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events*b.N), "ns/event")
}

// BenchmarkDecode measures the strict decoder alone, on one core.
func BenchmarkDecode(b *testing.B) {
	_, raw := benchFile(b)
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	var d event.Decoder
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, l := range lines {
			if _, err := d.Decode(l); err != nil {
				b.Fatal(err)
			}
		}
	}
	report(b, len(lines))
}

// BenchmarkEngine measures the indicator core alone on decoded events, on
// one core, as compute drives it: aggregates kept at the query's grain
// (day, centre); apply every event, evaluate, read the results.
func BenchmarkEngine(b *testing.B) { benchEngine(b, false) }

// BenchmarkEngineFinest is the same at the finest grain (15 minutes, every
// dimension), as the streaming pipeline keeps it.
func BenchmarkEngineFinest(b *testing.B) { benchEngine(b, true) }

func benchEngine(b *testing.B, finest bool) {
	f, _ := benchFile(b)
	var evs []event.Event
	if err := compute.Decode(context.Background(), []string{f}, event.DefaultMaxBytes,
		func(b []event.Event) { evs = append(evs, b...) }, func(compute.Reject) {}); err != nil {
		b.Fatal(err)
	}
	p := profile.Default()
	cal, _ := p.NewCalendar()
	q := indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		eng := indicator.NewAtGrain(indicator.Single(p, cal), indicator.Grain(q))
		if finest {
			eng = indicator.New(indicator.Single(p, cal))
		}
		for i := range evs {
			eng.Apply(&evs[i])
		}
		eng.Advance(eng.MaxTS())
		if len(eng.Results(q)) == 0 {
			b.Fatal("no results")
		}
	}
	report(b, len(evs))
}

// BenchmarkCompute measures the whole batch path from the file, on all cores.
func BenchmarkCompute(b *testing.B) {
	f, _ := benchFile(b)
	o := compute.Options{Files: []string{f}, Profiles: profile.Single(profile.Default()),
		Query: indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}, AsOf: time.Time{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := compute.Run(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
	report(b, benchEvents)
}

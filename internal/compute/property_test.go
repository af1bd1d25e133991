package compute_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/benchdata"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Shuffling the lines of a golden case and replaying some of them changes
// no result: indicators depend on event times and event ids, never on
// arrival order or repetition.
func TestShuffleAndDuplicateChangeNothing(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, opts := loadCase(t, dir)
			want, err := compute.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(opts.Files[0])
			lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
			for seed := range uint64(20) {
				rng := rand.New(rand.NewPCG(seed, 7))
				shuffled := append([][]byte(nil), lines...)
				dups := 0
				for _, l := range lines {
					if rng.IntN(3) == 0 { // replay about a third of the lines
						shuffled = append(shuffled, l)
						dups++
					}
				}
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				file := filepath.Join(t.TempDir(), "events.ndjson")
				if err := os.WriteFile(file, bytes.Join(shuffled, []byte("\n")), 0o600); err != nil {
					t.Fatal(err)
				}
				o := opts
				o.Files = []string{file}
				got, err := compute.Run(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Results, want.Results) || got.AsOf != want.AsOf {
					t.Fatalf("seed %d: results differ after shuffling and %d replays", seed, dups)
				}
				if got.Events.Accepted != want.Events.Accepted {
					t.Fatalf("seed %d: accepted %d, want %d", seed, got.Events.Accepted, want.Events.Accepted)
				}
			}
		})
	}
}

// Driving the engine incrementally — events in random batches, each batch
// followed by an evaluation at a later time — ends in exactly the results
// of one evaluation over all events: the streaming path and the batch path
// agree.
func TestIncrementalEqualsBatch(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, opts := loadCase(t, dir)
			want, err := compute.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var evs []event.Event
			err = compute.Decode(context.Background(), opts.Files, event.DefaultMaxBytes,
				func(b []event.Event) { evs = append(evs, b...) }, func(compute.Reject) {})
			if err != nil {
				t.Fatal(err)
			}
			ps, err := indicator.NewProfiles(opts.Profiles, opts.Calendar...)
			if err != nil {
				t.Fatal(err)
			}
			finalAsOf := opts.AsOf.UnixMilli()
			for seed := range uint64(10) {
				rng := rand.New(rand.NewPCG(seed, 11))
				order := rng.Perm(len(evs))
				eng := indicator.New(ps)
				if !opts.AsOf.IsZero() {
					eng.IgnoreAfter(finalAsOf) // later events have not happened yet
				}
				var asOf int64
				for i, j := range order {
					eng.Apply(&evs[j])
					if rng.IntN(4) == 0 || i == len(order)-1 {
						if evs[j].TS > asOf {
							asOf = evs[j].TS
						}
						if !opts.AsOf.IsZero() {
							asOf = min(asOf, finalAsOf)
						}
						eng.Advance(asOf)
					}
				}
				if opts.AsOf.IsZero() {
					finalAsOf = eng.MaxTS()
				}
				eng.Advance(finalAsOf)
				got := eng.Results(opts.Query)
				if !reflect.DeepEqual(got, want.Results) {
					t.Fatalf("seed %d: incremental results differ from batch:\n got %d results\nwant %d", seed, len(got), len(want.Results))
				}
			}
		})
	}
}

// On a larger generated stream, the sharded batch path at the query's
// grain equals one engine at the finest grain, for every window.
func TestShardedGrainEqualsFinestEngine(t *testing.T) {
	var buf bytes.Buffer
	if err := benchdata.Write(&buf, 50_000, 3); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := profile.Default()
	cal, _ := p.NewCalendar()
	single := indicator.New(indicator.Single(p, cal))
	err := compute.Decode(context.Background(), []string{file}, event.DefaultMaxBytes,
		func(b []event.Event) {
			for i := range b {
				single.Apply(&b[i])
			}
		}, func(compute.Reject) {})
	if err != nil {
		t.Fatal(err)
	}
	single.Advance(single.MaxTS())
	for _, q := range []indicator.Query{
		{Window: indicator.WindowDay, GroupBy: []string{"center_id"}},
		{Window: indicator.WindowHour, GroupBy: []string{"center_id", "queue"}},
		{Window: indicator.WindowMonth, GroupBy: []string{"department_id", "category"}},
		{Window: indicator.Window15m, GroupBy: []string{}},
	} {
		out, err := compute.Run(context.Background(), compute.Options{Files: []string{file}, Profiles: profile.Single(p), Query: q})
		if err != nil {
			t.Fatal(err)
		}
		want := single.Results(q)
		if len(want) == 0 || !reflect.DeepEqual(out.Results, want) {
			t.Errorf("%+v: sharded %d results, single engine %d, or they differ", q, len(out.Results), len(want))
		}
	}
}

package livestate_test

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/privacy"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// simRecords decodes span of simulated traffic of n centres as records of
// three partitions per topic, keyed as the producer keys them.
func simRecords(b testing.TB, centres int, span time.Duration) []event.Record {
	return simRecordsOf(b, sim.Default(centres, time.Date(2026, 9, 1, 0, 0, 0, 0, profile.Default().Location()), span, 7))
}

// simRecordsOf is simRecords of a configuration.
func simRecordsOf(b testing.TB, cfg sim.Config) []event.Record {
	b.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	s, err := sim.New(cfg, p, cal)
	if err != nil {
		b.Fatal(err)
	}
	// Callers hashed as `run` hashes them: the contacts of the repeat
	// rates ride on the states (revision 1.2).
	d := event.Decoder{HashCaller: privacy.Ephemeral().Hash}
	var out []event.Record
	_, err = s.Run(context.Background(), func(e sim.Event) error {
		ev, err := d.Decode(e.JSON)
		if err != nil {
			return err
		}
		h := fnv.New32a()
		h.Write([]byte(e.Key))
		out = append(out, event.Record{Event: ev, Origin: event.Origin{Partition: int32(h.Sum32() % 3)}})
		return nil
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkStageApply is the live state stage alone, without I/O: batches
// of 20,000 records applied, evaluated and turned into state rows, as the
// ingest loop drives it, on the wall clock (every deadline long passed).
func BenchmarkStageApply(b *testing.B) {
	recs := simRecords(b, 5, 48*time.Hour)
	p := profile.Default()
	cal, _ := p.NewCalendar()
	b.ResetTimer()
	var rows int
	for range b.N {
		st := livestate.New(livestate.DefaultConfig(), indicator.Single(p, cal), newMemStore(), topics, time.Now, quiet)
		if _, err := st.Assign(context.Background(), owned(0, 1, 2)); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(recs); i += 20000 {
			out, _, err := st.Apply(context.Background(), recs[i:min(i+20000, len(recs))])
			if err != nil {
				b.Fatal(err)
			}
			rows += len(out)
			rows += len(st.Tick())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/event")
	b.ReportMetric(float64(rows)/float64(b.N*len(recs)), "rows/event")
}

// BenchmarkOpenTicketMemory measures what the live state stage holds per
// open ticket (created and dispatched, waiting for its reply: the state a
// large centre keeps for weeks): the heap, and the process RSS once the
// input is gone. Target: 1,000,000 open tickets in less than 1 GiB RSS.
//
//	go test ./internal/livestate -run - -bench OpenTicketMemory -benchtime 1x
func BenchmarkOpenTicketMemory(b *testing.B) {
	const n = 1_000_000
	p := profile.Default()
	cal, _ := p.NewCalendar()
	clock := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	for range b.N {
		runtime.GC()
		debug.FreeOSMemory()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := livestate.New(livestate.DefaultConfig(), indicator.Single(p, cal), newMemStore(), topics, clock, quiet)
		if _, err := st.Assign(context.Background(), owned(0, 1, 2)); err != nil {
			b.Fatal(err)
		}
		var d event.Decoder
		for from := 0; from < n; from += 10_000 {
			recs := make([]event.Record, 0, 20_000)
			for i := from; i < from+10_000; i++ {
				for _, line := range []string{
					fmt.Sprintf(`{"event_id":"%08d-c","type":"ticket.created","ts":"2026-11-30T09:00:00+08:00","center_id":"c12345","ticket_id":"T2026113%08d","category":"complaint","channel":"voice","call_id":"CALL%08d"}`, i, i, i),
					fmt.Sprintf(`{"event_id":"%08d-d","type":"ticket.dispatched","ts":"2026-11-30T09:30:00+08:00","center_id":"c12345","ticket_id":"T2026113%08d","department_id":"dept-%02d"}`, i, i, i%40),
				} {
					e, err := d.Decode([]byte(line))
					if err != nil {
						b.Fatal(err)
					}
					recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "tickets", Partition: int32(i % 3)}})
				}
			}
			if _, _, err := st.Apply(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
		}
		st.Tick()
		runtime.GC()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&after)
		if _, open := st.Size(); open != n {
			b.Fatalf("%d tickets in memory, want %d", open, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/ticket")
		b.ReportMetric(float64(rss())/(1<<20), "RSS-MiB")
		runtime.KeepAlive(st)
	}
}

// rss reads the process's resident set size, in bytes.
func rss() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// agentDay is a large centre's day of agents (600 agents on a 12-hour
// shift, 08:00–20:00, a state change every 20 s: ready, busy, wrap-up,
// ready, ..., with a break now and then), as records of three partitions.
func agentDay(agents int) []event.Record {
	p := profile.Default()
	start := time.Date(2026, 10, 12, 8, 0, 0, 0, p.Location()).UnixMilli()
	cycle := []event.AgentState{event.AgentBusy, event.AgentWrapup, event.AgentReady}
	var out []event.Record
	for a := range agents {
		id := fmt.Sprintf("agent-%04d", a)
		team := fmt.Sprintf("team-%02d", a%20)
		part := int32(a % 3)
		rec := func(n int, typ event.Type, ts int64, st event.AgentState, reason string) {
			out = append(out, event.Record{Event: event.Event{ID: fmt.Sprintf("%s-%05d", id, n), Type: typ, TS: ts, CenterID: "c12345",
				AgentID: id, Team: team, State: st, Reason: reason}, Origin: event.Origin{Topic: "agents", Partition: part}})
		}
		rec(0, event.AgentLoggedIn, start, event.AgentReady, "")
		n := 1
		for ts := start + 20_000; ts < start+12*3600_000; ts += 20_000 {
			st, reason := cycle[n%3], ""
			if n%180 == 0 { // about an hour: a break
				st, reason = event.AgentNotReady, "break"
			}
			rec(n, event.AgentStateChanged, ts, st, reason)
			n++
		}
		rec(n, event.AgentLoggedOut, start+12*3600_000, 0, "")
	}
	slices.SortStableFunc(out, func(a, b event.Record) int { return cmp.Compare(a.TS, b.TS) })
	return out
}

// BenchmarkStageApplyAgents is BenchmarkStageApply for agent events: a
// day of 600 agents (1.3 million state changes) in batches of 20,000, in
// time order, as `run` consumes them; it reports the cost per event (beside
// BenchmarkStageApply's calls and tickets in the same run) and the heap the
// stage holds per signed-in agent at the end of the shift (before pruning).
//
//	go test ./internal/livestate -run - -bench 'StageApply' -benchtime 3x
func BenchmarkStageApplyAgents(b *testing.B) {
	const agents = 600
	recs := agentDay(agents)
	p := profile.Default()
	cal, _ := p.NewCalendar()
	end := time.UnixMilli(recs[len(recs)-1].TS)
	var now time.Time
	clock := func() time.Time { return now }
	var rows int
	var heap uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		st := livestate.New(livestate.DefaultConfig(), indicator.Single(p, cal), nullStore{}, topics, clock, quiet)
		if _, err := st.Assign(context.Background(), owned(0, 1, 2)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(recs); i += 20000 {
			batch := recs[i:min(i+20000, len(recs))]
			now = time.UnixMilli(batch[len(batch)-1].TS)
			out, _, err := st.Apply(context.Background(), batch)
			if err != nil {
				b.Fatal(err)
			}
			rows += len(out)
			rows += len(st.Tick())
		}
		b.StopTimer()
		now = end
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(st)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/event")
	b.ReportMetric(float64(rows)/float64(b.N*len(recs)), "rows/event")
	b.ReportMetric(float64(heap)/agents, "heap-bytes/agent")
}

// nullStore is a store that holds nothing: the stage's own cost.
type nullStore struct{}

func (nullStore) PendingTickets(context.Context, string, []int32) (map[indicator.Ref]int, []event.Record, error) {
	return nil, nil, nil
}
func (nullStore) KnownIDs(context.Context, bool, string, []int32, func(int32, string, string)) error {
	return nil
}
func (nullStore) LoadEvents(context.Context, []indicator.Ref) ([]event.Record, error) {
	return nil, nil
}
func (nullStore) KnownAgents(context.Context, string, []int32, func(int32, string, string, bool)) error {
	return nil
}
func (nullStore) LoadAgents(_ context.Context, reqs []stored.AgentLoad) ([]stored.LoadedAgent, error) {
	out := make([]stored.LoadedAgent, len(reqs))
	for i, q := range reqs {
		out[i] = stored.LoadedAgent{CenterID: q.CenterID, ID: q.ID, FromDay: indicator.MinDay}
	}
	return out, nil
}

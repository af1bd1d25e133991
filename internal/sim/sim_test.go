package sim_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func run(t *testing.T, start time.Time, span time.Duration, centers int, seed uint64) ([]byte, sim.Truth) {
	return runConfig(t, sim.Default(centers, start, span, seed))
}

func runConfig(t *testing.T, cfg sim.Config) ([]byte, sim.Truth) {
	t.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	s, err := sim.New(cfg, p, cal)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var last int64
	truth, err := s.Run(context.Background(), func(e sim.Event) error {
		if e.TS < last {
			t.Fatalf("event at %d after one at %d: not in time order", e.TS, last)
		}
		last = e.TS
		buf.Write(e.JSON)
		buf.WriteByte('\n')
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), truth
}

// The indicators computed from the simulator's output reproduce what the
// simulator recorded while generating it.
func TestComputeAgreesWithGroundTruth(t *testing.T) {
	start := time.Date(2026, 9, 29, 0, 0, 0, 0, shanghai) // across the National Day holiday
	span := 4 * 24 * time.Hour
	out, truth := run(t, start, span, 2, 42)
	file := filepath.Join(t.TempDir(), "sim.ndjson")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := compute.Run(context.Background(), compute.Options{Files: []string{file}, Profiles: profile.Single(profile.Default()),
		Query: indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{}}, AsOf: start.Add(span)})
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string][2]float64{}
	for _, r := range res.Results {
		v := sum[r.Indicator]
		if r.Numerator != nil {
			v[0] += *r.Numerator
			v[1] += *r.Denominator
		} else {
			v[0] += r.Value
		}
		sum[r.Indicator] = v
	}
	check := func(name string, got float64, want int) {
		t.Helper()
		if got != float64(want) {
			t.Errorf("%s: compute %v, simulator %d", name, got, want)
		}
	}
	if res.Events.Accepted != int64(truth.Events) || res.Events.Rejected != 0 {
		t.Errorf("events: compute %+v, simulator %d", res.Events, truth.Events)
	}
	check("calls_offered", sum["calls_offered"][0], truth.CallsOffered)
	check("calls_answered", sum["calls_answered"][0], truth.CallsAnswered)
	check("calls_abandoned", sum["calls_abandoned"][0], truth.CallsAbandoned)
	check("answered within 15 s", sum["answered_within_15s_rate"][0], truth.AnsweredWithin15s)
	check("tickets_created", sum["tickets_created"][0], truth.TicketsCreated)
	check("resolved on intake", sum["first_contact_resolution_rate"][0], truth.TicketsResolvedOnIntake)
	check("tickets dispatched", sum["dispatch_timeliness_rate"][1], truth.TicketsDispatched)
	check("closed on time", sum["on_time_closure_rate"][0], truth.RepliedOnTime)
	check("due", sum["on_time_closure_rate"][1], truth.RepliedOnTime+truth.RepliedLate+truth.OverdueOpen)
	check("overdue_open", sum["overdue_open"][0], truth.OverdueOpen)
	if truth.CallsOffered < 1000 || truth.TicketsDispatched < 100 || truth.RepliedLate+truth.OverdueOpen == 0 {
		t.Errorf("too little traffic to mean anything: %+v", truth)
	}
}

func TestSameSeedSameEvents(t *testing.T) {
	start := time.Date(2026, 10, 12, 6, 0, 0, 0, shanghai)
	a, _ := run(t, start, 6*time.Hour, 1, 7)
	b, _ := run(t, start, 6*time.Hour, 1, 7)
	c, _ := run(t, start, 6*time.Hour, 1, 8)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Error("the seed does not decide the events")
	}
}

// Holidays are quieter than working days, and nights than days.
func TestTrafficFollowsTheCalendar(t *testing.T) {
	_, workday := run(t, time.Date(2026, 10, 9, 0, 0, 0, 0, shanghai), 24*time.Hour, 1, 1) // Friday
	_, holiday := run(t, time.Date(2026, 10, 2, 0, 0, 0, 0, shanghai), 24*time.Hour, 1, 1) // National Day
	_, night := run(t, time.Date(2026, 10, 9, 1, 0, 0, 0, shanghai), 4*time.Hour, 1, 1)
	_, day := run(t, time.Date(2026, 10, 9, 9, 0, 0, 0, shanghai), 4*time.Hour, 1, 1)
	if holiday.CallsArrived*3 > workday.CallsArrived*2 {
		t.Errorf("holiday %d calls vs working day %d", holiday.CallsArrived, workday.CallsArrived)
	}
	if night.CallsArrived*5 > day.CallsArrived {
		t.Errorf("night %d calls vs day %d", night.CallsArrived, day.CallsArrived)
	}
}

// The records audit of a run with injected faults finds exactly the
// injected calls and tickets beside what the same run shows without them.
func TestAuditFindsExactlyTheInjectedFaults(t *testing.T) {
	start := time.Date(2026, 10, 26, 0, 0, 0, 0, shanghai) // across a month end
	span := 10 * 24 * time.Hour
	cfg := sim.Default(2, start, span, 5)
	plain, _ := runConfig(t, cfg)
	cfg.Inject = map[string]float64{}
	for _, c := range sim.InjectableClasses() {
		cfg.Inject[c] = 1.5
	}
	faulty, truth := runConfig(t, cfg)
	audit := func(data []byte) map[string]map[string]bool {
		t.Helper()
		file := filepath.Join(t.TempDir(), "sim.ndjson")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := compute.Audit(context.Background(), compute.Options{Files: []string{file}, Profiles: profile.Single(profile.Default()),
			AsOf: start.Add(span)}, compute.AuditScope{Examples: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]map[string]bool{}
		for _, c := range out.Classes {
			if len(c.Examples) != c.Count {
				t.Fatalf("%s %s %s: %d ids for %d", c.CenterID, c.Month, c.Class, len(c.Examples), c.Count)
			}
			if ids[c.Class] == nil {
				ids[c.Class] = map[string]bool{}
			}
			for _, id := range c.Examples {
				ids[c.Class][id] = true
			}
		}
		return ids
	}
	natural, found := audit(plain), audit(faulty)
	for _, class := range sim.InjectableClasses() {
		injected := truth.Injected[class]
		if len(injected) < 5 {
			t.Errorf("%s: only %d injected", class, len(injected))
		}
		want := maps.Clone(natural[class])
		if want == nil {
			want = map[string]bool{}
		}
		for _, id := range injected {
			if want[id] {
				t.Errorf("%s: %s injected and natural", class, id)
			}
			want[id] = true
		}
		if !maps.Equal(found[class], want) {
			var extra, missed []string
			for id := range found[class] {
				if !want[id] {
					extra = append(extra, id)
				}
			}
			for id := range want {
				if !found[class][id] {
					missed = append(missed, id)
				}
			}
			t.Errorf("%s: audit found %d, want %d natural + %d injected; not injected %v, missed %v",
				class, len(found[class]), len(natural[class]), len(injected), extra, missed)
		}
		t.Logf("%s: %d natural, %d injected", class, len(natural[class]), len(injected))
	}
}

// The default centres meet most targets of the default profile over a
// week, with a few breaches; any number of centres can be simulated; the
// strained preset misses more.
func TestDefaultMeetsMostTargets(t *testing.T) {
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, shanghai)
	span := 7 * 24 * time.Hour
	if err := sim.Default(12, start, span, 1).Validate(); err != nil {
		t.Fatalf("12 centres: %v", err)
	}
	met, missed := targets(t, sim.Default(1, start, span, 5))
	t.Logf("default: met %d targets, missed %v", len(met), missed)
	if len(met) < 12 || len(missed) > 3 {
		t.Errorf("default: met %v, missed %v: want most met, a few missed at most", met, missed)
	}
	_, strained := targets(t, sim.Strained(1, start, span, 5))
	t.Logf("strained: missed %v", strained)
	if len(strained) < 5 {
		t.Errorf("strained: missed only %v", strained)
	}
}

// targets simulates cfg and returns the indicators of its first month
// whose target is met and missed.
func targets(t *testing.T, cfg sim.Config) (met, missed []string) {
	t.Helper()
	out, _ := runConfig(t, cfg)
	file := filepath.Join(t.TempDir(), "sim.ndjson")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := compute.Run(context.Background(), compute.Options{Files: []string{file}, Profiles: profile.Single(profile.Default()),
		Query: indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}, AsOf: cfg.Start.Add(cfg.Span)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		if r.Met == nil || r.WindowStart != "2026-09-01T00:00:00+08:00" {
			continue
		}
		if *r.Met {
			met = append(met, r.Indicator)
		} else {
			missed = append(missed, r.Indicator)
		}
	}
	return met, missed
}

// The large preset offers 50,000–60,000 calls on a working day.
func TestLargePresetVolume(t *testing.T) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, shanghai) // a Tuesday
	_, truth := runConfig(t, sim.Large(start, 24*time.Hour, 3))
	if truth.CallsOffered < 50_000 || truth.CallsOffered > 60_000 {
		t.Errorf("large preset offered %d calls on a working day, want 50,000–60,000", truth.CallsOffered)
	}
}

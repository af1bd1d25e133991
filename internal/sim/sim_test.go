package sim_test

import (
	"bytes"
	"context"
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
	t.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	s, err := sim.New(sim.Default(centers, start, span, seed), p, cal)
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
	res, err := compute.Run(context.Background(), compute.Options{Files: []string{file}, Profile: profile.Default(),
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

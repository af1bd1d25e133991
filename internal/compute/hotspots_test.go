package compute_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
)

// A simulated quarter-like stretch (75 days of a centre of about 900
// requests a working day) with one surge: the hot-spot detection finds
// the surge on its day, above everything else, and the false alarms of
// the ordinary days are counted, under the definition (every day of the
// baseline, z 3) and under the variants: the definition compares a
// working day with a mean that weekends lower, so large groups trip it.
func TestHotspotsFindTheSurge(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	start := time.Date(2026, 7, 1, 0, 0, 0, 0, loc)
	cfg := sim.Default(1, start, 75*24*time.Hour, 21)
	ct := &cfg.Centers[0]
	ct.PeakCallsPerHour /= 2
	ct.WrittenPerHour /= 2
	for i := range ct.Queues {
		ct.Queues[i].DayAgents = ct.Queues[i].DayAgents/2 + 1
		ct.Queues[i].NightAgents = ct.Queues[i].NightAgents/2 + 1
	}
	surgeDay := time.Date(2026, 8, 26, 0, 0, 0, 0, loc)
	cfg.Surges = []sim.Surge{{Topic: "0102", Day: surgeDay, Factor: 4}}
	base, err := profile.Load("example-topics")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := base.NewCalendar()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(cfg, base, cal)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "quarter.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := s.Run(context.Background(), func(e sim.Event) error {
		w.Write(e.JSON)
		return w.WriteByte('\n')
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct {
		name       string
		baselineBy string
		z          float64
		maxFalse   int // a bound against a broken detector, not a target
	}{{"definition", profile.BaselineAllDays, 3, 60}, {"day_type", profile.BaselineDayType, 3, 15}, {"day_type_z4", profile.BaselineDayType, 4, 0}} {
		p := *base
		p.Hotspot.BaselineBy, p.Hotspot.Z = tc.baselineBy, tc.z
		rows, err := compute.Hotspots(context.Background(), compute.Options{Files: []string{path}, Profiles: profile.Single(&p)}, compute.HotspotQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var surge *compute.HotspotRow
		falseAlarms := 0
		for i, r := range rows {
			switch {
			case r.Day == surgeDay.Format(time.DateOnly) && r.Topic == "0102":
				surge = &rows[i]
			default:
				falseAlarms++
			}
		}
		if surge == nil || surge.Name != "城乡建设 / 供暖" {
			t.Errorf("%s: the surge of 0102 on %s not found: %+v", tc.name, surgeDay.Format(time.DateOnly), rows)
			continue
		}
		for _, r := range rows {
			if r.Score > surge.Score {
				t.Errorf("%s: %+v scores above the surge %+v", tc.name, r, surge)
			}
		}
		t.Logf("%s: surge %d requests against a baseline of %.1f (score %.1f); %d false alarms over the judged days", tc.name,
			surge.Count, surge.Baseline, surge.Score, falseAlarms)
		if falseAlarms > tc.maxFalse {
			t.Errorf("%s: %d false alarms, more than %d", tc.name, falseAlarms, tc.maxFalse)
		}
	}
}

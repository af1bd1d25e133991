package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// `hotlineqc staffing` prints the published Erlang C example in the JSON
// of cli.md, evaluates a given staffing, and refuses bad numbers.
func TestStaffingCommand(t *testing.T) {
	out, _, err := runCLI(t, "staffing", "--calls", "100", "--interval", "30m", "--aht", "180s",
		"--threshold", "20s", "--target", "0.8", "--shrinkage", "0.3", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"traffic_erlangs": 10, "agents": 14, "service_level": 0.888, "wait_probability": 0.174,
		"asa_seconds": 7.8, "occupancy": 0.714, "positions": 20}
	for k, v := range want {
		tol := 0.0006 // the published figures' rounding
		if k == "asa_seconds" {
			tol = 0.05
		}
		if g, ok := got[k]; !ok || math.Abs(g-v) > tol {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("keys %v", got)
	}

	// the profile's threshold (15 s) and target (0.80); 13 agents given
	out, _, err = runCLI(t, "staffing", "--calls", "100", "--interval", "30m", "--aht", "180s", "--agents", "13")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"坐席数", "13", "15s 内接通, 目标 80.0%", "话务量", "10.000 爱尔兰"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}

	for _, args := range [][]string{{"--aht", "180s"}, {"--calls", "-1"}, {"--calls", "5", "--target", "1.5"}, {"--calls", "5", "--aht", "x"}} {
		if _, _, err := runCLI(t, append([]string{"staffing"}, args...)...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// With --events it prints the staffing intervals of compute: the golden
// case v12_staffing's hours, worked by hand there.
func TestStaffingIntervalsOfEvents(t *testing.T) {
	dir := "../../internal/compute/testdata/golden/v12_staffing/"
	out, _, err := runCLI(t, "staffing", "--events", dir+"events.ndjson", "--profile", dir+"profile.yaml", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got []intervalJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		start        string
		offered      int64
		required     int
		staffed, gap float64
		understaffed bool
	}{
		{"2026-10-12T09:00:00+08:00", 20, 3, 1.5, 1.5, true},
		{"2026-10-12T10:00:00+08:00", 2, 1, 0.5, 0.5, true},
		{"2026-10-12T11:00:00+08:00", 0, 0, 1, -1, false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d intervals, want %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		g := got[i]
		if g.Start != w.start || g.Offered != w.offered || g.Required != w.required || g.Staffed == nil ||
			*g.Staffed != w.staffed || *g.Gap != w.gap || g.Understaffed != w.understaffed || g.AHTSeconds != 180 {
			t.Errorf("interval %d = %+v, want %+v", i, g, w)
		}
	}
	if _, _, err := runCLI(t, "staffing", "--events", dir+"events.ndjson", "--calls", "3"); err == nil {
		t.Error("--calls with --events accepted")
	}
	out, _, err = runCLI(t, "staffing", "--events", dir+"events.ndjson", "--from", "2026-10-13")
	if err != nil || strings.Contains(out, "2026-10-12") {
		t.Errorf("--from 2026-10-13 kept 10-12's intervals: %v\n%s", err, out)
	}
}

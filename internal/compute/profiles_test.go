package compute_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// A result over centres with different profiles has a target only where
// their profiles agree; by centre, each has its own. The other case of
// profiles.by_center (zones, thresholds, deadlines) is the golden case
// v11_profiles_by_center.
func TestTargetsAcrossProfiles(t *testing.T) {
	dir := t.TempDir()
	strict := filepath.Join(dir, "strict.yaml")
	if err := os.WriteFile(strict, []byte("base: gbt33358-2016\nid: strict\ntargets:\n  answer_rate: {op: \">=\", value: 0.99}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "events.ndjson")
	var lines string
	for _, c := range []string{"c1", "c2"} {
		lines += `{"event_id":"` + c + `-1","type":"call.queued","ts":"2026-11-03T09:00:00+08:00","center_id":"` + c + `","call_id":"A","queue":"q"}` + "\n" +
			`{"event_id":"` + c + `-2","type":"call.answered","ts":"2026-11-03T09:00:05+08:00","center_id":"` + c + `","call_id":"A","agent_id":"a"}` + "\n"
	}
	if err := os.WriteFile(events, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := profile.LoadSet(profile.DefaultID, map[string]string{"c2": strict})
	if err != nil {
		t.Fatal(err)
	}
	run := func(groupBy ...string) map[string][]indicator.Result {
		out, err := compute.Run(context.Background(), compute.Options{Files: []string{events}, Profiles: set,
			Query: indicator.Query{Window: indicator.WindowMonth, GroupBy: groupBy}})
		if err != nil {
			t.Fatal(err)
		}
		by := map[string][]indicator.Result{}
		for _, r := range out.Results {
			by[r.Indicator] = append(by[r.Indicator], r)
		}
		return by
	}
	all := run()
	if rs := all["answer_rate"]; len(rs) != 1 || *rs[0].Denominator != 2 || rs[0].Target != nil || rs[0].Met != nil {
		t.Errorf("answer_rate over both centres: %+v, want 2 calls and no target (95%% and 99%% differ)", rs)
	}
	if rs := all["abandon_rate"]; len(rs) != 1 || rs[0].Target == nil || rs[0].Target.Value != 0.05 {
		t.Errorf("abandon_rate over both centres: %+v, want the target both profiles share", rs)
	}
	for _, r := range run("center_id")["answer_rate"] {
		want := map[string]float64{"c1": 0.95, "c2": 0.99}[r.Dims["center_id"]]
		if r.Target == nil || r.Target.Value != want {
			t.Errorf("answer_rate of %s: target %+v, want %v", r.Dims["center_id"], r.Target, want)
		}
	}
}

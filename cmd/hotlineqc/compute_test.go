package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

const golden = "../../internal/compute/testdata/golden/"

func TestComputeReportsBadLinesAndGoesOn(t *testing.T) {
	out, stderr, err := runCLI(t, "compute", "--events", golden+"calls_basic/events.ndjson")
	if err != nil {
		t.Fatalf("exit with error: %v", err)
	}
	var res struct {
		Events  map[string]int `json:"events"`
		Results []any          `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Events["rejected"] != 3 || res.Events["duplicates"] != 2 || len(res.Results) == 0 {
		t.Errorf("events = %v, %d results", res.Events, len(res.Results))
	}
	for _, want := range []string{"calls_basic/events.ndjson:11: rejected: invalid_json",
		"events.ndjson:27: rejected: unknown_type", "events.ndjson:28: rejected: missing_field: field \"queue\""} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestComputeFormats(t *testing.T) {
	table, _, err := runCLI(t, "compute", "--events", golden+"tickets_lifecycle/events.ndjson", "--format", "table", "--as-of", "2026-10-31T23:59:59+08:00")
	if err != nil || !strings.Contains(table, "按时办结率") || !strings.Contains(table, "overdue_open") {
		t.Errorf("table: %v\n%s", err, table)
	}
	csv, _, err := runCLI(t, "compute", "--events", golden+"tickets_lifecycle/events.ndjson", "--format", "csv", "--group-by", "center_id,department_id", "--window", "month")
	if err != nil || !strings.HasPrefix(csv, "indicator,name,window,window_start,center_id,department_id,numerator") {
		t.Errorf("csv: %v\n%s", err, csv)
	}
}

func TestComputeFailsLoudly(t *testing.T) {
	cases := map[string][]string{
		"window":  {"compute", "--events", golden + "calls_basic/events.ndjson", "--window", "week"},
		"group":   {"compute", "--events", golden + "calls_basic/events.ndjson", "--group-by", "caller"},
		"format":  {"compute", "--events", golden + "calls_basic/events.ndjson", "--format", "xml"},
		"as-of":   {"compute", "--events", golden + "calls_basic/events.ndjson", "--as-of", "yesterday"},
		"missing": {"compute", "--events", "/nonexistent.ndjson"},
		"profile": {"compute", "--events", golden + "calls_basic/events.ndjson", "--profile", "../../internal/profile/testdata/bad_values.bad.yml"},
		"events":  {"compute"},
	}
	for name, args := range cases {
		if _, _, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: accepted %v", name, args)
		}
	}
}

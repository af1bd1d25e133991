package compute_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// goldenCase is testdata/golden/<name>/case.yaml. Next to it: events.ndjson
// (input), expected.txt (the hand derivation) and expected.json (the same
// numbers in the output shape of cli.md).
type goldenCase struct {
	Description string `yaml:"description"`
	Profile     string `yaml:"profile"`
	// ProfilesByCenter gives centres profile files (profiles.by_center).
	ProfilesByCenter map[string]string `yaml:"profiles_by_center"`
	Window           string            `yaml:"window"`
	GroupBy          []string          `yaml:"group_by"`
	AsOf             string            `yaml:"as_of"`
}

func loadCase(t *testing.T, dir string) (goldenCase, compute.Options) {
	t.Helper()
	var c goldenCase
	b, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s/case.yaml: %v", dir, err)
	}
	def := profile.DefaultID
	if c.Profile != "" {
		def = filepath.Join(dir, c.Profile)
	}
	by := map[string]string{}
	for center, f := range c.ProfilesByCenter {
		by[center] = filepath.Join(dir, f)
	}
	set, err := profile.LoadSet(def, by)
	if err != nil {
		t.Fatal(err)
	}
	o := compute.Options{Files: []string{filepath.Join(dir, "events.ndjson")}, Profiles: set,
		Query: indicator.Query{Window: c.Window, GroupBy: c.GroupBy}}
	if c.AsOf != "" {
		if o.AsOf, err = time.Parse(time.RFC3339, c.AsOf); err != nil {
			t.Fatal(err)
		}
	}
	return c, o
}

var update = flag.Bool("update", false, "rewrite expected.json of golden cases whose expected.txt holds")

// TestGolden checks every case twice: against the hand derivation in
// expected.txt (every result's numbers) and against expected.json (the
// exact output, targets and met included). With -update, expected.json is
// rewritten for cases whose expected.txt holds.
func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, opts := loadCase(t, dir)
			out, err := compute.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := compute.WriteJSON(&got, out); err != nil {
				t.Fatal(err)
			}
			compareDerivation(t, filepath.Join(dir, "expected.txt"), c.Window, got.Bytes())
			path := filepath.Join(dir, "expected.json")
			if *update && !t.Failed() {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			compareJSON(t, got.Bytes(), want)
		})
	}
}

// compareDerivation checks the output against a hand derivation: lines
// "as_of T", "events ACCEPTED DUPLICATES REJECTED [CONFLICTING]" and one
// line per result, "INDICATOR WINDOW DIMS VALUE", where WINDOW is the
// window start as written by hand (2026-10 for a month, 2026-10-09 for a
// day, 2026-10-09T09 for an hour, 2026-10-09T09:15 for 15 minutes), DIMS is
// k=v[,k=v] and VALUE is a count or NUMERATOR/DENOMINATOR. A number with a
// trailing h is hours, written as working days (24 h each). Lines starting
// with # are the derivation's prose.
func compareDerivation(t *testing.T, path, window string, got []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		AsOf    string           `json:"as_of"`
		Events  map[string]int64 `json:"events"`
		Results []struct {
			Indicator   string            `json:"indicator"`
			WindowStart string            `json:"window_start"`
			Dims        map[string]string `json:"dims"`
			Numerator   *float64          `json:"numerator"`
			Denominator *float64          `json:"denominator"`
			Value       float64           `json:"value"`
		} `json:"results"`
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	cut := map[string]int{"month": 7, "day": 10, "hour": 13, "15m": 16}[window]
	if window == "" {
		cut = 10
	}
	gotRows := map[string]string{}
	for _, r := range out.Results {
		keys := make([]string, 0, len(r.Dims))
		for k := range r.Dims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dims := make([]string, len(keys))
		for i, k := range keys {
			dims[i] = k + "=" + r.Dims[k]
		}
		v := num(r.Value)
		if r.Numerator != nil {
			v = num(*r.Numerator) + "/" + num(*r.Denominator)
		}
		gotRows[r.Indicator+" "+r.WindowStart[:cut]+" "+strings.Join(dims, ",")] = v
	}
	wantRows := map[string]string{}
	for n, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "as_of" && len(f) == 2:
			if out.AsOf != f[1] {
				t.Errorf("as_of = %s, want %s", out.AsOf, f[1])
			}
		case f[0] == "events" && (len(f) == 4 || len(f) == 5):
			for i, k := range []string{"accepted", "duplicates", "rejected", "conflicting"}[:len(f)-1] {
				if w, _ := strconv.ParseInt(f[i+1], 10, 64); out.Events[k] != w {
					t.Errorf("events.%s = %d, want %d", k, out.Events[k], w)
				}
			}
		case len(f) == 4:
			parts := strings.Split(f[3], "/")
			vals := make([]string, len(parts))
			for i, p := range parts {
				vals[i] = num(hand(t, p))
			}
			wantRows[f[0]+" "+f[1]+" "+f[2]] = strings.Join(vals, "/")
		default:
			t.Fatalf("%s:%d: cannot read %q", path, n+1, line)
		}
	}
	for k, w := range wantRows {
		if g, ok := gotRows[k]; !ok {
			t.Errorf("derivation: missing %s %s", k, w)
		} else if g != w {
			t.Errorf("derivation: %s = %s, want %s", k, g, w)
		}
	}
	for k, g := range gotRows {
		if _, ok := wantRows[k]; !ok {
			t.Errorf("derivation: unexpected %s %s", k, g)
		}
	}
}

// hand reads a number of a derivation: decimal, or a duration such as 29h
// or 143h50m as working days of 24 h.
func hand(t *testing.T, s string) float64 {
	t.Helper()
	if d, err := time.ParseDuration(s); err == nil && strings.ContainsAny(s, "hm") {
		return d.Hours() / 24
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("derivation number %q: %v", s, err)
	}
	return v
}

// num prints a number rounded to 9 decimals, so that hand fractions and
// computed ones compare.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64) }

// compareJSON compares two outputs as JSON values and reports results
// missing, unexpected or different.
func compareJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"profile", "as_of", "events"} {
		if !reflect.DeepEqual(g[k], w[k]) {
			t.Errorf("%s = %v, want %v", k, g[k], w[k])
		}
	}
	key := func(r any) string {
		m := r.(map[string]any)
		b, _ := json.Marshal([]any{m["indicator"], m["window_start"], m["dims"]})
		return string(b)
	}
	gr, wr := map[string]any{}, map[string]any{}
	for _, r := range g["results"].([]any) {
		gr[key(r)] = r
	}
	for _, r := range w["results"].([]any) {
		wr[key(r)] = r
	}
	for k, r := range wr {
		if gr[k] == nil {
			t.Errorf("missing result %s: want %v", k, r)
		} else if !reflect.DeepEqual(gr[k], r) {
			t.Errorf("result %s\n got %v\nwant %v", k, gr[k], r)
		}
	}
	for k, r := range gr {
		if wr[k] == nil {
			t.Errorf("unexpected result %s: %v", k, r)
		}
	}
	if !t.Failed() && !reflect.DeepEqual(g["results"], w["results"]) {
		t.Error("results are right but in the wrong order")
	}
}

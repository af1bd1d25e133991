package compute_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
	Description string   `yaml:"description"`
	Profile     string   `yaml:"profile"`
	Window      string   `yaml:"window"`
	GroupBy     []string `yaml:"group_by"`
	AsOf        string   `yaml:"as_of"`
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
	p := profile.Default()
	if c.Profile != "" {
		if p, err = profile.Load(filepath.Join(dir, c.Profile)); err != nil {
			t.Fatal(err)
		}
	}
	o := compute.Options{Files: []string{filepath.Join(dir, "events.ndjson")}, Profile: p,
		Query: indicator.Query{Window: c.Window, GroupBy: c.GroupBy}}
	if c.AsOf != "" {
		if o.AsOf, err = time.Parse(time.RFC3339, c.AsOf); err != nil {
			t.Fatal(err)
		}
	}
	return c, o
}

func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, opts := loadCase(t, dir)
			out, err := compute.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := compute.WriteJSON(&got, out); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			compareJSON(t, got.Bytes(), want)
		})
	}
}

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

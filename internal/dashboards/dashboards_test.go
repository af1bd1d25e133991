package dashboards_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/grafana/grafana-foundation-sdk/go/cog"

	"github.com/hotlineqc/hotlineqc/internal/dashboards"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

const committed = "../../dashboards"

// The committed dashboards are what `hotlineqc dashboards` generates for
// the default profile.
func TestCommittedDashboardsAreCurrent(t *testing.T) {
	boards, err := dashboards.Build(profile.Default(), "hotline")
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) != 8 {
		t.Fatalf("%d dashboards, want 8", len(boards))
	}
	for _, b := range boards {
		want, err := dashboards.Marshal(b.Dashboard)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committed, b.File))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale or missing (%v): run `go run ./cmd/hotlineqc dashboards`", b.File, err)
		}
	}
}

// Each committed dashboard reads back with the SDK, validates,
// and every panel has a data source, a unit, thresholds, a Chinese title
// and queries.
func TestCommittedDashboardsValidate(t *testing.T) {
	boards, err := dashboards.Load(committed)
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) != 8 {
		t.Fatalf("%d dashboards in %s, want 8", len(boards), committed)
	}
	for f, d := range boards {
		if err := sdkErr(d.Validate()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if d.Title == nil || !chinese(*d.Title) {
			t.Errorf("%s: title %v is not Chinese", f, d.Title)
		}
		panels := 0
		for _, pr := range d.Panels {
			p := pr.Panel
			if p == nil {
				continue
			}
			panels++
			title := ""
			if p.Title != nil {
				title = *p.Title
			}
			where := f + ": panel " + title
			if !chinese(title) {
				t.Errorf("%s: title is not Chinese", where)
			}
			if p.Datasource == nil || p.Datasource.Uid == nil || p.Datasource.Type == nil {
				t.Errorf("%s: no data source", where)
			}
			if p.FieldConfig == nil || p.FieldConfig.Defaults.Unit == nil || *p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if p.FieldConfig == nil || p.FieldConfig.Defaults.Thresholds == nil || len(p.FieldConfig.Defaults.Thresholds.Steps) == 0 {
				t.Errorf("%s: no thresholds", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
		}
		if panels < 4 {
			t.Errorf("%s: %d panels", f, panels)
		}
		qs, err := dashboards.Queries(d)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for _, q := range qs {
			if q.PromQL == "" && q.SQL == "" {
				t.Errorf("%s: %s has an empty query", f, q.Panel)
			}
			if q.SQL != "" && !strings.Contains(q.SQL, "${database}") {
				t.Errorf("%s: %s does not read ${database}", f, q.Panel)
			}
		}
	}
}

// The monthly evaluation follows the profile's scoring: each item appears
// with its points.
func TestEvaluationScoresFollowTheProfile(t *testing.T) {
	p := profile.Default()
	boards, err := dashboards.Build(p, "hotline")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := dashboards.Queries(boards[3].Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	score := qs[0].SQL
	for _, it := range p.Scoring.Items {
		ind, _ := indicator.Lookup(it.Indicator)
		if !strings.Contains(score, "`"+ind.Name+"`") {
			t.Errorf("score lacks %s", it.Indicator)
		}
	}
}

// sdkErr is err, or nil for the SDK's empty error list (returned as a
// non-nil error when there is nothing wrong).
func sdkErr(err error) error {
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

func chinese(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestExpandSQL(t *testing.T) {
	from := time.Unix(1796054400, 0)
	got := dashboards.ExpandSQL("SELECT 1 FROM ${database}.t WHERE c IN (${center:singlequote}) AND $__timeFilter(bucket) AND day <= toDate($__toTime) AND $__fromTime > 0",
		"db", map[string][]string{"center": {"a", `o'b\`}}, from, from.Add(time.Hour))
	want := `SELECT 1 FROM db.t WHERE c IN ('a','o\'b\\') AND bucket >= toDateTime(1796054400) AND bucket <= toDateTime(1796058000) AND day <= toDate(toDateTime(1796058000)) AND toDateTime(1796054400) > 0`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

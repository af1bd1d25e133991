package profile_test

import (
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/workday"

	// The catalogue profiles are checked against is the indicator package's.
	_ "github.com/hotlineqc/hotlineqc/internal/indicator"
)

func TestBuiltinProfiles(t *testing.T) {
	for _, id := range profile.BuiltinIDs() {
		p, err := profile.Builtin(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if p.ID != id {
			t.Errorf("file %s.yaml has id %s", id, p.ID)
		}
	}
	d := profile.Default()
	if d.Calls.ServiceLevel.ThresholdSeconds != 15 || d.Targets["answer_rate"].Value != 0.95 {
		t.Errorf("default profile = %+v", d)
	}
	if l := d.Deadlines.ResolveLimit(event.CategoryComplaint, event.UrgencyNormal); l.String() != "5wd" {
		t.Errorf("default resolve limit = %s", l)
	}
	gd, _ := profile.Builtin("guangdong-2022")
	for c, want := range map[event.Category]string{event.CategoryConsultation: "2wd", event.CategoryHelp: "10wd",
		event.CategorySuggestion: "10wd", event.CategoryComplaint: "15wd", event.CategoryReport: "15wd", event.CategoryPraise: "5wd"} {
		if l := gd.Deadlines.ResolveLimit(c, event.UrgencyNormal); l.String() != want {
			t.Errorf("guangdong %s = %s, want %s", c, l, want)
		}
	}
	if gd.Targets["answer_rate"].Value != 0.95 || gd.Deadlines.Accept.Normal.String() != "1wd" {
		t.Error("guangdong lost its base settings")
	}
}

func TestGoodFileOverridesBase(t *testing.T) {
	p, err := profile.Load("testdata/map_rule.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Deadlines.Resolve.Normal.String() != "3wd" || p.Deadlines.Resolve.Urgent.String() != "12h" {
		t.Errorf("resolve = %+v", p.Deadlines.Resolve)
	}
	cal, err := p.NewCalendar()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := workday.ParseDay("2026-12-31")
	if cal.IsWorkday(d) {
		t.Error("calendar override ignored")
	}
}

func TestBadFilesNameFileKeyAndProblem(t *testing.T) {
	cases := map[string][]string{
		"testdata/unknown_key.bad.yml": {"line 5: calls.service_level.treshold_seconds: unknown key"},
		"testdata/bad_limit.bad.yml":   {"line 4", `"1 day"`},
		"testdata/bad_values.bad.yml": {
			"timezone:", "calls.service_level.threshold_seconds:", "calls.service_level.denominator:",
			"tickets.on_time_closure.window_by:", "tickets.written_response.voice:", "satisfied_ratings:",
			"deadlines.resolve.by_category.gossip:", "targets.answer_rate.op:", "targets.answer_rate.value:",
			"targets.nonsense_rate: unknown indicator", "scoring.items[0].rule:",
		},
	}
	for path, wants := range cases {
		_, err := profile.Load(path)
		if err == nil {
			t.Errorf("%s accepted", path)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name %s: %v", path, err)
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", path, w, err)
			}
		}
	}
}

func TestLoadByID(t *testing.T) {
	if p, err := profile.Load("guangdong-2022"); err != nil || p.ID != "guangdong-2022" {
		t.Errorf("Load(id) = %v, %v", p, err)
	}
	if _, err := profile.Load("nowhere-1999"); err == nil || !strings.Contains(err.Error(), "gbt33358-2016") {
		t.Errorf("unknown id: %v", err)
	}
}

package compute_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Every class of the records audit, one call or ticket each (two for
// impossible order), beside clean ones that must not appear, worked out by
// hand from testdata/audit/events.ndjson.
func TestAuditFindsEveryClass(t *testing.T) {
	asOf, _ := time.Parse(time.RFC3339, "2026-10-31T23:59:59+08:00")
	out, err := compute.Audit(context.Background(), compute.Options{Files: []string{"testdata/audit/events.ndjson"},
		Profiles: profile.Single(profile.Default()), AsOf: asOf}, compute.AuditScope{From: "2026-10", To: "2026-10", Examples: indicator.MaxAuditExamples}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		class string
		ids   []string
	}{
		{"ticket_without_created", []string{"A1"}}, // dispatched, replied, closed; never created
		{"work_without_dispatch", []string{"A2"}},  // accepted, never dispatched
		{"closed_without_reply", []string{"A3"}},   // dispatched, closed, no reply
		{"events_after_close", []string{"A4"}},     // a response after the close
		{"overdue_without_reply", []string{"A5"}},  // due 10-19 24:00, never replied nor suspended
		{"call_without_queue", []string{"C1"}},     // answered and ended, never queued nor arrived
		{"answer_without_end", []string{"C2"}},     // answered 10-12, no end by 10-31
		{"impossible_order", []string{"A6", "C3"}}, // reply before dispatch; answer before offer
		{"conflicting_duplicates", []string{"C4"}}, // answered at 10 s and at 30 s under one event_id
	}
	if len(out.Classes) != len(want) {
		t.Fatalf("classes = %+v", out.Classes)
	}
	for i, w := range want {
		c := out.Classes[i]
		if c.Class != w.class || c.CenterID != "c1" || c.Month != "2026-10" || c.Count != len(w.ids) || !reflect.DeepEqual(c.Examples, w.ids) || c.Name == "" {
			t.Errorf("class %d = %+v, want %s %v", i, c, w.class, w.ids)
		}
	}
	if out.Rejected["missing_field"] != 1 || out.Events.Conflicting != 1 {
		t.Errorf("rejected %v, events %+v", out.Rejected, out.Events)
	}
}

// Tickets whose topic the profile's code table does not hold are audited
// as unknown_topics, in the month of the ticket (the golden case
// v12_repeat_requests: T7 in October, T14 in November); without a table
// every code is known.
func TestAuditUnknownTopics(t *testing.T) {
	dir := "testdata/golden/v12_repeat_requests/"
	p, err := profile.Load(dir + "profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := time.Parse(time.RFC3339, "2026-12-01T00:00:00+08:00")
	for _, tc := range []struct {
		p    *profile.Profile
		want map[string][]string
	}{{p, map[string][]string{"2026-10": {"T7"}, "2026-11": {"T14"}}}, {profile.Default(), map[string][]string{}}} {
		out, err := compute.Audit(context.Background(), compute.Options{Files: []string{dir + "events.ndjson"},
			Profiles: profile.Single(tc.p), AsOf: asOf}, compute.AuditScope{From: "2026-10", To: "2026-11", Examples: indicator.MaxAuditExamples}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, c := range out.Classes {
			if c.Class != "unknown_topics" || c.Name != "诉求分类代码不在分类表中" {
				t.Errorf("%s: unexpected class %+v", tc.p.ID, c)
			}
			got[c.Month] = c.Examples
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: unknown topics %v, want %v", tc.p.ID, got, tc.want)
		}
	}
}

package rules_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/rules"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

const committed = "../../deploy/prometheus/gbt33358-2016.rules.yml"

// The committed rules are what the generator makes of the default profile:
// regenerate them with `hotlineqc rules` when this fails.
func TestCommittedRulesAreCurrent(t *testing.T) {
	got, err := rules.Generate(profile.Single(profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go run ./cmd/hotlineqc rules --profile gbt33358-2016`", committed)
	}
}

// promtool accepts the rules, and the unit tests of every alert pass.
func TestPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	for _, args := range [][]string{
		{"check", "rules", committed},
		{"test", "rules", "../../deploy/prometheus/tests/gbt33358-2016.test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// A profile that asks for business hours gates the rate alerts by the
// local hour (and weekday), and promtool accepts the result.
func TestBusinessHoursGate(t *testing.T) {
	p := profile.Default()
	p.Alerting.BusinessHours.Enabled = true
	p.Alerting.BusinessHours.StartHour, p.Alerting.BusinessHours.EndHour = 8, 20
	p.Alerting.BusinessHours.WeekdaysOnly = true
	b, err := rules.Generate(profile.Single(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hour(vector(time() + 28800)) >= 8", "hour(vector(time() + 28800)) < 20", "day_of_week(vector(time() + 28800)) <= 5"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("gated rules lack %q", want)
		}
	}
	promtoolCheck(t, b)
}

// The example Alertmanager configuration is valid, routes by severity and
// centre, and sends ticket alerts to the ticket supervisors.
func TestAlertmanagerExample(t *testing.T) {
	amtool := testenv.Tool(t, "amtool")
	const cfg = "../../deploy/alertmanager/alertmanager.yml"
	if out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for labels, want := range map[string]string{
		"severity=critical center=c12345 alertname=HotlineSLOBurnFast": "oncall-c12345",
		"severity=critical center=c99 alertname=HotlineSLOBurnFast":    "oncall-default",
		"severity=warning component=tickets center=c1 department=d1":   "ticket-supervisors",
		"severity=warning component=pipeline alertname=HotlineNoData":  "ops-default",
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(labels)...)
		out, err := exec.Command(amtool, args...).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("route of %s = %q (%v), want %s", labels, strings.TrimSpace(string(out)), err, want)
		}
	}
}

// With profiles by centre, each profile's rules select its centres: the
// default's exclude the others, the others' select theirs, and their alerts
// carry the profile. promtool accepts the result.
func TestProfilesByCenter(t *testing.T) {
	strict := profile.Default()
	strict.ID = "strict"
	strict.Targets["answer_rate"] = profile.Target{Op: ">=", Value: 0.99}
	set := &profile.Set{Default: profile.Default(), ByCenter: map[string]*profile.Profile{"c2": strict, "c3.x": strict}}
	b, err := rules.Generate(set)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"--profile-for c2=strict --profile-for c3.x=strict`",
		`hotline_indicator_numerator_total{indicator="answer_rate",center!~"c2|c3\\.x"}`,
		`hotline_indicator_numerator_total{indicator="answer_rate",center=~"c2|c3\\.x"}`,
		`hotline:answer_rate:error_ratio_rate1h{center=~"c2|c3\\.x"} > 0.06`,
		`hotline:answer_rate:error_ratio_rate1h{center!~"c2|c3\\.x"} > 0.3`,
		"profile: strict",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rules lack %q", want)
		}
	}
	promtoolCheck(t, b)
}

// promtoolCheck runs promtool check rules on generated rules.
func promtoolCheck(t *testing.T, rules []byte) {
	t.Helper()
	f := t.TempDir() + "/generated.rules.yml"
	if err := os.WriteFile(f, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(testenv.Promtool(t), "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

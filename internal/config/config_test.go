package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/config"
)

func TestLoadGoodFile(t *testing.T) {
	c, err := config.Load("testdata/full.good.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Kafka.Brokers, []string{"kafka-1:9093", "kafka-2:9093"}) || c.Kafka.SASL.Mechanism != "scram-sha-512" {
		t.Errorf("kafka = %+v", c.Kafka)
	}
	if c.Pipeline.FlushInterval != 2*time.Second || c.Pipeline.BatchSize != 5000 {
		t.Errorf("pipeline = %+v", c.Pipeline)
	}
	// Unset keys keep their defaults.
	if c.Pipeline.RetryMax != 10*time.Second || c.ClickHouse.Timezone != "Asia/Shanghai" || c.ClickHouse.RawRetentionDays != 400 {
		t.Errorf("defaults lost: %+v %+v", c.Pipeline, c.ClickHouse)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := []string{
		"HOTLINEQC_KAFKA__BROKERS=x:1, y:2",
		"HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE=pw-from-env",
		"HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=0123456789abcdef",
		"HOTLINEQC_PIPELINE__BATCH_SIZE=77",
		"OTHER_VAR=ignored",
	}
	c, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Kafka.Brokers, []string{"x:1", "y:2"}) || c.Pipeline.BatchSize != 77 {
		t.Errorf("overrides not applied: %v %d", c.Kafka.Brokers, c.Pipeline.BatchSize)
	}
	if c.ClickHouse.Password.Value.Reveal() != "pw-from-env" {
		t.Error("password override not applied")
	}
}

func TestBadFilesListEveryProblem(t *testing.T) {
	cases := map[string][]string{
		"testdata/unknown_keys.bad.yml": {"brokerz", "adress"},
		"testdata/bad_values.bad.yml": {
			"kafka.brokers:", "kafka.start_offset:", "kafka.sasl:", "clickhouse.database:",
			"clickhouse.timezone:", "pipeline.batch_size:", "pipeline.flush_interval:",
			"privacy.caller_hash_key:", "http.listen:", "log.level:",
		},
	}
	for path, wants := range cases {
		_, err := config.Load(path, nil)
		if err == nil {
			t.Errorf("%s accepted", path)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, path) {
			t.Errorf("%s: error does not name the file: %s", path, msg)
		}
		for _, w := range wants {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error lacks %q:\n%s", path, w, msg)
			}
		}
	}
}

func TestUnknownEnvKeyIsAnError(t *testing.T) {
	_, err := config.Load("", []string{"HOTLINEQC_KAFKA__BROKERZ=a:1", "HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=0123456789abcdef"})
	if err == nil || !strings.Contains(err.Error(), "brokerz") {
		t.Errorf("unknown env key: %v", err)
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	c, err := config.Load("", []string{"HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join([]string{fmtV(c)}, ""); strings.Contains(s, "0123456789abcdef") {
		t.Errorf("config printed its secret: %s", s)
	}
}

// profiles.by_center gives centres their own profiles; every other centre
// has the default, which `profile` still names when profiles.default is
// unset. A centre with a profile that does not load is named.
func TestProfilesByCenter(t *testing.T) {
	env := []string{
		"HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=0123456789abcdef",
		"HOTLINEQC_PROFILES__BY_CENTER__C440300=guangdong-2022",
	}
	c, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.ProfileSet()
	if err != nil {
		t.Fatal(err)
	}
	if set.For("c440300").ID != "guangdong-2022" || set.For("c12345").ID != "gbt33358-2016" {
		t.Errorf("profiles: c440300 %s, c12345 %s", set.For("c440300").ID, set.For("c12345").ID)
	}
	_, err = config.Load("", append(env, "HOTLINEQC_PROFILES__BY_CENTER__C9=no-such-profile"))
	if err == nil || !strings.Contains(err.Error(), "profiles.by_center.c9") {
		t.Errorf("a centre's missing profile: %v", err)
	}
	_, err = config.Load("", append(env, "HOTLINEQC_PROFILE=guangdong-2022", "HOTLINEQC_PROFILES__DEFAULT=gbt33358-2016"))
	if err == nil || !strings.Contains(err.Error(), "set one of them") {
		t.Errorf("profile and profiles.default both set: %v", err)
	}
}

// What a configuration leaves open is listed, one line each; a
// configuration with TLS, SASL, a password and a web configuration lists
// nothing. A web configuration file that does not load is an error.
func TestUnprotected(t *testing.T) {
	c := config.Default()
	open := strings.Join(c.Unprotected(), "\n")
	for _, want := range []string{"kafka.tls.enabled", "kafka.sasl.mechanism", "clickhouse.tls.enabled", "clickhouse.password", "http.web_config_file"} {
		if !strings.Contains(open, want) {
			t.Errorf("default configuration: %q not listed in\n%s", want, open)
		}
	}
	c.Kafka.TLS.Enabled, c.Kafka.SASL.Mechanism, c.ClickHouse.TLS.Enabled = true, "scram-sha-512", true
	c.ClickHouse.Password.Value = "x"
	c.HTTP.WebConfigFile = "testdata/web.good.yml"
	if open := c.Unprotected(); len(open) != 0 {
		t.Errorf("protected configuration lists %v", open)
	}
	c.Privacy.CallerHashKey.Value = "0123456789abcdef"
	c.HTTP.WebConfigFile = "testdata/missing.yml"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "http.web_config_file") {
		t.Errorf("missing web configuration file: %v", err)
	}
}

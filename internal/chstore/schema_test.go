package chstore_test

import (
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
)

func TestFeaturesOf(t *testing.T) {
	for _, c := range []struct {
		v    chstore.Version
		want bool
	}{
		{chstore.Version{18, 16, 1}, false},
		{chstore.Version{20, 2, 9}, false},
		{chstore.Version{20, 3, 0}, true},
		{chstore.Version{24, 8, 4}, true},
	} {
		f := chstore.FeaturesOf(c.v)
		if f.LowCardinality != c.want || f.Codecs != c.want || f.TTL != c.want {
			t.Errorf("FeaturesOf(%v) = %+v", c.v, f)
		}
	}
}

func TestStatementsByServerVersion(t *testing.T) {
	cfg := chstore.DefaultConfig()
	cfg.RawRetentionDays = 400
	old := strings.Join(chstore.Migrations[0].Statements(cfg, chstore.FeaturesOf(chstore.Version{18, 16, 1})), "\n")
	modern := strings.Join(chstore.Migrations[0].Statements(cfg, chstore.FeaturesOf(chstore.Version{25, 3, 0})), "\n")
	for _, banned := range []string{"LowCardinality", "CODEC", "TTL", "DateTime64"} {
		if strings.Contains(old, banned) {
			t.Errorf("18.16 schema uses %s", banned)
		}
	}
	for _, want := range []string{"LowCardinality(String)", "CODEC(Delta, ZSTD)", "TTL ts + INTERVAL 400 DAY"} {
		if !strings.Contains(modern, want) {
			t.Errorf("modern schema lacks %s", want)
		}
	}
	if !strings.Contains(old, "'call.arrived' = 1") || !strings.Contains(old, "'ticket.reopened' = 24") {
		t.Errorf("type enums wrong:\n%s", old)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	c := chstore.Config{Database: "x;DROP", Timezone: "Mars/Olympus"}
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"addr", "database", "dial_timeout", "timezone"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error lacks %s: %v", key, err)
		}
	}
	if err := chstore.DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

package chstore_test

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]chstore.Version{
		"18.16":         {Major: 18, Minor: 16},
		"24.8.4":        {Major: 24, Minor: 8, Patch: 4},
		"26.9.2.1":      {Major: 26, Minor: 9, Patch: 2},
		"24.8.4.13-lts": {Major: 24, Minor: 8, Patch: 4},
	} {
		got, err := chstore.ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "24", "x.y", "1.2.3.4.5", "24.-1"} {
		if _, err := chstore.ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

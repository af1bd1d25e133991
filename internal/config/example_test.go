package config_test

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/config"
)

// The shipped example configuration must stay loadable.
func TestExampleConfigLoads(t *testing.T) {
	if _, err := config.Load("../../deploy/hotlineqc.example.yaml", []string{"HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
}

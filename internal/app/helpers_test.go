package app_test

import (
	"os"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// startPrometheus is testenv.StartPrometheus.
func startPrometheus(t *testing.T, bin, addr, target, more string, job ...string) {
	t.Helper()
	testenv.StartPrometheus(t, bin, addr, target, more, job...)
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

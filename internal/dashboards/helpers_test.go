package dashboards_test

import (
	"log/slog"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// streamConfig is a `run` configuration of the test's own on the real
// servers.
func streamConfig(t *testing.T) config.Config {
	t.Helper()
	return testenv.PipelineConfig(t, testenv.Kafka(t), 3)
}

func startPrometheus(t *testing.T, bin, addr, target, more string, job ...string) {
	t.Helper()
	testenv.StartPrometheus(t, bin, addr, target, more, job...)
}

func scrape(t *testing.T, url string) string { return testenv.Get(t, url) }

package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/security"
)

// KafkaSASLEnv points tests at another SASL_SSL listener.
const KafkaSASLEnv = "HOTLINEQC_TEST_KAFKA_SASL"

// KafkaSASL returns cfg (brokers, topics, group) set to reach the real
// broker through its SASL_SSL listener (127.0.0.1:9094) as the services
// script's SCRAM-SHA-512 user, trusting the CA the script made.
func KafkaSASL(t testing.TB, cfg kafkaio.Config) kafkaio.Config {
	t.Helper()
	dir := filepath.Join(servicesDir(), "kafka")
	a := addr(KafkaSASLEnv, "127.0.0.1:9094")
	if err := reachable(a); err != nil {
		missing(t, "Kafka SASL_SSL at "+a, err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, "hotlineqc.password"))
	if err != nil {
		missing(t, "the password of Kafka user hotlineqc", err)
	}
	cfg.Brokers = []string{a}
	cfg.TLS = security.TLS{Enabled: true, CAFile: filepath.Join(dir, "tls", "ca.pem")}
	cfg.SASL = kafkaio.SASL{Mechanism: "scram-sha-512", Username: "hotlineqc"}
	cfg.SASL.Password.Value = security.Secret(strings.TrimSpace(string(pw)))
	return cfg
}

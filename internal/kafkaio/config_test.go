package kafkaio_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/security"
	"github.com/segmentio/kafka-go"
)

func TestValidate(t *testing.T) {
	if err := kafkaio.DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	c := kafkaio.DefaultConfig()
	c.Brokers, c.GroupID, c.StartOffset = nil, "", "middle"
	c.Topics.DeadLetter = c.Topics.Calls
	c.SASL = kafkaio.SASL{Mechanism: "plain"}
	err := c.Validate()
	for _, key := range []string{"brokers:", "group_id:", "start_offset:", "topics.dead_letter:", "sasl: username"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error lacks %q: %v", key, err)
		}
	}
}

func TestDialerBuildsSASLWithoutLeakingPassword(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("kafka-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mech := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		c := kafkaio.DefaultConfig()
		c.SASL = kafkaio.SASL{Mechanism: mech, Username: "u", Password: security.SecretSource{File: pw}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		d, err := c.Dialer()
		if err != nil || d.SASLMechanism == nil || d.SASLMechanism.Name() == "" {
			t.Errorf("%s: dialer %+v, %v", mech, d, err)
		}
	}
	c := kafkaio.DefaultConfig()
	c.SASL = kafkaio.SASL{Mechanism: "plain", Username: "u", Password: security.SecretSource{File: pw + "-missing"}}
	if _, err := c.Dialer(); err == nil || strings.Contains(err.Error(), "kafka-secret") {
		t.Errorf("missing password file: %v", err)
	}
}

func TestLag(t *testing.T) {
	if l := (kafkaio.Message{Offset: 10, HighWaterMark: 15}).Lag(); l != 4 {
		t.Errorf("lag = %d, want 4", l)
	}
	if l := (kafkaio.Message{Offset: 14, HighWaterMark: 15}).Lag(); l != 0 {
		t.Errorf("lag at end = %d", l)
	}
}

// A refused login or permission is permanent; the errors of a group in
// motion and network errors are not.
func TestPermanent(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("join: %w", kafka.SASLAuthenticationFailed), true},
		{fmt.Errorf("commit: %w", kafka.GroupAuthorizationFailed), true},
		{fmt.Errorf("commit: %w", kafka.RebalanceInProgress), false},
		{fmt.Errorf("commit: %w", kafka.IllegalGeneration), false},
		{fmt.Errorf("join: %w", kafka.UnknownMemberId), false},
		{io.EOF, false},
	} {
		if got := kafkaio.Permanent(c.err); got != c.want {
			t.Errorf("Permanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Package kafkaio is hotlineqc's Kafka edge: the consumer-group source of
// call and ticket events, the dead-letter producer, and the TLS/SASL
// connection settings they share. It is built on segmentio/kafka-go.
package kafkaio

import (
	"errors"
	"fmt"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/security"
)

// Topics names the topics hotlineqc reads and writes.
type Topics struct {
	Calls   string `yaml:"calls"`
	Tickets string `yaml:"tickets"`
	// Agents receives agent.* events (revision 1.2), keyed by agent_id;
	// empty: the pipeline reads no agent topic.
	Agents     string `yaml:"agents"`
	DeadLetter string `yaml:"dead_letter"`
}

// SASL configures SASL authentication. An empty Mechanism turns it off.
type SASL struct {
	// Mechanism is "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism string                `yaml:"mechanism"`
	Username  string                `yaml:"username"`
	Password  security.SecretSource `yaml:"password"`
}

// Config is the Kafka configuration of the pipeline.
type Config struct {
	Brokers  []string `yaml:"brokers"`
	GroupID  string   `yaml:"group_id"`
	ClientID string   `yaml:"client_id"`
	Topics   Topics   `yaml:"topics"`
	// StartOffset is where a new consumer group starts: "earliest" or "latest".
	StartOffset string `yaml:"start_offset"`
	// MaxMessageBytes is the largest message accepted; larger ones are
	// dead-lettered as too_large.
	MaxMessageBytes int           `yaml:"max_message_bytes"`
	SessionTimeout  time.Duration `yaml:"session_timeout"`
	TLS             security.TLS  `yaml:"tls"`
	SASL            SASL          `yaml:"sasl"`
}

// DefaultConfig returns the defaults: a local broker, the contract's topics.
func DefaultConfig() Config {
	return Config{
		Brokers:         []string{"127.0.0.1:9092"},
		GroupID:         "hotlineqc",
		ClientID:        "hotlineqc",
		Topics:          Topics{Calls: "hotline.calls", Tickets: "hotline.tickets", Agents: "hotline.agents", DeadLetter: "hotline.dlq"},
		StartOffset:     "earliest",
		MaxMessageBytes: 1 << 20,
		SessionTimeout:  30 * time.Second,
	}
}

// Validate checks the configuration and reports every problem it finds.
func (c Config) Validate() error {
	var errs []error
	add := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if len(c.Brokers) == 0 {
		add("brokers", errors.New("must list at least one host:port"))
	}
	if c.GroupID == "" {
		add("group_id", errors.New("must be set"))
	}
	for _, kv := range [...]struct{ key, v string }{{"topics.calls", c.Topics.Calls}, {"topics.tickets", c.Topics.Tickets},
		{"topics.dead_letter", c.Topics.DeadLetter}} { // in this order: errors read the same on every run
		if kv.v == "" {
			add(kv.key, errors.New("must be set"))
		}
	}
	if c.Topics.DeadLetter != "" && (c.Topics.DeadLetter == c.Topics.Calls || c.Topics.DeadLetter == c.Topics.Tickets || c.Topics.DeadLetter == c.Topics.Agents) {
		add("topics.dead_letter", errors.New("must differ from the input topics"))
	}
	if c.Topics.Agents != "" && (c.Topics.Agents == c.Topics.Calls || c.Topics.Agents == c.Topics.Tickets) {
		add("topics.agents", errors.New("must differ from the call and ticket topics"))
	}
	if c.StartOffset != "earliest" && c.StartOffset != "latest" {
		add("start_offset", fmt.Errorf("%q: want earliest or latest", c.StartOffset))
	}
	if c.MaxMessageBytes <= 0 {
		add("max_message_bytes", errors.New("must be positive"))
	}
	if c.SessionTimeout < time.Second {
		add("session_timeout", errors.New("must be at least 1s"))
	}
	add("tls", c.TLS.Validate())
	add("sasl", c.SASL.validate())
	return errors.Join(errs...)
}

func (s SASL) validate() error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password.IsSet() {
			return errors.New("username or password set but mechanism is empty")
		}
		return nil
	case "plain", "scram-sha-256", "scram-sha-512":
		if s.Username == "" {
			return errors.New("username must be set")
		}
		return s.Password.Validate()
	default:
		return fmt.Errorf("mechanism %q: want plain, scram-sha-256 or scram-sha-512", s.Mechanism)
	}
}

// Inputs returns the topics the pipeline consumes: calls, tickets, and
// agents when set.
func (t Topics) Inputs() []string {
	out := []string{t.Calls, t.Tickets}
	if t.Agents != "" {
		out = append(out, t.Agents)
	}
	return out
}

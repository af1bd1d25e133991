// Package config loads the configuration of `hotlineqc run`: one YAML file
// with environment overrides, decoded strictly (an unknown key is an error)
// and validated with every problem listed at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/httpserve"
	"github.com/hotlineqc/hotlineqc/internal/ingest"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/security"
)

// Config is the whole configuration of the pipeline process.
type Config struct {
	Kafka      kafkaio.Config `yaml:"kafka"`
	ClickHouse chstore.Config `yaml:"clickhouse"`
	Pipeline   ingest.Config  `yaml:"pipeline"`
	// Profile is the evaluation profile: a built-in id or a file. It is
	// the default profile when Profiles.Default is not set.
	Profile string `yaml:"profile"`
	// Profiles gives centres their own profiles.
	Profiles Profiles         `yaml:"profiles"`
	Stream   livestate.Config `yaml:"stream"`
	// Ledger is the tamper evidence: when days are sealed.
	Ledger  ledger.Config `yaml:"ledger"`
	Privacy Privacy       `yaml:"privacy"`
	HTTP    HTTP          `yaml:"http"`
	Log     Log           `yaml:"log"`
	// Production refuses to start `run` while Kafka or ClickHouse is
	// reached without TLS, Kafka without SASL, or the HTTP endpoints are
	// served without TLS and basic auth (see Unprotected); off, each is a
	// warning at start.
	Production bool `yaml:"production"`
}

// Unprotected lists what the configuration leaves open on the network,
// one line each: connections without TLS or authentication, endpoints
// served in clear or to anyone.
func (c Config) Unprotected() []string {
	var out []string
	if !c.Kafka.TLS.Enabled {
		out = append(out, "kafka: connections without TLS (kafka.tls.enabled)")
	}
	if c.Kafka.SASL.Mechanism == "" {
		out = append(out, "kafka: no SASL authentication (kafka.sasl.mechanism)")
	}
	if !c.ClickHouse.TLS.Enabled {
		out = append(out, "clickhouse: connections without TLS (clickhouse.tls.enabled)")
	}
	if !c.ClickHouse.Password.IsSet() {
		out = append(out, "clickhouse: no password (clickhouse.password)")
	}
	if c.HTTP.WebConfigFile == "" {
		out = append(out, "http: /metrics and /healthz served without TLS and basic auth (http.web_config_file)")
	}
	if c.HTTP.PProf {
		out = append(out, "http: profiling endpoints served (http.pprof)")
	}
	return out
}

// Profiles maps centres to profiles (indicators.md v1.1, decision 17): a
// centre named in ByCenter is evaluated against its profile (rules,
// calendar, time zone, targets), every other centre against Default.
type Profiles struct {
	Default  string            `yaml:"default"`
	ByCenter map[string]string `yaml:"by_center"`
}

// ProfileSet loads the profiles of the configuration.
func (c Config) ProfileSet() (*profile.Set, error) {
	def := c.Profiles.Default
	if def == "" {
		def = c.Profile
	}
	return profile.LoadSet(def, c.Profiles.ByCenter)
}

// Privacy holds the key of the caller hash (HMAC-SHA-256). It is required:
// without it, phone numbers could not be pseudonymised.
type Privacy struct {
	CallerHashKey security.SecretSource `yaml:"caller_hash_key"`
	// DeadLetterClearCaller keeps a rejected message's caller in clear in
	// its dead-letter record (for a dead-letter topic the deployment
	// protects). Off by default: the caller is replaced by its keyed hash.
	DeadLetterClearCaller bool `yaml:"dead_letter_clear_caller"`
}

// HTTP is the listener of /metrics and the health endpoints.
type HTTP struct {
	Listen string `yaml:"listen"`
	// PProf serves Go's profiling endpoints under /debug/pprof/ (off by
	// default: for diagnosis on a trusted listener).
	PProf bool `yaml:"pprof"`
	// WebConfigFile is a web configuration file of the Prometheus
	// exporter-toolkit (tls_server_config, basic_auth_users with bcrypt
	// hashes, http_server_config): every endpoint is then served under it.
	// Empty: plain HTTP, no authentication.
	WebConfigFile string `yaml:"web_config_file"`
}

// Log configures the structured logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Default returns the default configuration; a file only states what differs.
func Default() Config {
	return Config{
		Kafka:      kafkaio.DefaultConfig(),
		ClickHouse: chstore.DefaultConfig(),
		Pipeline:   ingest.DefaultConfig(),
		Profile:    profile.DefaultID,
		Stream:     livestate.DefaultConfig(),
		Ledger:     ledger.DefaultConfig(),
		HTTP:       HTTP{Listen: "127.0.0.1:9464"},
		Log:        Log{Level: "info", Format: "json"},
	}
}

// Validate checks every section and returns all problems, each prefixed
// with its key path.
func (c Config) Validate() error {
	var errs []error
	section := func(name string, err error) {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("%s.%w", name, e))
		}
	}
	section("kafka", c.Kafka.Validate())
	section("clickhouse", c.ClickHouse.Validate())
	section("pipeline", c.Pipeline.Validate())
	if c.Profiles.Default != "" && c.Profile != profile.DefaultID && c.Profile != c.Profiles.Default {
		errs = append(errs, fmt.Errorf("profile: %q and profiles.default: %q: set one of them", c.Profile, c.Profiles.Default))
	}
	if _, err := c.ProfileSet(); err != nil {
		errs = append(errs, fmt.Errorf("profile: %w", err))
	}
	if err := c.Ledger.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Stream.EvictAfter < 0 {
		errs = append(errs, errors.New("stream.evict_after: must be 0 (keep) or positive"))
	}
	if !c.Privacy.CallerHashKey.IsSet() {
		errs = append(errs, errors.New("privacy.caller_hash_key: must be set (value from HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE, or file)"))
	}
	if err := c.Privacy.CallerHashKey.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("privacy.caller_hash_key: %w", err))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		errs = append(errs, fmt.Errorf("http.listen: %q is not host:port", c.HTTP.Listen))
	}
	if err := httpserve.ValidateWebConfig(c.HTTP.WebConfigFile); err != nil {
		errs = append(errs, fmt.Errorf("http.web_config_file: %w", err))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		errs = append(errs, fmt.Errorf("log.level: %q: want debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: %q: want json or text", c.Log.Format))
	}
	return errors.Join(errs...)
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Package chstore is hotlineqc's ClickHouse storage: connection, versioned
// schema migrations that adapt to the server version, and the writers of
// raw events. It works on ClickHouse 18.16 and switches on modern features
// (LowCardinality, codecs, TTL) on current servers.
package chstore

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/security"
)

// Config is the ClickHouse connection and schema configuration.
type Config struct {
	// Addr lists native-protocol endpoints (host:port), tried in order.
	Addr     []string              `yaml:"addr"`
	Database string                `yaml:"database"`
	Username string                `yaml:"username"`
	Password security.SecretSource `yaml:"password"`
	TLS      security.TLS          `yaml:"tls"`
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Timezone of the DateTime columns and of monthly partitions.
	Timezone string `yaml:"timezone"`
	// RawRetentionDays drops raw events older than this many days on
	// servers with TTL support; 0 keeps them forever.
	RawRetentionDays int `yaml:"raw_retention_days"`
	// Cluster, when set, names the ClickHouse cluster (remote_servers) to
	// create the schema on: Replicated tables on every node (ZooKeeper
	// required), Distributed tables over them, inserts that wait for the
	// shards. Each shard of the cluster must set internal_replication to
	// true (the Replicated tables copy between replicas; schema changes ON
	// CLUSTER refuse otherwise). Empty: one server.
	Cluster string `yaml:"cluster"`
	// SettleEvery is how often `run` brings the daily aggregates
	// (daily_indicators) up to date with the stored contributions, and
	// reads the last staffing interval for the hotline_staffing_* gauges.
	SettleEvery time.Duration `yaml:"settle_every"`
}

// DefaultConfig returns the defaults: a local server, database "hotline".
func DefaultConfig() Config {
	return Config{
		Addr:        []string{"127.0.0.1:9000"},
		Database:    "hotline",
		Username:    "default",
		DialTimeout: 5 * time.Second,
		Timezone:    "Asia/Shanghai",
		SettleEvery: 30 * time.Second,
	}
}

// Location returns the time zone of Timezone (UTC when it is unknown,
// which Validate reports).
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the configuration and reports every problem it finds.
func (c Config) Validate() error {
	var errs []error
	add := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if len(c.Addr) == 0 {
		add("addr", errors.New("must list at least one host:port"))
	}
	if !identRE.MatchString(c.Database) {
		add("database", fmt.Errorf("%q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Database))
	}
	if c.DialTimeout <= 0 {
		add("dial_timeout", errors.New("must be positive"))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		add("timezone", fmt.Errorf("unknown time zone %q", c.Timezone))
	}
	if c.Cluster != "" && !identRE.MatchString(c.Cluster) {
		add("cluster", fmt.Errorf("%q is not a plain identifier", c.Cluster))
	}
	if c.SettleEvery <= 0 {
		add("settle_every", errors.New("must be positive"))
	}
	if c.RawRetentionDays < 0 {
		add("raw_retention_days", errors.New("must be 0 (keep) or positive"))
	}
	add("password", c.Password.Validate())
	add("tls", c.TLS.Validate())
	return errors.Join(errs...)
}

package chstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/hotlineqc/hotlineqc/internal/security"
)

// Open connects to ClickHouse over the native protocol and checks the
// connection with a ping. The database need not exist yet.
func Open(ctx context.Context, c Config) (driver.Conn, error) {
	pw, err := c.Password.Load()
	if err != nil {
		return nil, fmt.Errorf("clickhouse password: %w", err)
	}
	tlsConf, err := c.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("clickhouse tls: %w", err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        c.Addr,
		Auth:        clickhouse.Auth{Database: "default", Username: c.Username, Password: pw.Reveal()},
		TLS:         tlsConf,
		DialTimeout: c.DialTimeout,
		Protocol:    clickhouse.Native,
		Settings:    settings(c),
		// Enough idle connections for every table a flush writes at once
		// (three raw tables, four state tables, the backlog) beside the
		// watchers' queries: with the driver's default of 5, each flush
		// closed connections and opened new ones, whose buffers grew again
		// from nothing (a tenth of the writer's garbage).
		MaxIdleConns: maxIdleConns,
	})
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %v: %w", c.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse %v: %w", c.Addr, err)
	}
	return conn, nil
}

// maxIdleConns is how many connections the pool keeps open when idle.
const maxIdleConns = 16

// settings are the session settings: on a cluster, an insert into a
// Distributed table returns only once every shard has the rows, so that
// offsets are committed after the data is durable where it is read.
func settings(c Config) clickhouse.Settings {
	if c.Cluster == "" {
		return nil
	}
	return clickhouse.Settings{"insert_distributed_sync": 1}
}

// Retryable reports whether err is a transient ClickHouse or network
// failure worth retrying with backoff: the server is unreachable, overloaded
// or restarting. Schema and data errors are not retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case 159, // TIMEOUT_EXCEEDED
			202, // TOO_MANY_SIMULTANEOUS_QUERIES
			203, // NO_FREE_CONNECTION
			209, // SOCKET_TIMEOUT
			210, // NETWORK_ERROR
			241, // MEMORY_LIMIT_EXCEEDED
			242, // TABLE_IS_READ_ONLY
			252, // TOO_MANY_PARTS
			285, // TOO_FEW_LIVE_REPLICAS
			319, // UNKNOWN_STATUS_OF_INSERT
			425: // SYSTEM_ERROR
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, clickhouse.ErrAcquireConnTimeout) ||
		errors.Is(err, context.DeadlineExceeded)
}

// OpenDSN connects with a clickhouse-go DSN such as
// clickhouse://user:password@host:9000/database?secure=true and returns the
// connection and the database it names ("hotline" when none). A password
// left out of the DSN is read from HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE;
// ca_file=PATH (a PEM bundle) connects with TLS trusting those CAs.
func OpenDSN(ctx context.Context, dsn string) (driver.Conn, string, error) {
	dsn, ca, err := cutParam(dsn, "ca_file")
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse DSN: %w", err)
	}
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse DSN: %w", err)
	}
	if ca != "" { // TLS with this CA (secure=true implied)
		t, err := security.TLS{Enabled: true, CAFile: ca}.Config()
		if err != nil {
			return nil, "", fmt.Errorf("clickhouse DSN: ca_file: %w", err)
		}
		opts.TLS = t
	}
	db := opts.Auth.Database
	if db == "" || db == "default" {
		db = "hotline"
	}
	if opts.Auth.Password == "" {
		opts.Auth.Password = os.Getenv("HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE")
	}
	opts.Auth.Database = "default"
	opts.Protocol = clickhouse.Native
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, "", fmt.Errorf("open clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("ping clickhouse %v: %w", opts.Addr, err)
	}
	return conn, db, nil
}

// cutParam removes query parameter name from dsn and returns its value:
// a parameter of ours, which the driver would send the server as a setting.
func cutParam(dsn, name string) (string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	v := q.Get(name)
	if !q.Has(name) {
		return dsn, "", nil
	}
	q.Del(name)
	u.RawQuery = q.Encode()
	return u.String(), v, nil
}

package chstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
)

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", context.Canceled, false},
		{"deadline", context.DeadlineExceeded, true},
		{"refused", fmt.Errorf("insert into raw_call_events: %w", syscall.ECONNREFUSED), true},
		{"reset", syscall.ECONNRESET, true},
		{"eof", io.EOF, true},
		{"socket timeout", &clickhouse.Exception{Code: 209}, true},
		{"too many parts", fmt.Errorf("insert: %w", &clickhouse.Exception{Code: 252}), true},
		{"table read-only (replica session)", &clickhouse.Exception{Code: 242}, true},
		{"read-only user", &clickhouse.Exception{Code: 164, Message: "Cannot execute query in readonly mode"}, false},
		{"unknown table", &clickhouse.Exception{Code: 60}, false},
		{"authentication", &clickhouse.Exception{Code: 516}, false},
		{"plain error", errors.New("boom"), false},
	} {
		if got := chstore.Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

package chstore

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Inserter exposes the inserter to the external tests.
type Inserter struct{ in *inserter }

func NewInserter(conn driver.Conn, db, table, cols string) Inserter {
	return Inserter{newInserter(conn, db, table, cols)}
}

func (i Inserter) Insert(ctx context.Context, columns ...any) error {
	return i.in.insert(ctx, func() []any { return columns })
}

// Indicator codes (codes.go), for the external tests.
var (
	ParseEnum      = parseEnum
	IndicatorCodes = indicatorCodes
)

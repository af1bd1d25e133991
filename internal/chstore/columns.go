package chstore

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// insertColumns inserts one block whose columns are given whole, as typed
// slices in the order of cols: no value is boxed row by row, which costs
// far less than appending rows of interface values.
func insertColumns(ctx context.Context, conn driver.Conn, db, table, cols string, columns ...any) error {
	b, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", db, table, cols))
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i, c := range columns {
		if err := appendColumn(b.Column(i), c); err != nil {
			return fmt.Errorf("append column %d to %s: %w", i, table, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

// appendColumn appends a whole column. An Array column ([][]T) goes row by
// row with its typed slice: the driver's Append would walk it by reflection
// and box every element.
func appendColumn(col driver.BatchColumn, c any) error {
	switch rows := c.(type) {
	case [][]string:
		return appendRows(col, rows)
	case [][]int64:
		return appendRows(col, rows)
	}
	return col.Append(c)
}

func appendRows[T any](col driver.BatchColumn, rows [][]T) error {
	for _, r := range rows {
		if err := col.AppendRow(r); err != nil {
			return err
		}
	}
	return nil
}

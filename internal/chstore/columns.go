package chstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// insertColumns inserts one block whose columns are given whole, as typed
// slices in the order of cols: no value is boxed row by row, which costs
// far less than appending rows of interface values. For tables written
// again and again, an inserter keeps its columns between inserts.
func insertColumns(ctx context.Context, conn driver.Conn, db, table, cols string, columns ...any) error {
	return newInserter(conn, db, table, cols).insert(ctx, func() []any { return columns })
}

// inserter inserts blocks into one table through one batch that it keeps
// between inserts: the driver's columns keep their buffers, where a batch
// prepared per insert grows every column from nothing, the first cost of
// the streaming writer's profile (growing and clearing buffers, and the
// garbage they leave). The driver sends a batch again on a new connection
// when it was sent before (its retry path); the columns are reset and
// filled again before each send. Every insert is acknowledged by the server
// before insert returns, exactly as with a batch per insert.
type inserter struct {
	conn  driver.Conn
	query string
	table string

	mu  sync.Mutex
	ctx callCtx // the context of the insert in progress, for the batch
	b   driver.Batch
}

func newInserter(conn driver.Conn, db, table, cols string) *inserter {
	return &inserter{conn: conn, table: table, query: fmt.Sprintf("INSERT INTO %s.%s (%s)", db, table, cols)}
}

// insert sends one block, the columns fill returns in the order of the
// column list, and returns when the server has acknowledged it. fill runs
// under the inserter's lock, so a caller may fill buffers it keeps for the
// table. After a failure the batch is dropped and the next insert prepares
// a new one.
func (in *inserter) insert(ctx context.Context, fill func() []any) (err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.ctx.set(ctx)
	defer in.ctx.reset()
	defer func() {
		if err != nil && in.b != nil {
			_ = in.b.Abort()
			in.b = nil
		}
	}()
	if in.b == nil {
		if in.b, err = in.conn.PrepareBatch(&in.ctx, in.query); err != nil {
			return fmt.Errorf("prepare insert into %s: %w", in.table, err)
		}
	}
	columns := fill()
	cols := in.b.Columns()
	if len(cols) != len(columns) {
		return fmt.Errorf("insert into %s: %d columns given for %d", in.table, len(columns), len(cols))
	}
	for i, c := range cols {
		c.Reset()
		if err := appendColumn(c, columns[i]); err != nil {
			return fmt.Errorf("append column %s to %s: %w", c.Name(), in.table, err)
		}
	}
	if err := in.b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", in.table, err)
	}
	return nil
}

// appendColumn appends a whole column. An Array column goes row by row
// with its typed slice: the driver's Append would walk it by reflection and
// box every element.
func appendColumn(col column.Interface, c any) error {
	switch a := c.(type) {
	case *arrays[string]:
		return a.appendTo(col)
	case *arrays[int64]:
		return a.appendTo(col)
	case [][]string:
		for _, r := range a {
			if err := col.AppendRow(r); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := col.Append(c)
	return err
}

// arrays is an Array(T) column: the elements of every row one after the
// other, and where each row ends. It is kept between inserts.
type arrays[T any] struct {
	flat []T
	ends []int
	ptrs []*T // scratch: &flat[i], see appendTo
}

// endRow closes the row of the elements added since the previous one.
func (a *arrays[T]) endRow() { a.ends = append(a.ends, len(a.flat)) }

func (a *arrays[T]) reset() {
	a.flat = reuse(a.flat)
	a.ends = a.ends[:0]
	a.ptrs = reuse(a.ptrs)
}

// appendTo appends the rows to col, each as a slice of pointers to its
// elements: the driver takes an element through an interface value, and
// a pointer goes into one without an allocation where a string, a large
// integer or a time does not (an allocation per element was a tenth of
// the writer's garbage).
func (a *arrays[T]) appendTo(col column.Interface) error {
	a.ptrs = a.ptrs[:0]
	for i := range a.flat {
		a.ptrs = append(a.ptrs, &a.flat[i])
	}
	start := 0
	for _, end := range a.ends {
		if err := col.AppendRow(a.ptrs[start:end:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// reuse empties a column kept between inserts, keeping its capacity and
// letting go of what it referred to.
func reuse[T any](s []T) []T {
	clear(s)
	return s[:0]
}

// callCtx is the context an inserter's batch keeps: the driver holds the
// context a batch was prepared with and uses it again when the batch is
// sent, so it answers for the context of the insert in progress (and, out
// of one, as a context already ended).
type callCtx struct {
	mu  sync.Mutex
	cur context.Context
}

func (c *callCtx) set(ctx context.Context) {
	c.mu.Lock()
	c.cur = ctx
	c.mu.Unlock()
}

// reset says no call is under way: get returns an ended context.
func (c *callCtx) reset() {
	c.mu.Lock()
	c.cur = nil
	c.mu.Unlock()
}

func (c *callCtx) get() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return ended
	}
	return c.cur
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.get().Deadline() }
func (c *callCtx) Done() <-chan struct{}       { return c.get().Done() }
func (c *callCtx) Err() error                  { return c.get().Err() }
func (c *callCtx) Value(key any) any           { return c.get().Value(key) }

// ended is the context of no insert: already cancelled.
var ended = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// resetAll reuses each of a table's columns of one type.
func resetAll[T any](cols [][]T) {
	for i := range cols {
		cols[i] = reuse(cols[i])
	}
}

package dashboards_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// recordingConn records the queries the product's reader issues, with
// their arguments bound as clickhouse-go binds them, to run them elsewhere.
type recordingConn struct {
	driver.Conn
	queries []string
}

func (c *recordingConn) Query(ctx context.Context, q string, args ...any) (driver.Rows, error) {
	c.queries = append(c.queries, bindArgs(q, args))
	return c.Conn.Query(ctx, q, args...)
}

func (c *recordingConn) QueryRow(ctx context.Context, q string, args ...any) driver.Row {
	c.queries = append(c.queries, bindArgs(q, args))
	return c.Conn.QueryRow(ctx, q, args...)
}

// bindArgs replaces each ? with its argument: strings quoted, group sets
// as (a, b), numbers as they are.
func bindArgs(q string, args []any) string {
	var b strings.Builder
	for _, a := range args {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			break
		}
		b.WriteString(q[:i])
		b.WriteString(literal(a))
		q = q[i+1:]
	}
	b.WriteString(q)
	return b.String()
}

func literal(a any) string {
	switch v := a.(type) {
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	case clickhouse.GroupSet:
		parts := make([]string, len(v.Value))
		for i, x := range v.Value {
			parts[i] = literal(x)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprint(a)
}

// exportRows reads a table of the real server as JSONEachRow (HTTP).
func exportRows(t *testing.T, db, table string, limit int) string {
	t.Helper()
	q := fmt.Sprintf("SELECT * FROM %s.%s LIMIT %d FORMAT JSONEachRow", db, table, limit)
	resp, err := http.Post("http://127.0.0.1:8123/?"+url.Values{"query": {q}}.Encode(), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export %s: %s", table, b)
	}
	return string(b)
}

// modernClickHouse runs, on the ClickHouse 26.x engine of chdb: every DDL
// statement of the schema with the features of a modern server; the rows
// the product wrote to the real 18.16 server, copied with their column
// lists; every query the product's reader issued on 18.16; and every
// dashboard query, which must return data there too.
func modernClickHouse(t *testing.T, ctx context.Context, cfg config.Config, conn driver.Conn, dash []namedSQL) {
	ch := testenv.StartChdb(t)
	db := cfg.ClickHouse.Database
	ver, _ := chstore.ParseVersion("26.9.2.1")
	stmts := []string{"CREATE DATABASE IF NOT EXISTS " + db}
	for _, m := range chstore.Migrations {
		stmts = append(stmts, m.Statements(cfg.ClickHouse, chstore.FeaturesOf(ver))...)
	}
	ddl := len(stmts)
	for table, limit := range map[string]int{chstore.CallStateTable: 1 << 30, chstore.TicketStateTable: 1 << 30,
		chstore.ContribDaysTable: 1 << 30, chstore.DailyTable: 1 << 30, chstore.BacklogTable: 1 << 30, chstore.AgentStateTable: 1 << 30, chstore.RawCallTable: 5000, chstore.RawTicketTable: 5000, chstore.RawAgentTable: 5000} {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s.%s FORMAT JSONEachRow\n%s", db, table, exportRows(t, db, table, limit)))
	}
	copied := len(stmts)

	// The product's reads (the reader's and the settler's), recorded on 18.16.
	rec := &recordingConn{Conn: conn}
	r := chstore.NewReader(rec, db)
	var callID string
	if err := conn.QueryRow(ctx, "SELECT call_id FROM "+db+".call_state LIMIT 1").Scan(&callID); err != nil {
		t.Fatal(err)
	}
	_, err1 := r.ReadStored(ctx)
	_, err2 := r.TicketStates(ctx)
	_, _, err3 := r.PendingTickets(ctx, cfg.Kafka.Topics.Tickets, []int32{0, 1, 2})
	err4 := r.KnownIDs(ctx, false, cfg.Kafka.Topics.Calls, []int32{0, 1, 2}, func(int32, string, string) {})
	_, err5 := r.LoadEvents(ctx, []indicator.Ref{{CenterID: "c12345", ID: callID}, {Ticket: true, CenterID: "c12345", ID: "late1"}})
	// A first pass of a new settler reads every day's sums (and writes
	// them again on 18.16, the same sums).
	_, err6 := chstore.NewSettler(rec, db, quiet()).Settle(ctx)
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			t.Fatal(err)
		}
	}
	stmts = append(stmts, rec.queries...)
	reads := len(stmts)

	for _, q := range dash {
		stmts = append(stmts, q.sql)
	}
	res := ch.Run(t, stmts...)
	for i, r := range res {
		switch {
		case r.Error != "":
			t.Errorf("chdb (ClickHouse 26.9): %v\n%.600s", r.Error, stmts[i])
		case i >= reads && len(r.Data) == 0:
			t.Errorf("chdb (ClickHouse 26.9): %s returns no rows\n%.600s", dash[i-reads].where, stmts[i])
		}
	}
	t.Logf("chdb (ClickHouse 26.9): %d DDL statements, %d tables copied, %d product reads, %d dashboard queries",
		ddl, copied-ddl, reads-copied, len(stmts)-reads)
}

// namedSQL is a dashboard query as it ran, expanded.
type namedSQL struct{ where, sql string }

package chstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMigrateIsIdempotentOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Applied) != len(chstore.Migrations) || rep.Current != chstore.Migrations[len(chstore.Migrations)-1].Version || len(rep.Coarse) != 0 {
		t.Errorf("first run = %+v", rep)
	}
	t.Logf("server %s, features %+v", rep.Server, rep.Features)
	rep, err = chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil || len(rep.Applied) != 0 {
		t.Errorf("second run = %+v, %v", rep, err)
	}

	// A migration whose record was lost after its statements ran (a crash
	// in between) runs again: ADD COLUMN of a column that is there is done.
	last := chstore.Migrations[len(chstore.Migrations)-1].Version
	if err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.schema_migrations DELETE WHERE version = %d", cfg.Database, last)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var pending uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = ? AND is_done = 0", cfg.Database).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mutation not applied")
		}
	}
	rep, err = chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil || len(rep.Applied) != 1 || rep.Applied[0] != last {
		t.Errorf("re-run of migration %d = %+v, %v", last, rep, err)
	}
}

// A raw table created before RawGranularity (ClickHouse's default 8,192)
// is reported by migrate, and the rebuild docs/deploy.md gives (SHOW
// CREATE, the granularity changed, INSERT … SELECT, RENAME) keeps every
// row and clears the report.
func TestCoarseRawTableReportedAndRebuilt(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	var recs []event.Record
	for i := range 3000 {
		e, err := d.Decode([]byte(fmt.Sprintf(`{"event_id":"e%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"general"}`, i, i)))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "calls", Offset: int64(i)}})
	}
	if err := chstore.NewRawWriter(conn, cfg.Database).WriteRaw(ctx, recs); err != nil {
		t.Fatal(err)
	}
	table := cfg.Database + "." + chstore.RawCallTable
	rebuild := func(granularity int) {
		t.Helper()
		var create string
		if err := conn.QueryRow(ctx, "SHOW CREATE TABLE "+table).Scan(&create); err != nil {
			t.Fatal(err)
		}
		create = regexp.MustCompile(`index_granularity = \d+`).ReplaceAllString(create, fmt.Sprintf("index_granularity = %d", granularity))
		create = strings.Replace(create, table+" ", table+"_new ", 1)
		for _, q := range []string{create, "INSERT INTO " + table + "_new SELECT * FROM " + table,
			"RENAME TABLE " + table + " TO " + table + "_old, " + table + "_new TO " + table, "DROP TABLE " + table + "_old"} {
			if err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	rebuild(8192) // as created before RawGranularity
	rep, err := chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil || !slices.Equal(rep.Coarse, []string{chstore.RawCallTable}) {
		t.Fatalf("migrate over a table of 8,192 rows a granule: coarse %v, %v", rep.Coarse, err)
	}
	rebuild(chstore.RawGranularity)
	rep, err = chstore.Migrate(ctx, conn, cfg, quiet)
	if err != nil || len(rep.Coarse) != 0 {
		t.Fatalf("migrate after the rebuild: coarse %v, %v", rep.Coarse, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil || n != 3000 {
		t.Errorf("rows after two rebuilds: %d, %v", n, err)
	}
}

func TestRawWriterDeduplicatesReplays(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	msgs := []string{
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-09T09:00:00.250+08:00","center_id":"c1","call_id":"k1","queue":"general"}`,
		`{"event_id":"e2","type":"call.answered","ts":"2026-10-09T09:00:12+08:00","center_id":"c1","call_id":"k1","agent_id":"a7","attrs":{"x":1}}`,
		`{"event_id":"e3","type":"ticket.created","ts":"2026-10-09T09:03:00+08:00","center_id":"c1","ticket_id":"t1","category":"complaint","urgency":"normal","channel":"voice","call_id":"k1"}`,
		`{"event_id":"e4","type":"ticket.callback","ts":"2026-10-10T09:30:00+08:00","center_id":"c1","ticket_id":"t1","reached":true}`,
	}
	var recs []event.Record
	for i, m := range msgs {
		e, err := d.Decode([]byte(m))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "hotline.calls", Offset: int64(i)}})
	}
	w := chstore.NewRawWriter(conn, cfg.Database)
	for range 3 { // a replay writes the same events again
		if err := w.WriteRaw(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count("SELECT count() FROM " + cfg.Database + ".raw_call_events FINAL"); n != 2 {
		t.Errorf("call rows after FINAL = %d, want 2", n)
	}
	if n := count("SELECT count() FROM " + cfg.Database + ".raw_ticket_events FINAL"); n != 2 {
		t.Errorf("ticket rows after FINAL = %d, want 2", n)
	}
	var ms int64
	var resolved *uint8
	var reached *uint8
	if err := conn.QueryRow(ctx, "SELECT ts_ms FROM "+cfg.Database+".raw_call_events FINAL WHERE event_id = 'e1'").Scan(&ms); err != nil || ms != 1791507600250 {
		t.Errorf("ts_ms = %d, %v", ms, err)
	}
	if err := conn.QueryRow(ctx, "SELECT reached, resolved FROM "+cfg.Database+".raw_ticket_events FINAL WHERE event_id = 'e4'").Scan(&reached, &resolved); err != nil || reached == nil || *reached != 1 || resolved != nil {
		t.Errorf("reached, resolved = %v, %v, %v", reached, resolved, err)
	}
}

// Quality-inspection results (revision 1.2) are stored whole and read back
// as they were decoded, beside v1 events, so that a call or ticket loaded
// back from the store holds its evaluations.
func TestEvaluationsRoundTripOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	msgs := []string{
		`{"event_id":"e1","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"general"}`,
		`{"event_id":"q1","type":"call.evaluated","ts":"2026-10-12T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"voice-2026","score":86.5,"max_score":100,"passed":false,"agent_id":"a7","evaluator":"qa3"}`,
		`{"event_id":"q2","type":"call.evaluated","ts":"2026-10-13T10:00:00+08:00","center_id":"c1","call_id":"k1","evaluation_id":"v1","form":"voice-2026","score":0,"max_score":10,"auto_fail":true}`,
		`{"event_id":"w1","type":"ticket.evaluated","ts":"2026-10-12T11:00:00+08:00","center_id":"c1","ticket_id":"t1","evaluation_id":"u1","form":"ticket-2026","score":9,"max_score":10,"department_id":"housing"}`,
		`{"event_id":"e2","type":"ticket.callback","ts":"2026-10-10T09:30:00+08:00","center_id":"c1","ticket_id":"t1","reached":true,"resolved":false}`,
	}
	want := map[string]event.Event{}
	var recs []event.Record
	for i, m := range msgs {
		e, err := d.Decode([]byte(m))
		if err != nil {
			t.Fatal(err)
		}
		want[e.ID] = e
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "hotline.calls", Offset: int64(i)}})
	}
	if err := chstore.NewRawWriter(conn, cfg.Database).WriteRaw(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := chstore.NewReader(conn, cfg.Database).LoadEvents(ctx, []indicator.Ref{{CenterID: "c1", ID: "k1"}, {Ticket: true, CenterID: "c1", ID: "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("read back %d events, want %d", len(got), len(msgs))
	}
	type evaluation struct {
		typ                      event.Type
		id, form, evaluator, dep string
		agent                    string
		score, max               float64
		passed, autoFail         event.Tri
	}
	of := func(e event.Event) evaluation {
		return evaluation{e.Type, e.EvaluationID, e.Form, e.Evaluator, e.DepartmentID, e.AgentID, e.Score, e.MaxScore, e.Passed, e.AutoFail}
	}
	for _, r := range got {
		if w := want[r.ID]; of(r.Event) != of(w) {
			t.Errorf("%s read back as %+v, want %+v", r.ID, of(r.Event), of(w))
		}
	}
}

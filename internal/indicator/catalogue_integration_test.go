package indicator_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/httpserve"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/livestate"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// One declaration (and its counting function) is all an indicator needs:
// a made-up one, declared in a test, comes out of compute, the live
// stage's rows in the real ClickHouse, /metrics and the monthly export,
// with the same figures.
func TestAMadeUpIndicatorReachesEveryOutput(t *testing.T) {
	ind := indicator.DeclareLongTalk(t)
	lines := []string{
		`{"event_id":"a1","type":"call.queued","ts":"2026-11-02T10:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`,
		`{"event_id":"a2","type":"call.answered","ts":"2026-11-02T10:00:05+08:00","center_id":"c1","call_id":"k1","agent_id":"a"}`,
		`{"event_id":"a3","type":"call.ended","ts":"2026-11-02T10:06:05+08:00","center_id":"c1","call_id":"k1"}`,
		`{"event_id":"b1","type":"call.queued","ts":"2026-11-02T10:10:00+08:00","center_id":"c1","call_id":"k2","queue":"q"}`,
		`{"event_id":"b2","type":"call.answered","ts":"2026-11-02T10:10:05+08:00","center_id":"c1","call_id":"k2","agent_id":"a"}`,
		`{"event_id":"b3","type":"call.ended","ts":"2026-11-02T10:12:05+08:00","center_id":"c1","call_id":"k2"}`,
	}
	p := profile.Default()
	set := profile.Single(p)
	ctx := context.Background()

	// compute
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := compute.Run(ctx, compute.Options{Files: []string{file}, Profiles: set,
		Query: indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got *indicator.Result
	for i := range out.Results {
		if out.Results[i].Indicator == ind.ID {
			got = &out.Results[i]
		}
	}
	if got == nil || *got.Numerator != 1 || *got.Denominator != 2 || got.Value != 0.5 {
		t.Fatalf("compute: %s is %+v", ind.ID, got)
	}

	// the live stage into the real ClickHouse, with its metrics
	conn, cfg := testenv.ClickHouse(t)
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	cal, _ := p.NewCalendar()
	reader := chstore.NewReader(conn, cfg.Database)
	clock := func() time.Time { return time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC) }
	st := livestate.New(livestate.DefaultConfig(), indicator.Single(p, cal), reader,
		kafkaio.Topics{Calls: "calls", Tickets: "tickets", DeadLetter: "dlq"}, clock, quiet)
	reg := prometheus.NewRegistry()
	st.Instrument(livestate.NewMetrics(reg))
	if _, err := st.Assign(ctx, []kafkaio.Partition{{Topic: "calls"}, {Topic: "tickets"}}); err != nil {
		t.Fatal(err)
	}
	var recs []event.Record
	var d event.Decoder
	for _, l := range lines {
		e, err := d.Decode([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, event.Record{Event: e, Origin: event.Origin{Topic: "calls"}})
	}
	rows, _, err := st.Apply(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if err := chstore.NewStateWriter(conn, cfg).WriteStates(ctx, rows); err != nil {
		t.Fatal(err)
	}
	stored, err := reader.ReadStored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var num, den int64
	for _, c := range stored.Cells {
		if c.Indicator == ind.ID {
			num, den = num+c.Num, den+c.Den
		}
	}
	if num != 1 || den != 2 {
		t.Errorf("stored aggregates: %s %d/%d, want 1/2", ind.ID, num, den)
	}

	// /metrics
	srv := httptest.NewServer(httpserve.Mux(reg))
	defer srv.Close()
	var series []string
	for _, l := range strings.Split(testenv.Get(t, srv.URL+"/metrics"), "\n") {
		if strings.Contains(l, `indicator="`+ind.ID+`"`) {
			series = append(series, l)
		}
	}
	scrape := strings.Join(series, "\n")
	if testenv.SumMetric(scrape, "hotline_indicator_numerator_total") != 1 || testenv.SumMetric(scrape, "hotline_indicator_denominator_total") != 2 {
		t.Errorf("/metrics for %s:\n%s", ind.ID, scrape)
	}

	// the monthly export, from the store
	src, err := report.FromStore(ctx, reader, set, time.Time{}, "ClickHouse", false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := report.Export(src, set, "2026-11", "", []string{"csv"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, ind.ID+","+ind.Name+",") {
				row = filepath.Base(f) + ": " + l
			}
		}
	}
	if !strings.Contains(row, "-overall.csv: "+ind.ID+","+ind.Name+",1,2,0.5,") {
		t.Errorf("export: row of %s is %q", ind.Name, row)
	}
	t.Logf("export %s", row)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

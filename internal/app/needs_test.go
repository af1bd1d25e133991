package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// The live needs gauges: today's repeat calls by queue (a caller's call of
// yesterday makes today's a repeat; yesterday's own is not published), and
// today's hot spots only: a group of 5 tickets a day for 28 days and 40
// today (μ 5, score (40 − 5)/√5 = 15.65), beside one that stays at 5.
func TestNeedsWatchPublishesToday(t *testing.T) {
	p, err := profile.Load("example-topics")
	if err != nil {
		t.Fatal(err)
	}
	set := profile.Single(p)
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		t.Fatal(err)
	}
	loc := p.Location()
	day := func(d, h int) int64 { return time.Date(2026, 10, d, h, 0, 0, 0, loc).UnixMilli() }
	now := time.UnixMilli(day(30, 15))
	recent := &chstore.Recent{First: map[string]int64{"c1": day(1, 0)}}
	for _, k := range []struct {
		caller string
		at     int64
	}{{"h1", day(29, 9)}, {"h1", day(30, 9)}, {"h2", day(30, 10)}} {
		recent.Contacts = append(recent.Contacts, indicator.Contact{Center: "c1", Caller: k.caller, TS: k.at, Dims: []string{"c1", "general", "voice", "", ""}})
	}
	cell := func(d int, topic string, n int64) indicator.Cell {
		return indicator.Cell{Indicator: "tickets_by_topic", Bucket: day(d, 10), Entity: profile.Tickets, Num: n, N: n,
			Dims: indicator.StoredTicketDims("c1", "", "", "", "", topic, "东城区")}
	}
	for d := 2; d <= 29; d++ {
		recent.Cells = append(recent.Cells, cell(d, "010101", 5), cell(d, "020101", 5))
	}
	recent.Cells = append(recent.Cells, cell(30, "010102", 40), cell(30, "020101", 5))
	reg := prometheus.NewRegistry()
	w := newNeedsWatch(reg, set, ps, func(context.Context, int64) (*chstore.Recent, error) { return recent, nil },
		func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if err := w.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, c := gaugeOf(t, reg, "hotline_needs_repeat_calls_today"), gaugeOf(t, reg, "hotline_needs_calls_with_caller_today"); r != 1 || c != 2 {
		t.Errorf("repeat calls %v of %v, want 1 of 2", r, c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "hotline_hotspot_score" {
			continue
		}
		if len(mf.Metric) != 1 {
			t.Fatalf("hot spots %v, want 0101 only", mf.Metric)
		}
		l := map[string]string{}
		for _, lp := range mf.Metric[0].Label {
			l[lp.GetName()] = lp.GetValue()
		}
		if l["topic"] != "0101" || l["name"] != "城乡建设 / 供水" || l["level"] != "2" {
			t.Errorf("hot spot labels %v", l)
		}
		if s := mf.Metric[0].GetGauge().GetValue(); s < 15.6 || s > 15.7 {
			t.Errorf("score %v, want 15.65", s)
		}
		return
	}
	t.Error("no hot spot published")
}

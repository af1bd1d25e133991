package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// The live staffing gauges are the last complete interval's: the
// published Erlang C example (100 calls in 30 minutes, handle time 180 s:
// 14 agents at the default 15 s, 80 %) beside 12 agents staffed; the
// interval in progress is not published, nor an interval over an hour old.
func TestStaffingWatchPublishesTheLastCompleteInterval(t *testing.T) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	ps := indicator.Single(p, cal)
	at := func(h, m int) int64 { return time.Date(2026, 10, 12, h, m, 0, 0, p.Location()).UnixMilli() }
	calls := []string{"c1", "", "", "", ""}
	cells := []indicator.Cell{
		{Indicator: "calls_offered", Bucket: at(9, 0), Dims: calls, Entity: profile.Calls, Num: 60},
		{Indicator: "calls_offered", Bucket: at(9, 15), Dims: calls, Entity: profile.Calls, Num: 40},
		{Indicator: "aht_seconds", Bucket: at(9, 0), Dims: calls, Entity: profile.Calls, Num: 100 * 180_000, Den: 100},
		{Indicator: "agents_staffed", Bucket: at(9, 0), Dims: []string{"c1", "", ""}, Entity: profile.Agents, Num: 12 * 1800_000},
		{Indicator: "calls_offered", Bucket: at(9, 30), Dims: calls, Entity: profile.Calls, Num: 500}, // in progress
	}
	now := time.UnixMilli(at(9, 40))
	reg := prometheus.NewRegistry()
	w := newStaffingWatch(reg, ps, func(context.Context, time.Time, int64) ([]indicator.Cell, error) { return cells, nil },
		func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if err := w.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, s := gaugeOf(t, reg, "hotline_staffing_agents_required"), gaugeOf(t, reg, "hotline_staffing_agents_staffed"); r != 14 || s != 12 {
		t.Errorf("required %v, staffed %v; want 14, 12", r, s)
	}
	if o := gaugeOf(t, reg, "hotline_staffing_calls_offered"); o != 100 {
		t.Errorf("offered %v, want 100", o)
	}
	now = time.UnixMilli(at(12, 0))
	if err := w.pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := gaugeOf(t, reg, "hotline_staffing_agents_required"); n != -1 {
		t.Errorf("required %v published for an interval over an hour old", n)
	}
}

// gaugeOf returns the value of the one series of a gauge, -1 when none.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	return -1
}

package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/gaugeset"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// staffingWatch publishes the staffing of each centre's last complete
// staffing interval (revision 1.2): the agents Erlang C requires for the
// calls offered and their handle time, and the agents staffed. The figures
// of a centre span every instance's partitions, so they are read from the
// store, which holds them all; every instance publishes the same values
// (alerts take the max by centre).
type staffingWatch struct {
	cells    func(ctx context.Context, updated time.Time, from int64) ([]indicator.Cell, error)
	ps       *indicator.Profiles
	clock    func() time.Time
	log      *slog.Logger
	gauges   *gaugeset.Set
	required gaugeset.Family
	staffed  gaugeset.Family
	offered  gaugeset.Family
	start    gaugeset.Family
}

func newStaffingWatch(reg prometheus.Registerer, ps *indicator.Profiles, cells func(context.Context, time.Time, int64) ([]indicator.Cell, error),
	clock func() time.Time, log *slog.Logger) *staffingWatch {
	gs := gaugeset.New()
	w := &staffingWatch{cells: cells, ps: ps, clock: clock, log: log, gauges: gs,
		required: gs.Gauge("hotline_staffing_agents_required", "Agents Erlang C requires for the calls offered in the last complete staffing interval (应配坐席数).", "center"),
		staffed:  gs.Gauge("hotline_staffing_agents_staffed", "Mean agents ready, busy or in wrap-up in the last complete staffing interval (平均在岗坐席数).", "center"),
		offered:  gs.Gauge("hotline_staffing_calls_offered", "Calls offered in the last complete staffing interval.", "center"),
		start:    gs.Gauge("hotline_staffing_interval_start_timestamp_seconds", "Start of the last complete staffing interval.", "center")}
	gs.Register(reg)
	return w
}

// run publishes every interval until ctx ends.
func (w *staffingWatch) run(ctx context.Context, every time.Duration) {
	repeat(ctx, every, w.pass, w.log, "staffing")
}

// repeat runs pass now and every interval until ctx ends; a failed pass is
// logged and tried again at the next.
func repeat(ctx context.Context, every time.Duration, pass func(context.Context) error, log *slog.Logger, what string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what+" not read; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pass reads the intervals since yesterday and publishes each centre's
// last complete one.
func (w *staffingWatch) pass(ctx context.Context) error {
	now := w.clock().UnixMilli()
	from := now - 2*24*3600_000
	cells, err := w.cells(ctx, time.Now().Add(-48*time.Hour), from)
	if err != nil {
		return err
	}
	last := map[string]indicator.StaffingRow{}
	for _, r := range indicator.Restore(w.ps, cells, nil, now).Staffing() {
		if r.End <= now && r.Start >= last[r.CenterID].Start {
			last[r.CenterID] = r
		}
	}
	out := w.gauges.Pass()
	for c, r := range last {
		if r.End+int64(time.Hour/time.Millisecond) < now {
			continue // nothing in the last hour: no current figure
		}
		out.Set(w.required, float64(r.Required), c)
		out.Set(w.staffed, r.Staffed, c)
		out.Set(w.offered, float64(r.Offered), c)
		out.Set(w.start, float64(r.Start)/1000, c)
	}
	out.Publish()
	return nil
}

package app

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/gaugeset"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// needsWatch publishes today's citizen needs (revision 1.2): the repeat
// calls by queue and the topic groups that are hot spots today. A caller's
// calls are on every instance's partitions, and a hot spot counts a whole
// centre's requests, so both are derived from the store, by the one engine
// of compute (every instance publishes the same values; alerts take the
// max by centre).
type needsWatch struct {
	read     func(ctx context.Context, from int64) (*chstore.Recent, error)
	set      *profile.Set
	ps       *indicator.Profiles
	clock    func() time.Time
	log      *slog.Logger
	gauges   *gaugeset.Set
	repeat   gaugeset.Family
	contacts gaugeset.Family
	score    gaugeset.Family
	count    gaugeset.Family
	baseline gaugeset.Family
}

func newNeedsWatch(reg prometheus.Registerer, set *profile.Set, ps *indicator.Profiles,
	read func(context.Context, int64) (*chstore.Recent, error), clock func() time.Time, log *slog.Logger) *needsWatch {
	gs := gaugeset.New()
	hot := []string{"center", "level", "topic", "name"}
	w := &needsWatch{read: read, set: set, ps: ps, clock: clock, log: log, gauges: gs,
		repeat:   gs.Gauge("hotline_needs_repeat_calls_today", "Today's calls whose caller called before within repeat_call.window (重复来电).", "center", "queue"),
		contacts: gs.Gauge("hotline_needs_calls_with_caller_today", "Today's calls with a caller (the repeat-call rate's denominator).", "center", "queue"),
		score:    gs.Gauge("hotline_hotspot_score", "Score (c − μ) ÷ √max(μ, 1) of a topic group that is a hot spot today (热点诉求); absent otherwise.", hot...),
		count:    gs.Gauge("hotline_hotspot_tickets_today", "Tickets created today in a topic group that is a hot spot today.", hot...),
		baseline: gs.Gauge("hotline_hotspot_baseline", "Mean daily tickets of a hot-spot topic group over its baseline days.", hot...)}
	gs.Register(reg)
	return w
}

// run publishes every interval until ctx ends.
func (w *needsWatch) run(ctx context.Context, every time.Duration) {
	repeat(ctx, every, w.pass, w.log, "citizen needs")
}

// lookBack is how far back a pass reads: the longest repeat_call.window or
// hot-spot baseline of the profiles, and the day before.
func (w *needsWatch) lookBack() time.Duration {
	d := time.Duration(0)
	for _, p := range w.set.Profiles() {
		d = max(d, time.Duration(p.RepeatCall.Window), time.Duration(p.Hotspot.BaselineDays)*24*time.Hour)
	}
	return d + 48*time.Hour
}

func (w *needsWatch) pass(ctx context.Context) error {
	now := w.clock()
	recent, err := w.read(ctx, now.Add(-w.lookBack()).UnixMilli())
	if err != nil {
		return err
	}
	eng := indicator.Restore(w.ps, recent.Cells, nil, now.UnixMilli()).WithContacts(recent.Contacts)
	today := func(center string) string { return now.In(w.set.For(center).Location()).Format(time.DateOnly) }
	out := w.gauges.Pass()
	for _, r := range eng.Results(indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id", "queue"}}) {
		c := r.Dims["center_id"]
		if r.Indicator != "repeat_call_rate" || r.WindowStart[:10] != today(c) {
			continue
		}
		out.Set(w.repeat, *r.Numerator, c, r.Dims["queue"])
		out.Set(w.contacts, *r.Denominator, c, r.Dims["queue"])
	}
	hq := compute.HotspotQuery{}
	q, err := hq.Query(w.set)
	if err != nil {
		return err
	}
	rows, err := compute.HotspotsOf(w.set, eng.Results(q), hq, recent.First)
	if err != nil {
		return err
	}
	for _, h := range rows {
		if h.Day != today(h.CenterID) {
			continue
		}
		l := []string{h.CenterID, strconv.Itoa(h.Level), h.Topic, h.Name}
		out.Set(w.score, h.Score, l...)
		out.Set(w.count, float64(h.Count), l...)
		out.Set(w.baseline, h.Baseline, l...)
	}
	out.Publish()
	return nil
}

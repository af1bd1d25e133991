package app

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
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
	repeat   *prometheus.GaugeVec
	contacts *prometheus.GaugeVec
	score    *prometheus.GaugeVec
	count    *prometheus.GaugeVec
	baseline *prometheus.GaugeVec
}

func newNeedsWatch(reg prometheus.Registerer, set *profile.Set, ps *indicator.Profiles,
	read func(context.Context, int64) (*chstore.Recent, error), clock func() time.Time, log *slog.Logger) *needsWatch {
	f := promauto.With(reg)
	g := func(sub, name, help string, labels ...string) *prometheus.GaugeVec {
		return f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: sub, Name: name, Help: help}, labels)
	}
	hot := []string{"center", "level", "topic", "name"}
	return &needsWatch{read: read, set: set, ps: ps, clock: clock, log: log,
		repeat:   g("needs", "repeat_calls_today", "Today's calls whose caller called before within repeat_call.window (重复来电).", "center", "queue"),
		contacts: g("needs", "calls_with_caller_today", "Today's calls with a caller (the repeat-call rate's denominator).", "center", "queue"),
		score:    g("hotspot", "score", "Score (c − μ) ÷ √max(μ, 1) of a topic group that is a hot spot today (热点诉求); absent otherwise.", hot...),
		count:    g("hotspot", "tickets_today", "Tickets created today in a topic group that is a hot spot today.", hot...),
		baseline: g("hotspot", "baseline", "Mean daily tickets of a hot-spot topic group over its baseline days.", hot...)}
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
	w.repeat.Reset()
	w.contacts.Reset()
	for _, r := range eng.Results(indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id", "queue"}}) {
		c := r.Dims["center_id"]
		if r.Indicator != "repeat_call_rate" || r.WindowStart[:10] != today(c) {
			continue
		}
		w.repeat.WithLabelValues(c, r.Dims["queue"]).Set(*r.Numerator)
		w.contacts.WithLabelValues(c, r.Dims["queue"]).Set(*r.Denominator)
	}
	w.score.Reset()
	w.count.Reset()
	w.baseline.Reset()
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
		w.score.WithLabelValues(l...).Set(h.Score)
		w.count.WithLabelValues(l...).Set(float64(h.Count))
		w.baseline.WithLabelValues(l...).Set(h.Baseline)
	}
	return nil
}

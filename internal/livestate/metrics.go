package livestate

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/hotlineqc/hotlineqc/internal/gaugeset"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Metrics are the live indicator metrics: counters of every indicator's
// numerator and denominator, so that any rate over any range is a PromQL
// division; histograms of wait and handle times; gauges of open tickets.
// Label values are bounded: centres, queues, departments, categories,
// indicator ids; never agents, calls, tickets or phone numbers.
//
// They are live figures for dashboards and alerts. The exact figures are
// in ClickHouse: a counter cannot go down, so a contribution taken back (a
// late event changing an earlier decision) is counted in
// hotline_indicator_retracted_total instead.
type Metrics struct {
	num, den     *prometheus.CounterVec
	retracted    *prometheus.CounterVec
	wait, handle *prometheus.HistogramVec
	loaded       prometheus.Counter
	held         *prometheus.GaugeVec

	// gauges are replaced whole at every count: the ticket gauges, the
	// records-audit defects and the agents signed in.
	gauges                                    *gaugeset.Set
	open, overdue, dueSoon, awaiting, defects gaugeset.Family
	agents                                    gaugeset.Family

	// net is publish's scratch: the engine's net changes by labels.
	net map[labels]netChange
}

// netChange is the net change of one series since the last publish.
type netChange struct {
	num, den int64
	unit     profile.Unit
}

var indicatorLabels = []string{"indicator", "center", "queue", "department", "category"}

// NewMetrics registers the indicator metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	durations := []float64{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200}
	gs := gaugeset.New()
	m := &Metrics{
		num: f.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "indicator", Name: "numerator_total",
			Help: "Numerator of each indicator (counts; seconds for *_seconds; working days for avg_resolve_workdays), by centre, queue, department, category."}, indicatorLabels),
		den: f.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "indicator", Name: "denominator_total",
			Help: "Denominator of each rate or mean indicator, by centre, queue, department, category."}, indicatorLabels),
		retracted: f.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "indicator", Name: "retracted_total",
			Help: "Numerator or denominator amounts taken back by later events (the counters do not go down)."}, []string{"indicator", "part"}),
		wait: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "hotline", Subsystem: "call", Name: "wait_seconds",
			Help: "Wait of offered calls until answer or abandon.", Buckets: durations}, []string{"center", "queue"}),
		handle: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "hotline", Subsystem: "call", Name: "handle_seconds",
			Help: "Handle time (talk, hold, wrap-up) of answered calls.", Buckets: prometheus.ExponentialBuckets(30, 1.6, 12)}, []string{"center", "queue"}),
		open:     gs.Gauge("hotline_tickets_open", "Dispatched tickets not yet replied, by the department holding them.", "center", "department"),
		overdue:  gs.Gauge("hotline_tickets_overdue", "Open tickets past their resolve deadline (超期未办结).", "center", "department"),
		dueSoon:  gs.Gauge("hotline_tickets_due_soon", "Open tickets whose resolve deadline is within the given time (预警).", "center", "department", "within"),
		awaiting: gs.Gauge("hotline_tickets_awaiting_dispatch", "Tickets registered but neither dispatched, answered on intake nor closed (派单积压).", "center"),
		loaded: f.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "state", Name: "entities_loaded_total",
			Help: "Calls and tickets not in memory read back from the store because an event came for them."}),
		defects: gs.Gauge("hotline_records_defects",
			"Calls and tickets in the live state whose history is incomplete or inconsistent, by records-audit class (assessment.md).", "center", "class"),
		agents: gs.Gauge("hotline_agents",
			"Agents signed in now, by team (班组 or 外包单位), state (ready, busy, wrapup, not_ready) and, for not_ready (示忙), reason.",
			"center", "team", "state", "reason"),
		held: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "state", Name: "held",
			Help: "Calls, tickets and agents the state stage holds in memory (idle ones are forgotten once stored), by kind."}, []string{"kind"}),
		net:    map[labels]netChange{},
		gauges: gs,
	}
	gs.Register(reg)
	return m
}

// setHeld sets how many calls, tickets and agents the engine holds.
func (m *Metrics) setHeld(eng *indicator.Engine) {
	calls, tickets := eng.Size()
	m.held.WithLabelValues("call").Set(float64(calls))
	m.held.WithLabelValues("ticket").Set(float64(tickets))
	m.held.WithLabelValues("agent").Set(float64(eng.Agents()))
}

// labels are a delta's metric labels: indicator, center, queue,
// department, category.
type labels [5]string

func labelsOf(d indicator.Delta) labels {
	l := labels{d.Indicator, d.Dims[0]}
	switch d.Entity {
	case profile.Tickets:
		l[3], l[4] = d.Dims[1], d.Dims[2]
	case profile.Calls:
		l[2] = d.Dims[1]
	} // agents: by centre only (an agent is never a label)
	return l
}

// Sample observes a call's wait or handle time, once, when it gets it.
func (m *Metrics) Sample(ind string, dims []string, ms int64) {
	switch ind {
	case "avg_queue_seconds":
		m.wait.WithLabelValues(dims[0], dims[1]).Observe(profile.Seconds.Scale(ms))
	case "aht_seconds":
		m.handle.WithLabelValues(dims[0], dims[1]).Observe(profile.Seconds.Scale(ms))
	}
}

// publish adds the engine's net changes since the last publish to the
// counters, netted over the metric labels (an answered call moves from
// agent "" to its agent, which the metrics do not label, so nothing moves).
func (m *Metrics) publish(eng *indicator.Engine) {
	eng.TakeNet(func(d indicator.Delta) {
		l := labelsOf(d)
		v := m.net[l]
		v.num, v.den, v.unit = v.num+d.Num, v.den+d.Den, d.Unit
		m.net[l] = v
	})
	for l, v := range m.net {
		// A rate's numerator series exists from its first denominator, so
		// that a rate with no success yet reads 0, not nothing.
		num := m.num.WithLabelValues(l[:]...)
		// The numerator in the indicator's unit (seconds, working days);
		// the denominator is a count.
		for i, amt := range [2]float64{v.unit.Scale(v.num), float64(v.den)} {
			part := [2]string{"numerator", "denominator"}[i]
			switch {
			case amt > 0 && i == 0:
				num.Add(amt)
			case amt > 0:
				m.den.WithLabelValues(l[:]...).Add(amt)
			case amt < 0:
				m.retracted.WithLabelValues(l[0], part).Add(-amt)
			}
		}
	}
	clear(m.net)
}

// setGauges replaces the ticket gauges, the records-audit defects and the
// agents signed in, in one pass.
func (m *Metrics) setGauges(gs []indicator.TicketGauge, eng *indicator.Engine) {
	out := m.gauges.Pass()
	for _, g := range gs { // the partitions' counts summed
		out.Add(m.awaiting, float64(g.AwaitingDispatch), g.CenterID)
		if g.Open == 0 {
			continue
		}
		out.Add(m.open, float64(g.Open), g.CenterID, g.Department)
		out.Add(m.overdue, float64(g.Overdue), g.CenterID, g.Department)
		out.Add(m.dueSoon, float64(g.Due4h), g.CenterID, g.Department, "4h")
		out.Add(m.dueSoon, float64(g.Due24h), g.CenterID, g.Department, "24h")
	}
	eng.DefectCounts(func(center string, d indicator.Defect, n int) {
		out.Set(m.defects, float64(n), center, d.String())
	})
	for _, g := range eng.AgentGauges() {
		out.Add(m.agents, float64(g.Agents), g.CenterID, g.Team, g.State, g.Reason)
	}
	out.Publish()
}

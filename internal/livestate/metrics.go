package livestate

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

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
	open         *prometheus.GaugeVec
	overdue      *prometheus.GaugeVec
	dueSoon      *prometheus.GaugeVec
	awaiting     *prometheus.GaugeVec
	loaded       prometheus.Counter
	defects      *prometheus.GaugeVec
	agents       *prometheus.GaugeVec
	held         *prometheus.GaugeVec

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
	return &Metrics{
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
		open: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "tickets", Name: "open",
			Help: "Dispatched tickets not yet replied, by the department holding them."}, []string{"center", "department"}),
		overdue: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "tickets", Name: "overdue",
			Help: "Open tickets past their resolve deadline (超期未办结)."}, []string{"center", "department"}),
		dueSoon: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "tickets", Name: "due_soon",
			Help: "Open tickets whose resolve deadline is within the given time (预警)."}, []string{"center", "department", "within"}),
		awaiting: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "tickets", Name: "awaiting_dispatch",
			Help: "Tickets registered but neither dispatched, answered on intake nor closed (派单积压)."}, []string{"center"}),
		loaded: f.NewCounter(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "state", Name: "entities_loaded_total",
			Help: "Calls and tickets not in memory read back from the store because an event came for them."}),
		defects: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "records", Name: "defects",
			Help: "Calls and tickets in the live state whose history is incomplete or inconsistent, by records-audit class (assessment.md)."}, []string{"center", "class"}),
		agents: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Name: "agents",
			Help: "Agents signed in now, by team (班组 or 外包单位), state (ready, busy, wrapup, not_ready) and, for not_ready (示忙), reason."},
			[]string{"center", "team", "state", "reason"}),
		held: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "hotline", Subsystem: "state", Name: "held",
			Help: "Calls, tickets and agents the state stage holds in memory (idle ones are forgotten once stored), by kind."}, []string{"kind"}),
		net: map[labels]netChange{},
	}
}

// setHeld sets how many calls, tickets and agents the engine holds.
func (m *Metrics) setHeld(eng *indicator.Engine) {
	calls, tickets := eng.Size()
	m.held.WithLabelValues("call").Set(float64(calls))
	m.held.WithLabelValues("ticket").Set(float64(tickets))
	m.held.WithLabelValues("agent").Set(float64(eng.Agents()))
}

// setAgents replaces the gauges of the agents signed in.
func (m *Metrics) setAgents(gs []indicator.AgentGauge) {
	m.agents.Reset()
	for _, g := range gs {
		m.agents.WithLabelValues(g.CenterID, g.Team, g.State, g.Reason).Add(float64(g.Agents))
	}
}

// setDefects sets the records-audit gauges from the engine's counts.
func (m *Metrics) setDefects(eng *indicator.Engine) {
	m.defects.Reset()
	eng.DefectCounts(func(center string, d indicator.Defect, n int) {
		m.defects.WithLabelValues(center, d.String()).Set(float64(n))
	})
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

// setGauges replaces the ticket gauges.
func (m *Metrics) setGauges(gs []indicator.TicketGauge) {
	m.open.Reset()
	m.overdue.Reset()
	m.dueSoon.Reset()
	m.awaiting.Reset()
	awaiting := map[string]int{}
	type key struct{ c, d string }
	by := map[key]*indicator.TicketGauge{} // the partitions' counts summed
	for _, g := range gs {
		awaiting[g.CenterID] += g.AwaitingDispatch
		if g.Open == 0 {
			continue
		}
		s := by[key{g.CenterID, g.Department}]
		if s == nil {
			s = &indicator.TicketGauge{}
			by[key{g.CenterID, g.Department}] = s
		}
		s.Open, s.Overdue, s.Due4h, s.Due24h = s.Open+g.Open, s.Overdue+g.Overdue, s.Due4h+g.Due4h, s.Due24h+g.Due24h
	}
	for k, g := range by {
		m.open.WithLabelValues(k.c, k.d).Set(float64(g.Open))
		m.overdue.WithLabelValues(k.c, k.d).Set(float64(g.Overdue))
		m.dueSoon.WithLabelValues(k.c, k.d, "4h").Set(float64(g.Due4h))
		m.dueSoon.WithLabelValues(k.c, k.d, "24h").Set(float64(g.Due24h))
	}
	for c, n := range awaiting {
		m.awaiting.WithLabelValues(c).Set(float64(n))
	}
}

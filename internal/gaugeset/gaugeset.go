// Package gaugeset holds gauge families whose series are replaced whole,
// pass by pass: the open tickets by department, the agents signed in, the
// staffing and citizen-needs figures read from the store. A scrape sees
// one pass's series or the next one's, never a set half rebuilt.
//
// Resetting a GaugeVec and setting it again leaves a moment with no series
// at all: a scrape that lands there ends every series in Prometheus (a
// staleness marker), so a panel shows a gap and an alert's "for" starts
// again. A pass here is built aside and published in one swap.
package gaugeset

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Set is a prometheus.Collector of gauge families published together.
// Declare its families with Gauge, then register it.
type Set struct {
	descs []*prometheus.Desc
	mu    sync.RWMutex
	cur   []prometheus.Metric
}

// Family is one gauge family of a Set.
type Family struct {
	i      int
	labels int
}

// New returns a Set that has no family yet.
func New() *Set { return &Set{} }

// Gauge declares a family by its full name; every pass gives its series
// their labels in this order.
func (s *Set) Gauge(name, help string, labels ...string) Family {
	s.descs = append(s.descs, prometheus.NewDesc(name, help, labels, nil))
	return Family{i: len(s.descs) - 1, labels: len(labels)}
}

// Register registers the set with reg (nil: not registered).
func (s *Set) Register(reg prometheus.Registerer) *Set {
	if reg != nil {
		reg.MustRegister(s)
	}
	return s
}

// Describe sends the families' descriptions.
func (s *Set) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range s.descs {
		ch <- d
	}
}

// Collect sends the series of the last published pass.
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	for _, m := range cur {
		ch <- m
	}
}

// Pass builds the next series of every family of s; nothing shows until
// Publish.
type Pass struct {
	s     *Set
	index map[string]int
	vals  []value
}

type value struct {
	f      Family
	labels []string
	v      float64
}

// Pass starts the next pass.
func (s *Set) Pass() *Pass { return &Pass{s: s, index: map[string]int{}} }

// Set sets a series of f.
func (p *Pass) Set(f Family, v float64, labels ...string) { *p.at(f, labels) = v }

// Add adds to a series of f (0 at the start of the pass).
func (p *Pass) Add(f Family, v float64, labels ...string) { *p.at(f, labels) += v }

func (p *Pass) at(f Family, labels []string) *float64 {
	if len(labels) != f.labels {
		panic("gaugeset: " + p.s.descs[f.i].String() + ": wrong number of label values")
	}
	var k strings.Builder
	k.WriteString(strconv.Itoa(f.i))
	for _, l := range labels {
		k.WriteByte(0xff)
		k.WriteString(l)
	}
	i, ok := p.index[k.String()]
	if !ok {
		i = len(p.vals)
		p.index[k.String()] = i
		p.vals = append(p.vals, value{f: f, labels: slices.Clone(labels)})
	}
	return &p.vals[i].v
}

// Publish replaces every family's series by the pass's: a series the pass
// did not give is gone from the next scrape.
func (p *Pass) Publish() {
	ms := make([]prometheus.Metric, len(p.vals))
	for i, v := range p.vals {
		ms[i] = prometheus.MustNewConstMetric(p.s.descs[v.f.i], prometheus.GaugeValue, v.v, v.labels...)
	}
	p.s.mu.Lock()
	p.s.cur = ms
	p.s.mu.Unlock()
}

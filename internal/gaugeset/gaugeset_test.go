package gaugeset_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hotlineqc/hotlineqc/internal/gaugeset"
)

func newSet(reg prometheus.Registerer) (*gaugeset.Set, gaugeset.Family, gaugeset.Family) {
	s := gaugeset.New()
	open := s.Gauge("t_open", "Open.", "center", "department")
	late := s.Gauge("t_late", "Late.", "center")
	return s.Register(reg), open, late
}

// A pass replaces every series: what it sets and adds shows, what it
// leaves out is gone, and nothing shows before Publish.
func TestPassReplacesTheSeries(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s, open, late := newSet(reg)
	p := s.Pass()
	p.Add(open, 2, "c1", "water")
	p.Add(open, 3, "c1", "water") // two partitions' counts summed
	p.Set(open, 1, "c1", "housing")
	p.Set(late, 4, "c1")
	if n := testutil.CollectAndCount(s); n != 0 {
		t.Fatalf("%d series before Publish, want 0", n)
	}
	p.Publish()
	want := `
# HELP t_late Late.
# TYPE t_late gauge
t_late{center="c1"} 4
# HELP t_open Open.
# TYPE t_open gauge
t_open{center="c1",department="housing"} 1
t_open{center="c1",department="water"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	p = s.Pass()
	p.Set(open, 0, "c1", "water")
	p.Publish()
	want = `
# HELP t_open Open.
# TYPE t_open gauge
t_open{center="c1",department="water"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// The labels a pass is given are its own: a caller may reuse its slice.
func TestPassKeepsItsLabels(t *testing.T) {
	s, open, _ := newSet(nil)
	p := s.Pass()
	l := []string{"c1", "water"}
	p.Set(open, 1, l...)
	l[1] = "housing"
	p.Set(open, 2, l...)
	p.Publish()
	if n := testutil.CollectAndCount(s, "t_open"); n != 2 {
		t.Fatalf("%d series, want 2", n)
	}
}

// A scrape during a stream of passes always sees a whole pass: the very
// failure of Reset-then-Set on a GaugeVec, which a scrape between the two
// sees empty.
func TestScrapesSeeWholePasses(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, open, late := newSet(reg)
	publish := func(v float64) {
		p := s.Pass()
		for _, d := range []string{"a", "b", "c", "d"} {
			p.Set(open, v, "c1", d)
		}
		p.Set(late, v, "c1")
		p.Publish()
	}
	publish(0)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := 1.0; !stop.Load(); v++ {
			publish(v)
		}
	})
	for range 2000 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[float64]int{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				seen[m.GetGauge().GetValue()]++
			}
		}
		if len(seen) != 1 {
			t.Fatalf("a scrape saw the series of several passes or none: %v", seen)
		}
		for _, n := range seen {
			if n != 5 {
				t.Fatalf("a scrape saw %d series, want 5", n)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}

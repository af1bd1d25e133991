package app_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Three instances share six partitions per topic; mid-stream one is killed
// with SIGKILL and another one joins (two rebalances). Afterwards the
// stored aggregates equal compute, every state row knows every stored event
// of its call or ticket, the ticket gauges summed over the instances equal
// the truth, no two instances report lag for the same partition, and no
// committed offset ever moved backwards.
func TestScaleOutThreeInstancesKillAndAdd(t *testing.T) {
	cfg := streamConfigN(t, 6)
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Pipeline.BatchSize = 500 // many commits: the rebalances land mid-stream
	sc := newStreamScenario(t, 96*time.Hour, 17)
	path := writeConfig(t, cfg)
	watch := watchCommits(t, cfg)

	a, b, c := startRun(t, path, freePort(t)), startRun(t, path, freePort(t)), startRun(t, path, freePort(t))
	waitCounter(t, 2*time.Minute, "hotline_kafka_partitions_assigned", 11, a, b, c) // all three own their share
	// Half of the traffic now, half once d has joined, so that d has
	// messages to consume however fast b and c are.
	first, second := sc.halves()
	produceScenario(t, cfg, first)
	total := float64(len(sc.calls) + len(sc.tickets) + len(sc.agents))
	waitCounter(t, 2*time.Minute, "hotline_pipeline_messages_consumed_total", total/4, a, b, c)
	a.signal(t, syscall.SIGKILL)
	_ = a.wait(t, 10*time.Second)
	d := startRun(t, path, freePort(t))
	waitCounter(t, time.Minute, "hotline_kafka_partitions_assigned", 0, d) // d took partitions over
	atJoin := b.counter("hotline_pipeline_messages_consumed_total") + c.counter("hotline_pipeline_messages_consumed_total")
	produceScenario(t, cfg, second)
	untilCommitted(t, cfg, 6*time.Minute, b, c, d)
	t.Logf("%v messages; b and c had consumed %v when d joined; d consumed %v", total, atJoin, d.counter("hotline_pipeline_messages_consumed_total"))
	if d.counter("hotline_pipeline_messages_consumed_total") <= 0 {
		t.Error("the added instance consumed nothing: the test proves little")
	}
	survivors := []*proc{b, c, d}

	assertNoLagOverlap(t, survivors)
	assertTicketGauges(t, survivors, sc)
	for _, p := range survivors {
		p.signal(t, syscall.SIGTERM)
		if err := p.wait(t, 30*time.Second); err != nil {
			t.Fatalf("exit: %v\n%s", err, p.log)
		}
	}
	if moved := watch(); len(moved) > 0 {
		t.Errorf("committed offsets moved backwards: %v", moved)
	}
	assertNoDoubles(t, cfg)
	assertStreamEqualsCompute(t, cfg, withAsOfFromStore(t, cfg, sc))
}

// waitCounter waits until the metric summed over procs exceeds above.
func waitCounter(t *testing.T, limit time.Duration, name string, above float64, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var sum float64
		for _, p := range procs {
			if v := p.counter(name); v > 0 {
				sum += v
			}
		}
		if sum > above {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, not above %v after %s", name, sum, above, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchCommits polls the group's committed offsets until the returned
// function is called; that function returns every partition whose
// committed offset was seen to decrease.
func watchCommits(t *testing.T, cfg config.Config) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var moved []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := map[topicPartition]int64{}
		for ctx.Err() == nil {
			if _, got, err := offsets(ctx, cfg.Kafka); err == nil {
				for k, v := range got {
					if v >= 0 && v < last[k] {
						mu.Lock()
						moved = append(moved, fmt.Sprintf("%s/%d %d→%d", k.topic, k.partition, last[k], v))
						mu.Unlock()
					}
					last[k] = max(last[k], v)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(cancel)
	return func() []string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return moved
	}
}

// series reads every series of a metric from a process, by its labels.
func (p *proc) series(t *testing.T, name string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	re := regexp.MustCompile(`(?m)^` + name + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out
}

func assertNoLagOverlap(t *testing.T, procs []*proc) {
	t.Helper()
	owner := map[string]int{}
	for i, p := range procs {
		for labels := range p.series(t, "hotline_kafka_consumer_lag_messages") {
			if j, ok := owner[labels]; ok {
				t.Errorf("instances %d and %d both report lag for %s", j, i, labels)
			}
			owner[labels] = i
		}
	}
	if len(owner) == 0 {
		t.Error("no instance reports lag at all")
	}
	t.Logf("lag series per partition, owners: %v", owner)
}

// assertTicketGauges compares the ticket gauges summed over the instances
// with those of one engine fed every event, at the instances' clock,
// until they agree (the gauges are counted every few seconds) or 20 s pass.
func assertTicketGauges(t *testing.T, procs []*proc, sc streamScenario) {
	t.Helper()
	p := profile.Default()
	cal, _ := p.NewCalendar()
	eng := indicator.New(indicator.Single(p, cal))
	now := time.Now()
	if _, err := compute.Feed(context.Background(), eng, []string{sc.file}, 0, now, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, g := range eng.TicketGauges(now.UnixMilli()) {
		if g.Open > 0 {
			want[fmt.Sprintf("open %s %s", g.CenterID, g.Department)] += float64(g.Open)
			want[fmt.Sprintf("overdue %s %s", g.CenterID, g.Department)] += float64(g.Overdue)
		}
		want["awaiting "+g.CenterID] += float64(g.AwaitingDispatch)
	}
	labelRe := regexp.MustCompile(`center="([^"]*)"(?:,department="([^"]*)")?`)
	got := sumGauges(t, procs, labelRe)
	for deadline := time.Now().Add(20 * time.Second); !gaugesEqual(want, got) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		got = sumGauges(t, procs, labelRe)
	}
	keys := slices.Sorted(maps.Keys(want))
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: instances sum to %v, truth %v", k, got[k], want[k])
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s: instances report %v, truth has none", k, v)
		}
	}
	t.Logf("ticket gauges: %d series equal the truth", len(keys))
}

// gaugesEqual reports whether got has want's values and nothing else
// but zeros.
func gaugesEqual(want, got map[string]float64) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			return false
		}
	}
	return true
}

// sumGauges sums the ticket gauges of the instances by kind, centre and
// department.
func sumGauges(t *testing.T, procs []*proc, labelRe *regexp.Regexp) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, pr := range procs {
		for _, m := range []struct{ metric, key string }{{"hotline_tickets_open", "open"}, {"hotline_tickets_overdue", "overdue"},
			{"hotline_tickets_awaiting_dispatch", "awaiting"}} {
			for labels, v := range pr.series(t, m.metric) {
				l := labelRe.FindStringSubmatch(labels)
				key := m.key + " " + l[1]
				if m.key != "awaiting" {
					key += " " + l[2]
				}
				got[key] += v
			}
		}
	}
	return got
}

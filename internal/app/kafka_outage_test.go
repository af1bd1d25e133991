package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// brokerRestarts is how many times TestKafkaBrokerOutages kills the broker
// for 20 s; one more outage lasts 3 minutes.
const brokerRestarts = 4

// Two `hotlineqc run` processes share six partitions per topic of a
// private broker. The broker is SIGKILLed mid-stream and started again 20 s
// later, brokerRestarts times, then stopped for 3 minutes. During every
// outage both processes keep running and serving /metrics
// (hotline_kafka_connected 0) with /healthz not ready; during the long one
// the real Prometheus, scraping both with the generated rules, fires
// HotlineKafkaUnreachable for each. After every restart both reconnect by
// themselves, and at the end they have committed everything, each logged
// every outage once (lost, back), their dead letters are all there, and
// the stored aggregates equal compute on the same events.
func TestKafkaBrokerOutages(t *testing.T) {
	prometheus := testenv.Tool(t, "prometheus")
	broker := testenv.StartLocalKafka(t)
	cfg := streamConfigOn(t, broker.Addr, 6)
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Pipeline.BatchSize = 500 // many commits: the outages land between them
	cfg.Pipeline.RetryMax = 2 * time.Second
	sc := newStreamScenario(t, 96*time.Hour, 29)
	path := writeConfig(t, cfg)
	ports := []int{freePort(t), freePort(t)}
	a, b := startRun(t, path, ports[0]), startRun(t, path, ports[1])
	procs := []*proc{a, b}
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	rules, _ := filepath.Abs("../../deploy/prometheus/gbt33358-2016.rules.yml")
	startPrometheus(t, prometheus, promAddr, fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d", ports[0], ports[1]),
		fmt.Sprintf("rule_files: [%q]\n", rules))
	waitCounter(t, 2*time.Minute, "hotline_kafka_partitions_assigned", 11, a, b)

	parts := brokerRestarts + 2 // one part before each outage, the last after
	produced := 0
	producePart := func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		calls, tickets, agents := share(sc.calls, i, parts), share(sc.tickets, i, parts), share(sc.agents, i, parts)
		produce(ctx, t, broker.Addr, cfg.Kafka.Topics.Calls, calls)
		produce(ctx, t, broker.Addr, cfg.Kafka.Topics.Tickets, tickets)
		produce(ctx, t, broker.Addr, cfg.Kafka.Topics.Agents, agents)
		produced += len(calls) + len(tickets) + len(agents)
	}
	for i := range brokerRestarts + 1 {
		long := i == brokerRestarts
		before := consumed(a) + consumed(b)
		producePart(i)
		waitCounter(t, time.Minute, "hotline_pipeline_messages_consumed_total", before, a, b) // mid-stream
		atKill := consumed(a) + consumed(b)
		broker.Kill()
		killed := time.Now()
		t.Logf("outage %d: broker killed with %.0f of %d produced messages consumed", i+1, atKill, produced)
		seen := map[*proc]time.Time{}
		for _, p := range procs {
			untilDisconnected(t, p, 30*time.Second)
			seen[p] = time.Now()
		}
		if long {
			for _, p := range procs {
				t.Logf("alert: %s", waitFiring(t, promAddr, "HotlineKafkaUnreachable", p.addr(), killed.Add(3*time.Minute)))
			}
		}
		outage := 20 * time.Second
		if long {
			outage = 3 * time.Minute
		}
		time.Sleep(time.Until(killed.Add(outage)))
		for _, p := range procs {
			alive(t, p)
			// The gauge counts from when the process noticed, which was
			// before the test saw it.
			if v, want := p.counter("hotline_kafka_disconnected_seconds"), time.Since(seen[p]).Seconds()-1; v < want {
				t.Errorf("outage %d: %s reports %.0f s disconnected, %.0f s after the test saw it disconnected", i+1, p.addr(), v, want+1)
			}
		}
		broker.Start()
		for _, p := range procs {
			untilConnected(t, p, time.Minute)
		}
		t.Logf("outage %d: both instances reconnected %s after the broker started", i+1, time.Since(killed.Add(outage)).Round(time.Second))
	}
	producePart(parts - 1)
	untilCommitted(t, cfg, 5*time.Minute, a, b)
	for _, p := range procs {
		p.signal(t, syscall.SIGTERM)
		if err := p.wait(t, 45*time.Second); err != nil {
			t.Fatalf("exit: %v\n%s", err, p.log)
		}
		log := p.log.String()
		lost, back := strings.Count(log, "kafka unreachable"), strings.Count(log, "kafka reachable again")
		t.Logf("%s logged %d outages and %d recoveries in %d lines", p.addr(), lost, back, strings.Count(log, "\n"))
		if lost != brokerRestarts+1 || back != brokerRestarts+1 {
			t.Errorf("%s logged %d outages and %d recoveries, want %d each:\n%s", p.addr(), lost, back, brokerRestarts+1, log)
		}
		var warnings, story []string
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "level=WARN") && !strings.Contains(line, "rejected message") && !strings.Contains(line, "unprotected:") {
				warnings = append(warnings, line)
			}
			if strings.Contains(line, "kafka unreachable") || strings.Contains(line, "reachable again") || strings.Contains(line, "generation ") {
				story = append(story, line)
			}
		}
		if p == a {
			t.Logf("%s, what it said of Kafka:\n%s", p.addr(), strings.Join(story, "\n"))
		}
		if len(warnings) > 6*(brokerRestarts+1) { // a few per outage (unreachable, a join, a refused commit), not one per attempt
			t.Errorf("%s logged %d warnings for %d outages, not about one per outage:\n%s", p.addr(), len(warnings), brokerRestarts+1, strings.Join(warnings, "\n"))
		}
	}
	assertDeadLettersOnce(t, broker.Addr, cfg.Kafka.Topics.DeadLetter, sc)
	assertNoDoubles(t, cfg)
	assertStreamEqualsCompute(t, cfg, withAsOfFromStore(t, cfg, sc))
}

// share returns the i-th of n nearly equal parts of msgs.
func share(msgs []kafka.Message, i, n int) []kafka.Message {
	return msgs[i*len(msgs)/n : (i+1)*len(msgs)/n]
}

func consumed(p *proc) float64 { return max(p.counter("hotline_pipeline_messages_consumed_total"), 0) }

// addr is the process's metrics address.
func (p *proc) addr() string {
	return strings.TrimSuffix(strings.TrimPrefix(p.metrics, "http://"), "/metrics")
}

// alive fails the test if the process has exited.
func alive(t *testing.T, p *proc) {
	t.Helper()
	select {
	case err := <-p.done:
		t.Fatalf("%s exited during the outage: %v\n%s", p.addr(), err, p.log)
	default:
	}
}

// health returns the status code and body of the process's /healthz.
func health(p *proc) (int, string) {
	resp, err := http.Get("http://" + p.addr() + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// untilDisconnected waits until the process says Kafka is unreachable: the
// gauge at 0, /healthz 503 with the reason, /livez still 200.
func untilDisconnected(t *testing.T, p *proc, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		alive(t, p)
		code, body := health(p)
		if p.counter("hotline_kafka_connected") == 0 && code == http.StatusServiceUnavailable &&
			strings.Contains(body, "kafka unreachable") {
			if resp, err := http.Get("http://" + p.addr() + "/livez"); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("%s /livez during the outage: %v %v", p.addr(), resp, err)
			} else {
				resp.Body.Close()
			}
			return
		}
		if time.Now().After(deadline) {
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Fatalf("%s did not report the outage within %s (healthz %d %q)\n%s", p.addr(), limit, code, body, p.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// untilConnected waits until the process reaches Kafka again: the gauge at
// 1 and /healthz 200.
func untilConnected(t *testing.T, p *proc, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		alive(t, p)
		code, body := health(p)
		if p.counter("hotline_kafka_connected") == 1 && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reconnect within %s (healthz %d %q)", p.addr(), limit, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFiring polls the Prometheus alerts API until the alert fires for the
// instance, before the deadline.
func waitFiring(t *testing.T, promAddr, name, instance string, deadline time.Time) string {
	t.Helper()
	for {
		resp, err := http.Get("http://" + promAddr + "/api/v1/alerts")
		if err == nil {
			var body struct {
				Data struct {
					Alerts []struct {
						Labels      map[string]string `json:"labels"`
						Annotations map[string]string `json:"annotations"`
						State       string            `json:"state"`
					} `json:"alerts"`
				} `json:"data"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			for _, a := range body.Data.Alerts {
				if a.Labels["alertname"] == name && a.Labels["instance"] == instance && a.State == "firing" {
					return a.Annotations["summary"] + " — " + a.Annotations["description"]
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s for %s did not fire", name, instance)
		}
		time.Sleep(time.Second)
	}
}

// assertDeadLettersOnce reads the dead-letter topic and checks that every
// bad message of the scenario is there: by source topic, partition and
// offset, so a dead letter written again after an outage (its offset was
// not committed) counts once, and is reported.
func assertDeadLettersOnce(t *testing.T, broker, topic string, sc streamScenario) {
	t.Helper()
	want := 0
	for _, m := range append(append(append([]kafka.Message(nil), sc.calls...), sc.tickets...), sc.agents...) {
		if strings.Contains(string(m.Value), `"event_id":"bad`) {
			want++
		}
	}
	seen, total := map[string]bool{}, 0
	for _, m := range testenv.ReadTopic(t, broker, topic) {
		var src []string
		for _, h := range m.Headers {
			switch h.Key {
			case kafkaio.HeaderTopic, kafkaio.HeaderPartition, kafkaio.HeaderOffset:
				src = append(src, string(h.Value))
			}
		}
		seen[strings.Join(src, "/")] = true
		total++
	}
	t.Logf("dead letters: %d bad messages, %d distinct dead letters, %d written (%d again after an outage)",
		want, len(seen), total, total-len(seen))
	if len(seen) != want {
		t.Errorf("%d distinct dead letters, want %d", len(seen), want)
	}
}

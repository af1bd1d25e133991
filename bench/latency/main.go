// Command latency measures how long an event takes to show in the
// indicator metrics of a running `hotlineqc run`: it produces a steady load
// of generated events and, every -every, a probe call (a call.queued of the
// centre "latency-probe"), and polls /metrics until the probe's offer is
// counted. It prints the percentiles of probe latency.
//
//	go run ./bench/latency -kafka 127.0.0.1:9092 -topics T.calls,T.tickets -metrics http://127.0.0.1:19464/metrics -rate 20000 -duration 60s
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/hotlineqc/hotlineqc/bench/internal/keyed"
	"github.com/hotlineqc/hotlineqc/internal/benchdata"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

func main() {
	brokers := flag.String("kafka", "127.0.0.1:9092", "Kafka brokers")
	topics := flag.String("topics", "hotline.calls,hotline.tickets", "call and ticket topics")
	metrics := flag.String("metrics", "http://127.0.0.1:9464/metrics", "the pipeline's /metrics")
	rate := flag.Int("rate", 20000, "events per second")
	duration := flag.Duration("duration", time.Minute, "how long to produce")
	every := flag.Duration("every", 100*time.Millisecond, "time between probes")
	poll := flag.Duration("poll", 50*time.Millisecond, "time between reads of /metrics")
	flag.Parse()
	if err := run(*brokers, *topics, *metrics, *rate, *duration, *every, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

// load streams generated events (a month of three centres, re-timed to
// now) as Kafka messages.
func load(ctx context.Context, n int, out chan<- kafkaio.Outgoing) {
	r, w := io.Pipe()
	go func() { _ = w.CloseWithError(benchdata.WriteCentres(w, n, 9, 3)) }()
	sc := bufio.NewScanner(r)
	var p fastjson.Parser
	for sc.Scan() {
		m, err := keyed.Message(&p, append([]byte(nil), sc.Bytes()...))
		if err != nil {
			continue
		}
		select {
		case out <- m:
		case <-ctx.Done():
			r.Close()
			return
		}
	}
	close(out)
}

func run(brokers, topics, metricsURL string, rate int, duration, every, poll time.Duration) error {
	cfg := kafkaio.DefaultConfig()
	cfg.Brokers = strings.Split(brokers, ",")
	t := strings.Split(topics, ",")
	cfg.Topics.Calls, cfg.Topics.Tickets = t[0], t[1]
	prod, err := kafkaio.NewProducer(cfg, nil)
	if err != nil {
		return err
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	events := make(chan kafkaio.Outgoing, 10000)
	go load(ctx, rate*int(duration/time.Second)+rate, events)

	var mu sync.Mutex
	var sent []time.Time // send time of probe k (k = index + 1)
	seen := map[int]time.Time{}
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); watch(metricsURL, poll, &mu, seen, ctx.Done()) }()

	tick := time.NewTicker(10 * time.Millisecond) // produce in slices of 10 ms
	defer tick.Stop()
	start := time.Now()
	nextProbe := start
	produced := 0
	for ctx.Err() == nil {
		<-tick.C
		// What is due by now: a slow write is made up at the next slice.
		due := int(time.Since(start).Seconds()*float64(rate)) - produced
		batch := make([]kafkaio.Outgoing, 0, max(due, 0)+1)
		for len(batch) < due {
			e, ok := <-events
			if !ok {
				break
			}
			batch = append(batch, e)
		}
		if now := time.Now(); !now.Before(nextProbe) {
			mu.Lock()
			k := len(sent) + 1
			sent = append(sent, now)
			mu.Unlock()
			batch = append(batch, probe(k, now))
			nextProbe = nextProbe.Add(every)
		}
		if err := prod.Write(context.Background(), batch...); err != nil {
			return err
		}
		produced += len(batch)
	}
	time.Sleep(5 * time.Second) // the last probes arrive
	<-pollDone
	return report(sent, seen, produced, duration, poll)
}

func probe(k int, at time.Time) kafkaio.Outgoing {
	id := "probe-" + strconv.Itoa(k)
	v := fmt.Sprintf(`{"event_id":"%s-q","type":"call.queued","ts":"%s","center_id":"latency-probe","call_id":"%s","queue":"probe"}`,
		id, at.Format(time.RFC3339Nano), id)
	return kafkaio.Outgoing{Key: []byte(id), Value: []byte(v)}
}

var offered = regexp.MustCompile(`(?m)^hotline_indicator_numerator_total\{[^}]*center="latency-probe"[^}]*indicator="calls_offered"[^}]*\} ([0-9.e+]+)$|^hotline_indicator_numerator_total\{[^}]*indicator="calls_offered"[^}]*center="latency-probe"[^}]*\} ([0-9.e+]+)$`)

// watch polls the metrics and records when each probe count is first seen.
func watch(url string, every time.Duration, mu *sync.Mutex, seen map[int]time.Time, stop <-chan struct{}) {
	last := 0
	grace := time.After(time.Hour)
	for {
		select {
		case <-stop:
			stop, grace = nil, time.After(5*time.Second)
		case <-grace:
			return
		case <-time.After(every):
		}
		resp, err := http.Get(url)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		at := time.Now()
		n := 0
		for _, m := range offered.FindAllSubmatch(body, -1) {
			v := string(m[1]) + string(m[2])
			f, _ := strconv.ParseFloat(v, 64)
			n += int(f)
		}
		mu.Lock()
		for k := last + 1; k <= n; k++ {
			seen[k] = at
		}
		mu.Unlock()
		last = max(last, n)
	}
}

func report(sent []time.Time, seen map[int]time.Time, produced int, d, poll time.Duration) error {
	var lat []time.Duration
	for i, s := range sent {
		if at, ok := seen[i+1]; ok {
			lat = append(lat, at.Sub(s))
		}
	}
	if len(lat) == 0 {
		return fmt.Errorf("no probe was seen in the metrics")
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("produced %d events in %s (%.0f/s); %d of %d probes seen; metrics read every %s\n",
		produced, d, float64(produced)/d.Seconds(), len(lat), len(sent), poll)
	fmt.Printf("event → /metrics latency: p50 %s  p90 %s  p99 %s  max %s\n",
		pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	return nil
}

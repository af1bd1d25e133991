package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// The real Prometheus scrapes a pipeline fed with a breaching scenario
// (60 % of the calls abandoned), evaluates the committed rules, the
// fast-burn alert fires (read through the HTTP API), and the real
// Alertmanager delivers it to a webhook receiver of the test.
func TestAlertFiresAndIsDelivered(t *testing.T) {
	prometheus := testenv.Tool(t, "prometheus")
	alertmanager := testenv.Tool(t, "prometheus-alertmanager")
	cfg := testenv.PipelineConfig(t, testenv.Kafka(t), 3)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var delivered []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		delivered = append(delivered, string(b))
		mu.Unlock()
	}))
	defer hook.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), slog.New(slog.DiscardHandler)) }()
	defer func() { stop(); <-done }()

	dir := t.TempDir()
	ports := testenv.FreePorts(t, 2)
	amAddr, promAddr := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	writeFile(t, filepath.Join(dir, "am.yml"), fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, center]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1m
receivers:
  - name: hook
    webhook_configs: [{url: %q}]
`, hook.URL))
	ruleFile, _ := filepath.Abs(committed)
	testenv.StartProcess(t, "http://"+amAddr+"/-/ready", alertmanager, "--config.file="+filepath.Join(dir, "am.yml"),
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	testenv.StartPrometheus(t, prometheus, promAddr, ln.Addr().String(), fmt.Sprintf(`rule_files: [%q]
alerting: {alertmanagers: [{static_configs: [{targets: [%q]}]}]}
`, ruleFile, amAddr))

	// 20 rounds of 10 calls, 4 answered and 6 abandoned, one round a second,
	// so that the counters grow between scrapes.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections() // a writer closes only a transport of its own
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Kafka.Brokers...), Topic: cfg.Kafka.Topics.Calls, Balancer: &kafka.Hash{},
		Transport: tr, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	start := time.Now()
	for round := range 20 {
		var msgs []kafka.Message
		for i := range 10 {
			id := fmt.Sprintf("k%d-%d", round, i)
			ts := time.Now().Format(time.RFC3339Nano)
			msgs = append(msgs, callMsg(id, "q", "call.queued", ts, `,"queue":"general"`))
			if i < 4 {
				msgs = append(msgs, callMsg(id, "a", "call.answered", ts, `,"agent_id":"a1"`))
			} else {
				msgs = append(msgs, callMsg(id, "x", "call.abandoned", ts, ""))
			}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	firing := waitAlert(ctx, t, promAddr, "HotlineSLOBurnFast", "answer_rate")
	t.Logf("HotlineSLOBurnFast firing %s after the first event: %s", time.Since(start).Round(time.Second), firing)
	for {
		mu.Lock()
		got := strings.Join(delivered, "\n")
		mu.Unlock()
		if strings.Contains(got, `"alertname":"HotlineSLOBurnFast"`) && strings.Contains(got, `"status":"firing"`) {
			t.Logf("delivered to the webhook %s after the first event", time.Since(start).Round(time.Second))
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("alert not delivered; webhook got: %s", got)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func callMsg(call, suffix, typ, ts, extra string) kafka.Message {
	return kafka.Message{Key: []byte(call), Value: []byte(fmt.Sprintf(
		`{"event_id":"%s-%s","type":"%s","ts":"%s","center_id":"c1","call_id":"%s"%s}`, call, suffix, typ, ts, call, extra))}
}

// waitAlert polls the Prometheus alerts API until the alert is firing for
// the indicator.
func waitAlert(ctx context.Context, t *testing.T, addr, name, ind string) string {
	t.Helper()
	for {
		resp, err := http.Get("http://" + addr + "/api/v1/alerts")
		if err == nil {
			var body struct {
				Data struct {
					Alerts []struct {
						Labels map[string]string `json:"labels"`
						State  string            `json:"state"`
						Value  string            `json:"value"`
					} `json:"alerts"`
				} `json:"data"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			for _, a := range body.Data.Alerts {
				if a.Labels["alertname"] == name && a.Labels["indicator"] == ind && a.State == "firing" {
					return fmt.Sprintf("%v value %s", a.Labels, a.Value)
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s for %s never fired", name, ind)
		}
		time.Sleep(time.Second)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

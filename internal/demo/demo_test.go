package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/demo"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// startDemo runs the demo on a free port and returns its base URL.
func startDemo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- demo.Run(ctx, demo.Options{Listener: ln, Speed: 120, Backfill: 2 * time.Hour, Span: 24 * time.Hour,
			Centers: 2, Seed: 1, Profile: profile.Default(), Out: &out,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop within 20 s")
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// A new user sees non-zero indicators within 30 seconds.
func TestDemoShowsIndicatorsWithin30s(t *testing.T) {
	base := startDemo(t)
	start := time.Now()
	var st demo.Status
	for {
		if err := json.Unmarshal(get(t, base+"/api/status"), &st); err != nil {
			t.Fatal(err)
		}
		if offered(st) > 0 && answerRate(st) > 0 {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no indicators after 30 s: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("indicators after %s: %.0f calls offered, events %+v", time.Since(start).Round(time.Millisecond), offered(st), st.Events)
	if len(st.Centers) != 2 {
		t.Errorf("centres = %d, want 2", len(st.Centers))
	}
	// The simulated agents signed in: the staffing table has intervals
	// with agents staffed beside those required.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		staffed := 0.0
		for _, c := range st.Centers {
			for _, iv := range c.Staffing {
				staffed += iv.Staffed
			}
		}
		if staffed > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no agent staffed on the status page: %+v", st.Centers)
		}
		if err := json.Unmarshal(get(t, base+"/api/status"), &st); err != nil {
			t.Fatal(err)
		}
	}
	metrics := get(t, base+"/metrics")
	for deadline := time.Now().Add(10 * time.Second); !bytes.Contains(metrics, []byte(`hotline_agents{center=`)) && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond) // the gauges are counted every 2 s
		metrics = get(t, base+"/metrics")
	}
	// The demo runs the production state stage: the live indicator
	// metrics the alert rules and dashboards read are there.
	for _, want := range []string{"hotline_pipeline_messages_consumed_total", `hotline_indicator_numerator_total{category="",center=`,
		`hotline_indicator_denominator_total{category="",center=`, `indicator="answer_rate"`, "hotline_call_wait_seconds_bucket",
		"hotline_state_entities_loaded_total", "hotline_pipeline_events_written_total", `hotline_agents{center=`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	cmd := exec.Command(testenv.Promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(metrics)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func offered(st demo.Status) float64 {
	var n float64
	for _, c := range st.Centers {
		for _, i := range c.Indicators {
			if i.ID == "calls_offered" && i.Value != nil {
				n += *i.Value
			}
		}
	}
	return n
}

func answerRate(st demo.Status) float64 {
	for _, c := range st.Centers {
		for _, i := range c.Indicators {
			if i.ID == "answer_rate" && i.Value != nil {
				return *i.Value
			}
		}
	}
	return 0
}

// The status page, rendered by a real browser, shows the indicators; the
// test also leaves a screenshot for people to look at.
func TestStatusPageInChromium(t *testing.T) {
	chromium := testenv.Chromium(t)
	base := startDemo(t)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(string(get(t, base+"/")), "人工接通率") {
		if time.Now().After(deadline) {
			t.Fatal("status page has no indicators after 30 s")
		}
		time.Sleep(250 * time.Millisecond)
	}
	dir := t.TempDir()
	args := append(testenv.HeadlessArgs(filepath.Join(dir, "profile")), "--dump-dom", base+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"热线服务质量实时看板", "人工接通率", "15秒接通率", `data-indicator="answer_rate"`, "<svg"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if !strings.Contains(string(dom), "%") {
		t.Error("rendered page shows no rate")
	}
	shot := filepath.Join(dir, "status.png")
	if keep := os.Getenv("HOTLINEQC_SCREENSHOT"); keep != "" {
		shot = keep
	}
	args = append(testenv.HeadlessArgs(filepath.Join(dir, "profile2")), "--window-size=1280,1500", "--screenshot="+shot, base+"/")
	if out, err := exec.CommandContext(ctx, chromium, args...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
}

// With --clickhouse the demo stores events and state as `run` does, and
// compute --clickhouse can read it back.
func TestDemoWritesToClickHouse(t *testing.T) {
	_, cfg := testenv.ClickHouse(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dsn := "clickhouse://" + cfg.Addr[0] + "/" + cfg.Database
	go func() {
		done <- demo.Run(ctx, demo.Options{Listener: ln, Speed: 120, Backfill: time.Hour, Span: 24 * time.Hour,
			Centers: 1, Seed: 1, Profile: profile.Default(), Out: io.Discard, ClickHouse: dsn,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	conn, db, err := chstore.OpenDSN(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n uint64
		_ = conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".call_state").Scan(&n)
		if n > 100 {
			t.Logf("%d call states stored", n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d call states after 30 s", n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st, err := chstore.NewReader(conn, db).ReadStored(context.Background())
	if err != nil || len(st.Cells) == 0 {
		t.Fatalf("read back: %d cells, %v", len(st.Cells), err)
	}
}

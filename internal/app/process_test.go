package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/config"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/hotlineqc once for the process tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hotlineqc-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hotlineqc")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/hotlineqc").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build hotlineqc: %v", buildErr)
	}
	return binPath
}

// proc is a `hotlineqc run` child process.
type proc struct {
	cmd     *exec.Cmd
	log     *bytes.Buffer
	metrics string
	done    chan error
}

// writeConfig writes cfg as a YAML file for `hotlineqc run`.
func writeConfig(t *testing.T, cfg config.Config) string {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hotlineqc.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startRun starts `hotlineqc run` with the configuration file, its metrics
// on a free port.
func startRun(t *testing.T, cfgPath string, port int) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(),
		"HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=integration-test-key-0123456789",
		"HOTLINEQC_HTTP__LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"HOTLINEQC_LOG__FORMAT=text")
	p := &proc{cmd: cmd, log: &bytes.Buffer{}, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a failed test leaves no process behind
	return p
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
}

// wait waits for the process to end and returns its error.
func (p *proc) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		t.Fatalf("process did not exit within %s\n%s", limit, p.log)
		return nil
	}
}

// counter reads a metric's value (summed over labels) from the process.
func (p *proc) counter(name string) float64 {
	resp, err := http.Get(p.metrics)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	re := regexp.MustCompile(`(?m)^` + name + `(\{[^}]*\})? ([0-9.e+]+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		sum += v
	}
	return sum
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// untilCommitted waits for the group to commit every message.
// uncommitted sums, per input topic, the messages past the group's
// committed offsets: where a slow or stuck run is.
func uncommitted(ctx context.Context, cfg config.Config) map[string]int64 {
	ends, got, err := offsets(ctx, cfg.Kafka)
	if err != nil {
		return map[string]int64{"(offsets unreadable: " + err.Error() + ")": -1}
	}
	left := map[string]int64{}
	for k, end := range ends {
		left[k.topic] += end - max(got[k], 0)
	}
	return left
}

func untilCommitted(t *testing.T, cfg config.Config, limit time.Duration, running ...*proc) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for !committed(ctx, t, cfg.Kafka) {
		for _, p := range running {
			select {
			case err := <-p.done:
				t.Fatalf("pipeline exited: %v\n%s", err, p.log)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all offsets committed within %s; left per topic: %v", limit, uncommitted(ctx, cfg))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LocalKafka is a Kafka broker of the test's own (KRaft, one node, plain
// listener on a free loopback port, data in the test's temporary
// directory), built from the jars deploy/dev/services.sh fetched, that the
// test may kill and start again on the same port and data (the shared
// broker must stay up for the other tests).
type LocalKafka struct {
	Addr string // 127.0.0.1:port
	dir  string
	java string
	cp   string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
}

// StartLocalKafka formats and starts a private broker; it is killed when
// the test ends.
func StartLocalKafka(t testing.TB) *LocalKafka {
	t.Helper()
	libs, err := kafkaLibs()
	if err != nil {
		missing(t, "the Kafka jars", err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		missing(t, "java", err)
	}
	dir := t.TempDir()
	ports := freePorts(t, 2)
	k := &LocalKafka{Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), dir: dir, java: java, cp: libs + "/*", t: t}
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[3]s/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
`, ports[0], ports[1], dir)
	log4j := "Configuration:\n  Appenders:\n    Console:\n      name: STDOUT\n      PatternLayout:\n        Pattern: \"[%d] %p %m (%c)%n\"\n" +
		"  Loggers:\n    Root:\n      level: WARN\n      AppenderRef:\n        - ref: STDOUT\n"
	for name, body := range map[string]string{"server.properties": props, "log4j2.yaml": log4j} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id, err := exec.Command(java, "-cp", k.cp, "kafka.tools.StorageTool", "random-uuid").Output()
	if err != nil {
		t.Fatalf("kafka random-uuid: %v", err)
	}
	lines := strings.Fields(string(id))
	if len(lines) == 0 {
		t.Fatal("kafka random-uuid printed nothing")
	}
	out, err := exec.Command(java, "-cp", k.cp, "kafka.tools.StorageTool", "format", "--standalone",
		"-t", lines[len(lines)-1], "-c", filepath.Join(dir, "server.properties")).CombinedOutput()
	if err != nil {
		t.Fatalf("kafka storage format: %v\n%s", err, out)
	}
	k.Start()
	t.Cleanup(k.Kill)
	return k
}

// kafkaLibs finds the jars: this checkout's services directory, else the
// one of the checkout that started the shared broker.
func kafkaLibs() (string, error) {
	dirs := []string{filepath.Join(servicesDir(), "kafka", "libs")}
	registry := os.Getenv("HOTLINEQC_SERVICES_REGISTRY")
	if registry == "" {
		home, _ := os.UserHomeDir()
		registry = filepath.Join(home, ".cache", "hotlineqc-services")
	}
	if owner, err := os.ReadFile(filepath.Join(registry, "kafka")); err == nil {
		dirs = append(dirs, filepath.Join(strings.TrimSpace(string(owner)), "kafka", "libs"))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, ".complete")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no complete jar directory among %v", dirs)
}

// Start starts the broker (again, on the same port and data) and waits
// until it accepts connections.
func (k *LocalKafka) Start() {
	k.t.Helper()
	logf, err := os.OpenFile(filepath.Join(k.dir, "broker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		k.t.Fatal(err)
	}
	cmd := exec.Command(k.java, "-Xms128m", "-Xmx384m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+filepath.Join(k.dir, "log4j2.yaml"),
		"-cp", k.cp, "kafka.Kafka", filepath.Join(k.dir, "server.properties"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		k.t.Fatalf("start kafka: %v", err)
	}
	k.cmd, k.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(k.done) }()
	deadline := time.Now().Add(90 * time.Second)
	for dial(k.Addr) != nil {
		select {
		case <-k.done:
			k.t.Fatalf("private kafka exited at start:\n%s", k.Log())
		default:
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("private kafka did not start:\n%s", k.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill stops the broker with SIGKILL, as a crash would, and waits for it.
func (k *LocalKafka) Kill() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(syscall.SIGKILL)
	<-k.done
}

// Log returns the tail of the broker's log, for failure reports.
func (k *LocalKafka) Log() string {
	b, _ := os.ReadFile(filepath.Join(k.dir, "broker.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

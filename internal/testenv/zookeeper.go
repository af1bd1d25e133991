package testenv

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ZooKeeper is a private ZooKeeper server (Debian's zookeeper package) for
// replicated ClickHouse tables and ON CLUSTER statements.
type ZooKeeper struct {
	Port int
	dir  string
}

// Log returns the tail of the server's log, for failure reports.
func (z *ZooKeeper) Log() string {
	b, _ := os.ReadFile(filepath.Join(z.dir, "zookeeper.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// StartZooKeeper starts a standalone ZooKeeper on a free port, stopped when
// the test ends.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	jar := "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(jar); err != nil {
		missing(t, "ZooKeeper (Debian zookeeper)", err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		missing(t, "java", err)
	}
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	cfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n", dir, port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-Xmx256m", "-cp", jar+":/usr/share/java/maven3-slf4j-provider.jar:/usr/share/java/maven-shared-utils.jar:/etc/zookeeper/conf",
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	log, _ := os.Create(filepath.Join(dir, "zookeeper.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for !serving(addr) {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "zookeeper.log"))
			t.Fatalf("zookeeper did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &ZooKeeper{Port: port, dir: dir}
}

// serving asks ZooKeeper for its state ("srvr"): an open port, or even
// "imok", comes before the server takes sessions, and ClickHouse 18.16 does
// not recover from a refused first session.
func serving(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Mode: standalone")
}

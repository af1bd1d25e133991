package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LocalClickHouse is a ClickHouse server of the test's own, on free ports
// with data in the test's temporary directory, that the test may stop and
// start (the shared server of deploy/dev/services.sh must stay up for the
// other tests).
type LocalClickHouse struct {
	Addr string // native protocol, 127.0.0.1:port
	Port int
	dir  string
	conf string
	cmd  *exec.Cmd
	t    testing.TB
}

// StartLocalClickHouse configures and starts a private server.
func StartLocalClickHouse(t testing.TB) *LocalClickHouse { return StartLocalClickHouseWith(t, 0, "") }

// StartLocalClickHouseWith starts a private server on native port tcpPort
// (0: any free one) whose substitutions (remote_servers, zookeeper, macros)
// come from include, the body of a metrika.xml <yandex> element.
func StartLocalClickHouseWith(t testing.TB, tcpPort int, include string) *LocalClickHouse {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		bin = "/usr/sbin/clickhouse-server"
		if _, err := os.Stat(bin); err != nil {
			missing(t, "clickhouse-server", err)
		}
	}
	base, err := os.ReadFile("/etc/clickhouse-server/config.xml")
	if err != nil {
		missing(t, "ClickHouse configuration", err)
	}
	users, err := os.ReadFile("/etc/clickhouse-server/users.xml")
	if err != nil {
		missing(t, "ClickHouse users.xml", err)
	}
	dir := t.TempDir()
	ports := freePorts(t, 3)
	if tcpPort != 0 {
		ports[0] = tcpPort
	}
	conf := string(base)
	for tag, val := range map[string]string{
		"tcp_port": strconv.Itoa(ports[0]), "http_port": strconv.Itoa(ports[1]),
		"interserver_http_port": strconv.Itoa(ports[2]), "tmp_path": dir + "/tmp/",
		"user_files_path": dir + "/user_files/", "format_schema_path": dir + "/format_schemas/",
		"log": dir + "/server.log", "errorlog": dir + "/server.err.log", "users_config": dir + "/users.xml",
	} {
		conf = regexp.MustCompile(`<`+tag+`>[^<]*</`+tag+`>`).ReplaceAllString(conf, "<"+tag+">"+val+"</"+tag+">")
	}
	conf = strings.Replace(conf, "<path>/var/lib/clickhouse/</path>", "<path>"+dir+"/data/</path>", 1)
	conf = strings.Replace(conf, "<yandex>", "<yandex>\n    <include_from>"+dir+"/metrika.xml</include_from>", 1)
	for _, f := range []struct {
		name string
		data string
	}{{"config.xml", conf}, {"users.xml", string(users)}, {"metrika.xml", "<yandex>\n" + include + "\n</yandex>\n"}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &LocalClickHouse{Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), Port: ports[0], dir: dir, conf: filepath.Join(dir, "config.xml"), t: t}
	c.bin(bin)
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

func (c *LocalClickHouse) bin(path string) { c.cmd = exec.Command(path, "--config-file="+c.conf) }

// Start starts the server (again) and waits until it accepts connections.
func (c *LocalClickHouse) Start() {
	c.t.Helper()
	cmd := exec.Command(c.cmd.Path, c.cmd.Args[1:]...)
	cmd.Dir = c.dir
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start clickhouse: %v", err)
	}
	c.cmd = cmd
	deadline := time.Now().Add(60 * time.Second)
	for dial(c.Addr) != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.err.log"))
			c.t.Fatalf("private clickhouse did not start:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ErrorLog returns the tail of the server's error log, for failure reports.
func (c *LocalClickHouse) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.err.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops the server and waits for it to exit.
func (c *LocalClickHouse) Stop() {
	if c.cmd == nil || c.cmd.Process == nil || c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// FreePorts returns n free loopback ports.
func FreePorts(t testing.TB, n int) []int { return freePorts(t, n) }

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

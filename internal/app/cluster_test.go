package app_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

// The cluster option on a real two-shard set-up: ZooKeeper and two
// ClickHouse servers, schema created ON CLUSTER (Replicated tables and
// Distributed tables over them), the pipeline writing through the
// Distributed tables. Each call and ticket lives on one shard, so reading
// FINAL through the Distributed tables is exact.
func TestClusterTwoShards(t *testing.T) {
	cfg := streamConfig(t) // fresh topics (the shared server's database stays unused)
	zk := testenv.StartZooKeeper(t)
	ports := testenv.FreePorts(t, 2)
	servers := ""
	for _, p := range ports {
		servers += fmt.Sprintf("<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", p)
	}
	var nodes []*testenv.LocalClickHouse
	for i, p := range ports {
		include := fmt.Sprintf(`<clickhouse_remote_servers><hq>%s</hq></clickhouse_remote_servers>
<zookeeper-servers><node><host>127.0.0.1</host><port>%d</port></node></zookeeper-servers>
<macros><shard>0%d</shard><replica>r%d</replica></macros>`, servers, zk.Port, i+1, i+1)
		nodes = append(nodes, testenv.StartLocalClickHouseWith(t, p, include))
	}
	cfg.ClickHouse.Addr = []string{nodes[0].Addr}
	cfg.ClickHouse.Cluster = "hq"
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rep, err := chstore.Migrate(ctx, conn, cfg.ClickHouse, quiet())
	if err != nil {
		t.Fatalf("%v\nnode 1 error log:\n%s\nzookeeper log:\n%s", err, nodes[0].ErrorLog(), zk.Log())
	}
	t.Logf("schema %d on cluster hq", rep.Current)

	sc := newStreamScenario(t, 30*time.Hour, 19)
	produceScenario(t, cfg, sc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet(), app.WithClock(func() time.Time { return sc.asOf }))
	}()
	waitFor(t, done, 2*time.Minute, func() bool { return committed(ctx, t, cfg.Kafka) })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, n := range nodes {
		c := cfg.ClickHouse
		c.Addr = []string{n.Addr}
		nc, err := chstore.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		var raw, states uint64
		if err := nc.QueryRow(ctx, "SELECT count() FROM "+c.Database+".raw_call_events_local").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := nc.QueryRow(ctx, "SELECT count() FROM "+c.Database+".call_state_local").Scan(&states); err != nil {
			t.Fatal(err)
		}
		nc.Close()
		t.Logf("shard %d: %d raw call events, %d call state rows", i+1, raw, states)
		if raw == 0 || states == 0 {
			t.Errorf("shard %d holds no data", i+1)
		}
	}
	assertStreamEqualsCompute(t, cfg, sc)
}

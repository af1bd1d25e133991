package deploy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/hotlineqc/hotlineqc/internal/dashboards"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// docker-compose.yml cannot run here (no container engine); this loads it
// with compose-go and checks the services, ports, health checks and mounted
// files it names.
func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithName("hotlineqc"), cli.WithEnv([]string{"HOTLINEQC_CALLER_HASH_KEY=0123456789abcdef"}),
		cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alertmanager", "clickhouse", "grafana", "hotlineqc", "kafka", "migrate", "prometheus", "simulator"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	ports := map[string]uint32{"kafka": 9092, "clickhouse": 9000, "hotlineqc": 9464, "prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
	for name, port := range ports {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 {
			t.Errorf("%s has no health check", name)
		}
		found := false
		for _, pc := range s.Ports {
			found = found || (pc.Target == port && pc.HostIP == "127.0.0.1")
		}
		if !found {
			t.Errorf("%s does not publish %d on loopback: %+v", name, port, s.Ports)
		}
		for _, v := range s.Volumes {
			if v.Type == "bind" {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s, which does not exist", name, filepath.Base(v.Source))
				}
			}
		}
	}
	// Grafana gets the plugin, the provisioning and the generated dashboards.
	g, _ := p.GetService("grafana")
	if v := g.Environment["GF_INSTALL_PLUGINS"]; v == nil || *v != "grafana-clickhouse-datasource" {
		t.Error("grafana does not install the ClickHouse plugin")
	}
	mounts := map[string]bool{}
	for _, v := range g.Volumes {
		mounts[v.Target] = true
		if v.Target == "/var/lib/grafana/dashboards/hotlineqc" {
			boards, err := dashboards.Build(profile.Default(), "hotline")
			if err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(v.Source, "*.json"))
			if len(files) != len(boards) {
				t.Errorf("grafana mounts %d dashboards, the generator makes %d", len(files), len(boards))
			}
			for _, b := range boards {
				if _, err := os.Stat(filepath.Join(v.Source, b.File)); err != nil {
					t.Errorf("grafana does not mount %s: %v", b.File, err)
				}
			}
		}
	}
	if !mounts["/etc/grafana/provisioning"] || !mounts["/var/lib/grafana/dashboards/hotlineqc"] {
		t.Errorf("grafana mounts %v, want the provisioning and the dashboards", mounts)
	}
	if sim, _ := p.GetService("simulator"); !slices.Contains(sim.Command, "--kafka") {
		t.Errorf("the simulator does not produce to Kafka: %v", sim.Command)
	}
	run, _ := p.GetService("hotlineqc")
	if run.Environment["HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE"] == nil {
		t.Error("the pipeline gets no caller-hash key")
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

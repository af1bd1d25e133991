package config_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// docker-compose.yml cannot run here (no container engine); this loads it
// with compose-go and checks the services, ports and mounted files it names.
func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"},
		cli.WithName("hotlineqc"), cli.WithEnv([]string{"HOTLINEQC_CALLER_HASH_KEY=0123456789abcdef"}),
		cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alertmanager", "clickhouse", "hotlineqc", "kafka", "migrate", "prometheus"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	ports := map[string]uint32{"kafka": 9092, "clickhouse": 9000, "hotlineqc": 9464, "prometheus": 9090, "alertmanager": 9093}
	for name, port := range ports {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
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
	run, _ := p.GetService("hotlineqc")
	if run.Environment["HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE"] == nil {
		t.Error("the pipeline gets no caller-hash key")
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

package deploy

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/rules"
)

const k8sDir = "k8s"

// k8sObject is the part of a manifest the test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       yaml.Node         `yaml:"spec"`
	Resources  []string          `yaml:"resources"`
}

func loadK8s(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	objs := map[string]k8sObject{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs
}

// spec decodes an object's spec.
func spec[T any](t *testing.T, o k8sObject) T {
	t.Helper()
	var v T
	if err := o.Spec.Decode(&v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
	return v
}

type podSpec struct {
	Containers []struct {
		Name  string   `yaml:"name"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type deploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

// The Kubernetes manifests parse and hang together: a Deployment with
// probes and resources that mounts the ConfigMap and Secret, scaled up to
// the partition count, a PodMonitor that selects its pods and port, the
// PrometheusRule generated from the profile, and a configuration that
// loads and names only secrets the Secret holds.
func TestKubernetesManifests(t *testing.T) {
	objs := loadK8s(t)
	dep, ok := objs["Deployment/hotlineqc"]
	if !ok {
		t.Fatalf("no Deployment hotlineqc in %v", slices.Sorted(maps.Keys(objs)))
	}
	d := spec[deploymentSpec](t, dep)
	for k, v := range d.Selector.MatchLabels {
		if d.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod labels", k, v)
		}
	}
	c := d.Template.Spec.Containers[0]
	if !slices.Equal(c.Args[:1], []string{"run"}) {
		t.Errorf("args = %v", c.Args)
	}
	if len(c.Ports) == 0 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != 9464 {
		t.Errorf("ports = %+v", c.Ports)
	}
	// Liveness must not restart a pod that waits for Kafka: /livez answers
	// while the process serves; /healthz (readiness) turns 503 meanwhile.
	for name, want := range map[*probe]string{c.LivenessProbe: "/livez", c.ReadinessProbe: "/healthz"} {
		if name == nil || name.HTTPGet.Path != want || name.HTTPGet.Port != "metrics" {
			t.Errorf("probe = %+v, want %s", name, want)
		}
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources = %+v", c.Resources)
	}
	mounted := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounted[m.Name] = m.MountPath
	}
	var cm, sec k8sObject
	for _, v := range d.Template.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			cm = objs["ConfigMap/"+v.ConfigMap.Name]
		case v.Secret != nil:
			sec = objs["Secret/"+v.Secret.SecretName]
		}
		if mounted[v.Name] == "" {
			t.Errorf("volume %s is not mounted", v.Name)
		}
	}
	if cm.Data["hotlineqc.yaml"] == "" || sec.StringData == nil {
		t.Fatalf("the Deployment's ConfigMap or Secret is missing")
	}

	// The configuration loads and validates; every secret file it names is
	// a key of the mounted Secret.
	dir := t.TempDir()
	cfgText := cm.Data["hotlineqc.yaml"]
	secretDir := mounted["secret"]
	for _, line := range strings.Split(cfgText, "\n") {
		if i := strings.Index(line, "{file: "+secretDir+"/"); i >= 0 && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			key := strings.TrimSuffix(line[i+len("{file: "+secretDir+"/"):], "}")
			if _, ok := sec.StringData[key]; !ok {
				t.Errorf("the config reads secret %s, which the Secret lacks", key)
			}
		}
	}
	path := filepath.Join(dir, "hotlineqc.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the ConfigMap's configuration is invalid: %v", err)
	}
	if !strings.HasSuffix(cfg.HTTP.Listen, ":9464") {
		t.Errorf("http.listen = %s, want the metrics port 9464", cfg.HTTP.Listen)
	}

	hpa := spec[struct {
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicas int `yaml:"minReplicas"`
		MaxReplicas int `yaml:"maxReplicas"`
	}](t, objs["HorizontalPodAutoscaler/hotlineqc"])
	const partitions = 6 // the partition count deployment.yaml documents
	if hpa.ScaleTargetRef.Name != "hotlineqc" || hpa.MaxReplicas != partitions || hpa.MinReplicas > d.Replicas {
		t.Errorf("autoscaler = %+v, want up to %d replicas of the Deployment", hpa, partitions)
	}

	pm := spec[struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"podMetricsEndpoints"`
	}](t, objs["PodMonitor/hotlineqc"])
	for k, v := range pm.Selector.MatchLabels {
		if d.Template.Metadata.Labels[k] != v {
			t.Errorf("the PodMonitor selects %s=%s, which the pods lack", k, v)
		}
	}
	if len(pm.Endpoints) == 0 || pm.Endpoints[0].Port != "metrics" || pm.Endpoints[0].Path != "/metrics" {
		t.Errorf("PodMonitor endpoints = %+v", pm.Endpoints)
	}

	want, err := rules.PrometheusRule(profile.Single(profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(k8sDir, "prometheusrule.yaml"))
	if !bytes.Equal(got, want) {
		t.Error("deploy/k8s/prometheusrule.yaml is stale: run `go run ./cmd/hotlineqc rules --prometheus-rule deploy/k8s/prometheusrule.yaml`")
	}

	for _, r := range objs["Kustomization/"].Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}
}

package security_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/security"
)

func TestSecretNeverPrints(t *testing.T) {
	s := security.Secret("hunter2")
	out := fmt.Sprintf("%v %s %+v %#v", s, s, struct{ P security.Secret }{s}, s)
	j, _ := json.Marshal(struct{ P security.Secret }{s})
	for _, o := range []string{out, string(j)} {
		if strings.Contains(o, "hunter2") {
			t.Errorf("secret printed: %s", o)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestSecretSourceFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := security.SecretSource{File: p}.Load()
	if err != nil || got.Reveal() != "s3cret" {
		t.Fatalf("Load = %q, %v", got.Reveal(), err)
	}
	if err := (security.SecretSource{Value: "a", File: p}).Validate(); err == nil {
		t.Error("value and file together accepted")
	}
	if _, err := (security.SecretSource{File: p + "-missing"}).Load(); err == nil {
		t.Error("missing file accepted")
	}
}

func TestTLSValidate(t *testing.T) {
	if err := (security.TLS{Enabled: true, CertFile: "c"}).Validate(); err == nil {
		t.Error("cert without key accepted")
	}
	if err := (security.TLS{CAFile: "ca"}).Validate(); err == nil {
		t.Error("ca_file without enabled accepted")
	}
	c, err := security.TLS{}.Config()
	if c != nil || err != nil {
		t.Errorf("disabled TLS gave %v, %v", c, err)
	}
	if _, err := (security.TLS{Enabled: true, CAFile: "/nonexistent"}).Config(); err == nil {
		t.Error("missing CA file accepted")
	}
}

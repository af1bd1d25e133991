package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/config"
)

// FuzzLoad checks that no file or environment crashes the loader, that a
// configuration it accepts validates, and that a secret given in the
// environment never shows in an error.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"testdata/full.good.yml", "../../deploy/hotlineqc.example.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, "HOTLINEQC_KAFKA__BROKERS=a:1,b:2")
		}
	}
	f.Add([]byte("kafka: {brokers: [x]}\nclickhouse: {addr: []}\n"), "HOTLINEQC_PIPELINE__BATCH_SIZE=x")
	f.Add([]byte("http: {listen: nope, web_config_file: /nonexistent}\n"), "HOTLINEQC_LOG__LEVEL=loud")
	f.Add([]byte(":\n\t- ["), "")
	const secret = "fuzz-secret-value-0123456789"
	f.Fuzz(func(t *testing.T, file []byte, env string) {
		path := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		environ := []string{"HOTLINEQC_CLICKHOUSE__PASSWORD__VALUE=" + secret}
		if env != "" {
			environ = append(environ, env)
		}
		c, err := config.Load(path, environ)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the secret shows in an error: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded a configuration that does not validate: %v", err)
		}
		if !c.Privacy.CallerHashKey.IsSet() {
			t.Fatal("loaded without a caller hash key")
		}
	})
}

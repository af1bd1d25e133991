package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InChromium renders page in headless Chromium and checks that the DOM
// has each of want, then screenshots it at size (kept at the path in the
// environment variable keep, when set) and prints it to PDF.
func InChromium(t testing.TB, page []byte, size, keep string, want ...string) {
	t.Helper()
	chromium := Chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "page.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.CommandContext(ctx, chromium, append(HeadlessArgs(filepath.Join(dir, "p"+args[0][:4])), args...)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return out
	}
	dom := string(run("--dump-dom", "file://"+path))
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered page lacks %q", w)
		}
	}
	shot := filepath.Join(dir, "page.png")
	if p := os.Getenv(keep); p != "" {
		shot = p
	}
	run("--window-size="+size, "--screenshot="+shot, "file://"+path)
	pdf := filepath.Join(dir, "page.pdf")
	run("--print-to-pdf="+pdf, "--no-pdf-header-footer", "file://"+path)
	for _, f := range []struct{ path, magic string }{{shot, "\x89PNG"}, {pdf, "%PDF"}} {
		b, err := os.ReadFile(f.path)
		if err != nil || len(b) < 5_000 || !strings.HasPrefix(string(b), f.magic) {
			t.Errorf("%s: %d bytes, %v", f.path, len(b), err)
		}
	}
}

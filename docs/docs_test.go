// Package docs holds the tests that keep the documentation true to the
// code: the package table of architecture.md against the import graph,
// and every link inside the repository.
package docs

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hotlineqc/hotlineqc/"

// outside is the folder beside the checkout where the specification once
// lived.
const outside = "../" + "shared/"

// internalImports returns, for each package under internal/, the internal
// packages it imports (and "pipelines" for the embedded profiles).
func internalImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "../internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module+"internal/")
		deps := []string{}
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, module+"internal/"):
				deps = append(deps, strings.TrimPrefix(imp, module+"internal/"))
			case strings.HasPrefix(imp, module):
				deps = append(deps, strings.TrimPrefix(imp, module))
			}
		}
		graph[name] = deps
	}
	return graph
}

// The package table of architecture.md names every internal package once,
// and its imports column names exactly the internal packages each imports.
func TestArchitectureTableMatchesImports(t *testing.T) {
	graph := internalImports(t)
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z]+)` \\| .* \\| ([^|]*) \\|$")
	word := regexp.MustCompile(`[a-z]+(/[a-z]+)?`)
	listed := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		pkg, cell := m[1], m[2]
		deps, ok := graph[pkg]
		if !ok {
			t.Errorf("architecture.md lists %s, which is not a package under internal/", pkg)
			continue
		}
		listed[pkg] = true
		internal, _, _ := strings.Cut(cell, ";")
		var named []string
		for _, w := range word.FindAllString(internal, -1) {
			if _, isPkg := graph[w]; isPkg || w == "pipelines" {
				named = append(named, w)
			}
		}
		slices.Sort(named)
		named = slices.Compact(named)
		want := slices.Sorted(slices.Values(deps))
		want = slices.Compact(want)
		for i, d := range want {
			if strings.HasPrefix(d, "pipelines") {
				want[i] = "pipelines"
			}
		}
		want = slices.Compact(want)
		if !slices.Equal(named, want) {
			t.Errorf("architecture.md: %s imports %v, the table says %v", pkg, want, named)
		}
	}
	for pkg := range graph {
		if !listed[pkg] {
			t.Errorf("architecture.md has no row for internal/%s", pkg)
		}
	}
}

// No file of the repository points outside it (a clone has nothing
// beside it), and every relative Markdown link resolves.
func TestLinksStayInside(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".cache" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !slices.Contains([]string{".md", ".go", ".yaml", ".yml", ".sh"}, filepath.Ext(path)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), outside) && filepath.Base(path) != "docs_test.go" {
			t.Errorf("%s points at %s, outside the repository", path, outside)
		}
		if filepath.Ext(path) != ".md" {
			return nil
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", path, target)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Chdb is the in-process ClickHouse 26.x engine (PyPI chdb) that
// deploy/dev/services.sh installs in .cache/services/chdb: a session kept
// in a directory of the test's own, driven through python3.
type Chdb struct {
	pythonPath, dir string
}

// ChdbResult is one statement's outcome: its result (JSONCompact), or why
// it failed.
type ChdbResult struct {
	Meta []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"meta"`
	Data  [][]any `json:"data"`
	Error string  `json:"error"`
}

const chdbRunner = `
import json, sys
import chdb
from chdb import session
req = json.load(sys.stdin)
s = session.Session(req["path"])
out = []
for q in req["queries"]:
    try:
        r = s.query(q, "JSONCompact")
        txt = r.data() if hasattr(r, "data") else str(r)
        res = json.loads(txt) if txt.strip() else {}
        out.append({"meta": res.get("meta", []), "data": res.get("data", [])})
    except Exception as e:
        out.append({"error": str(e)})
s.close()
json.dump(out, sys.stdout)
`

// StartChdb returns a fresh chdb session for the test.
func StartChdb(t testing.TB) *Chdb {
	t.Helper()
	path := os.Getenv("HOTLINEQC_CHDB_PATH")
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(file), "..", "..", ".cache", "services", "chdb")
	}
	c := &Chdb{pythonPath: path, dir: t.TempDir()}
	if _, err := os.Stat(filepath.Join(path, "chdb")); err != nil {
		missing(t, "chdb (deploy/dev/services.sh up installs it)", err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		missing(t, "python3", err)
	}
	return c
}

// Run runs the statements in order in the session, one python process for
// all of them, and returns each one's result; a failed statement does not
// stop the others.
func (c *Chdb) Run(t testing.TB, queries ...string) []ChdbResult {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"path": filepath.Join(c.dir, "session"), "queries": queries})
	cmd := exec.Command("python3", "-c", chdbRunner)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+c.pythonPath)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chdb: %v\n%s", err, stderr.Bytes())
	}
	var res []ChdbResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(queries) {
		t.Fatalf("chdb: %d results for %d queries: %v", len(res), len(queries), errors.Join(err, errors.New(stderr.String())))
	}
	return res
}

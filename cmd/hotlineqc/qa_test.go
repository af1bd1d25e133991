package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `qa sample` draws the same calls from the same events in another order,
// lists each chosen call once with why, and never prints a caller number.
func TestQASampleCommand(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.ndjson")
	if _, _, err := runCLI(t, "simulate", "--out", events, "--span", "48h", "--start", "2026-10-12T00:00:00+08:00",
		"--centers", "1", "--seed", "5"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	shuffled := filepath.Join(dir, "shuffled.ndjson")
	if err := os.WriteFile(shuffled, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"qa", "sample", "--from", "2026-10-12", "--to", "2026-10-13", "--seed", "s1", "--per-agent", "3"}
	a, _, err := runCLI(t, append(args, "--events", events)...)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCLI(t, append(args, "--events", shuffled)...)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("the shuffled events gave another sample")
	}
	rows := strings.Split(strings.TrimSpace(a), "\n")
	if !strings.HasPrefix(rows[0], "\ufeff中心,话单编号,坐席工号,班组,队列,进线时间,通话时长(秒),抽取原因") || len(rows) < 20 {
		t.Fatalf("sample:\n%s", a)
	}
	seen, why := map[string]bool{}, map[string]int{}
	for _, r := range rows[1:] {
		f := strings.Split(r, ",")
		if seen[f[1]] {
			t.Errorf("%s listed twice", f[1])
		}
		seen[f[1]] = true
		why[f[7]]++
	}
	if why["随机抽取"] == 0 || why["差评必检"] == 0 {
		t.Errorf("reasons %v", why)
	}
	callers := regexp.MustCompile(`"caller":"([^"]+)"`).FindAllStringSubmatch(string(data), -1)
	if len(callers) == 0 {
		t.Fatal("the simulated events carry no caller numbers to look for")
	}
	for _, c := range callers {
		if strings.Contains(a, c[1]) {
			t.Fatalf("caller number %s in the sample", c[1])
		}
	}
	if _, _, err := runCLI(t, append(args[:len(args)-2], "--events", events, "--per-agent", "-1")...); err == nil {
		t.Error("--per-agent -1 accepted")
	}
}

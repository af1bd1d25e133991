package profile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Citizen needs (诉求, revision 1.2): the topic code table, repeat contacts
// and hot spots.

// Topic is one code of a centre's topic table (诉求分类).
type Topic struct {
	Code   string `yaml:"code"`
	Name   string `yaml:"name"`
	Parent string `yaml:"parent"`
}

// UnknownTopic is the dimension value of a topic not in the table.
const UnknownTopic = "unknown"

// Topics is a loaded code table: every code with its name and its
// ancestors. A nil *Topics is no table: every code is its own level 1.
type Topics struct {
	Source string // the file it was read from, for messages
	byCode map[string]topicEntry
}

type topicEntry struct {
	name string
	path []string // the code's ancestors from level 1, the code last
}

// Levels returns the dimension values of a topic code: its level-1 and
// level-2 ancestors and the code itself, each empty where the code is not
// that deep, and whether the table knows it. An empty code has empty
// levels; a code the table does not hold is "unknown" at every level.
// Without a table every code is its own level 1.
func (t *Topics) Levels(code string) (l1, l2, topic string, known bool) {
	switch {
	case code == "":
		return "", "", "", false
	case t == nil:
		return code, "", code, true
	}
	e, ok := t.byCode[code]
	if !ok {
		return UnknownTopic, UnknownTopic, UnknownTopic, false
	}
	l1 = e.path[0]
	if len(e.path) > 1 {
		l2 = e.path[1]
	}
	return l1, l2, code, true
}

// Known reports whether a non-empty code is in the table (always, without
// a table).
func (t *Topics) Known(code string) bool {
	_, _, _, ok := t.Levels(code)
	return ok
}

// At returns a known code's ancestor at level (1-based), or the code itself
// when it is not that deep: the group a code belongs to at that level.
func (t *Topics) At(code string, level int) string {
	if t == nil || code == "" {
		return code
	}
	e, ok := t.byCode[code]
	if !ok {
		return UnknownTopic
	}
	if level >= 1 && level <= len(e.path) {
		return e.path[level-1]
	}
	return code
}

// Name returns a code's name, empty when it has none or is unknown.
func (t *Topics) Name(code string) string {
	if t == nil {
		return ""
	}
	return t.byCode[code].name
}

// PathName returns a code's names from level 1 down, joined by " / "
// (城乡建设 / 供水 / 停水); empty without a table or for an unknown code.
func (t *Topics) PathName(code string) string {
	if t == nil {
		return ""
	}
	e, ok := t.byCode[code]
	if !ok {
		return ""
	}
	names := make([]string, 0, len(e.path))
	for _, c := range e.path {
		names = append(names, t.byCode[c].name)
	}
	return strings.Join(names, " / ")
}

// Codes returns every code, sorted.
func (t *Topics) Codes() []string {
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.byCode))
	for c := range t.byCode {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// HasChildren reports whether a code is another's parent.
func (t *Topics) HasChildren(code string) bool {
	if t == nil {
		return false
	}
	for _, e := range t.byCode {
		if len(e.path) > 1 && e.path[len(e.path)-2] == code {
			return true
		}
	}
	return false
}

// Len is the number of codes.
func (t *Topics) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byCode)
}

// ParseTopics reads a code table: CSV with the header code,name,parent
// (extra columns ignored), or a YAML list of {code, name, parent}, as
// the file name's extension says. Every parent must be a code of the
// table, and no code may be its own ancestor.
func ParseTopics(name string, b []byte) (*Topics, error) {
	var rows []Topic
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
		r.FieldsPerRecord = -1
		head, err := r.Read()
		if err != nil {
			return nil, fmt.Errorf("topics %s: %w", name, err)
		}
		col := map[string]int{}
		for i, h := range head {
			col[strings.TrimSpace(strings.ToLower(h))] = i
		}
		for _, k := range []string{"code", "name", "parent"} {
			if _, ok := col[k]; !ok {
				return nil, fmt.Errorf("topics %s: the header has no %q column (want code,name,parent)", name, k)
			}
		}
		for line := 2; ; line++ {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("topics %s: %w", name, err)
			}
			get := func(k string) string {
				if i := col[k]; i < len(rec) {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			if get("code") == "" {
				if strings.TrimSpace(strings.Join(rec, "")) == "" {
					continue
				}
				return nil, fmt.Errorf("topics %s: line %d: empty code", name, line)
			}
			rows = append(rows, Topic{Code: get("code"), Name: get("name"), Parent: get("parent")})
		}
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&rows); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("topics %s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("topics %s: want a .csv or .yaml file", name)
	}
	return newTopics(name, rows)
}

func newTopics(name string, rows []Topic) (*Topics, error) {
	parent := make(map[string]Topic, len(rows))
	for _, r := range rows {
		if r.Code == "" {
			return nil, fmt.Errorf("topics %s: a row without a code", name)
		}
		if _, dup := parent[r.Code]; dup {
			return nil, fmt.Errorf("topics %s: code %q given twice", name, r.Code)
		}
		if len([]rune(r.Code)) > 64 {
			return nil, fmt.Errorf("topics %s: code %q is longer than 64 characters (the contract's limit)", name, r.Code)
		}
		parent[r.Code] = r
	}
	t := &Topics{Source: name, byCode: make(map[string]topicEntry, len(rows))}
	for _, r := range rows {
		var up []string
		for c := r.Code; c != ""; c = parent[c].Parent {
			if len(up) > len(rows) {
				return nil, fmt.Errorf("topics %s: code %q is its own ancestor", name, r.Code)
			}
			if _, ok := parent[c]; !ok {
				return nil, fmt.Errorf("topics %s: code %q: parent %q is not in the table", name, up[len(up)-1], c)
			}
			up = append(up, c)
		}
		for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
			up[i], up[j] = up[j], up[i]
		}
		t.byCode[r.Code] = topicEntry{name: r.Name, path: up}
	}
	return t, nil
}

// LookBack is a look-back length: a Go duration ("36h", "0s") or whole
// days ("7d").
type LookBack time.Duration

// UnmarshalYAML accepts "7d" as well as Go durations.
func (l *LookBack) UnmarshalYAML(n *yaml.Node) error {
	d, err := parseLookBack(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*l = LookBack(d)
	return nil
}

// MarshalYAML writes whole days as "Nd".
func (l LookBack) MarshalYAML() (any, error) {
	d := time.Duration(l)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d", nil
	}
	return d.String(), nil
}

func parseLookBack(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q: want whole days such as 7d, or a duration such as 36h", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want whole days such as 7d, or a duration such as 36h", s)
	}
	return d, nil
}

// RepeatCall sets repeat_call_rate.
type RepeatCall struct {
	Window LookBack `yaml:"window"`  // an earlier call at most this long before (inclusive)
	MinGap LookBack `yaml:"min_gap"` // and at least this long before
}

// RepeatRequest sets repeat_request_rate.
type RepeatRequest struct {
	Window LookBack `yaml:"window"`
	Level  int      `yaml:"level"` // the topic level two requests must share
}

// Hotspot sets the hot-spot detection (热点诉求).
type Hotspot struct {
	BaselineDays int     `yaml:"baseline_days"`
	MinCount     int     `yaml:"min_count"`
	Z            float64 `yaml:"z"`
	Level        int     `yaml:"level"` // the topic level of the live alert and the export
	// BaselineBy is the days μ averages: all_days (the definition: every
	// day of the baseline) or day_type (variant: only the baseline's days
	// of the same type as d, working or rest days on the profile's
	// calendar, so that a weekday is not compared with a mean lowered by
	// weekends).
	BaselineBy string `yaml:"baseline_by"`
}

// Hot-spot baselines.
const (
	BaselineAllDays = "all_days"
	BaselineDayType = "day_type"
)

package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTopicLevels(t *testing.T) {
	csv := "\xef\xbb\xbfcode,name,parent,note\n01,城乡建设,,\n0101,供水,01,\n010101,停水,0101,x\n02,交通运输,\n"
	tb, err := ParseTopics("t.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	yml := "- {code: '01', name: 城乡建设}\n- {code: '0101', name: 供水, parent: '01'}\n- {code: '010101', name: 停水, parent: '0101'}\n- {code: '02', name: 交通运输}\n"
	ty, err := ParseTopics("t.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code               string
		l1, l2, topic, at2 string
		known              bool
	}{
		{"010101", "01", "0101", "010101", "0101", true},
		{"0101", "01", "0101", "0101", "0101", true},
		{"01", "01", "", "01", "01", true},
		{"9999", UnknownTopic, UnknownTopic, UnknownTopic, UnknownTopic, false},
		{"", "", "", "", "", false},
	} {
		for _, table := range []*Topics{tb, ty} {
			l1, l2, topic, known := table.Levels(tc.code)
			if l1 != tc.l1 || l2 != tc.l2 || topic != tc.topic || known != tc.known || table.At(tc.code, 2) != tc.at2 {
				t.Errorf("%s %q: %q %q %q %v at2 %q", table.Source, tc.code, l1, l2, topic, known, table.At(tc.code, 2))
			}
		}
	}
	if tb.Name("0101") != "供水" || tb.Len() != 4 {
		t.Errorf("name %q, %d codes", tb.Name("0101"), tb.Len())
	}
	var none *Topics // no table: every code its own level 1
	if l1, l2, topic, known := none.Levels("x1"); l1 != "x1" || l2 != "" || topic != "x1" || !known || none.At("x1", 2) != "x1" {
		t.Errorf("no table: %q %q %q %v", l1, l2, topic, known)
	}
}

func TestTopicTableErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"a.csv", "code,name\n01,x\n", `no "parent" column`},
		{"a.csv", "code,name,parent\n01,x,09\n", `parent "09" is not in the table`},
		{"a.csv", "code,name,parent\n01,x,\n01,y,\n", `"01" given twice`},
		{"a.csv", "code,name,parent\n01,x,02\n02,y,01\n", "its own ancestor"},
		{"a.txt", "", "want a .csv or .yaml file"},
		{"a.yaml", "- {code: '01', nom: x}\n", "nom"},
	} {
		_, err := ParseTopics(tc.name, []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want %q", tc.name, tc.body, err, tc.want)
		}
	}
}

// A profile names its table relative to its own file; the built-in
// example table loads from the embedded pipelines; the look-backs take
// days.
func TestProfileTopicsAndNeeds(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.csv"), []byte("code,name,parent\nA,甲,\nA1,甲一,A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.yaml")
	body := "base: gbt33358-2016\nid: mine\ntopics: mine.csv\nrepeat_call: {window: 3d, min_gap: 90s}\nrepeat_request: {window: 14d, level: 1}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.TopicTable.Len() != 2 || p.TopicTable.At("A1", 1) != "A" {
		t.Errorf("table %+v", p.TopicTable)
	}
	if time.Duration(p.RepeatCall.Window) != 72*time.Hour || time.Duration(p.RepeatCall.MinGap) != 90*time.Second ||
		time.Duration(p.RepeatRequest.Window) != 14*24*time.Hour || p.RepeatRequest.Level != 1 || p.Hotspot.BaselineDays != 28 {
		t.Errorf("needs %+v %+v %+v", p.RepeatCall, p.RepeatRequest, p.Hotspot)
	}
	d := Default()
	if d.TopicTable != nil || time.Duration(d.RepeatCall.Window) != 7*24*time.Hour || time.Duration(d.RepeatRequest.Window) != 30*24*time.Hour ||
		d.RepeatRequest.Level != 2 || d.Hotspot != (Hotspot{BaselineDays: 28, MinCount: 10, Z: 3, Level: 2, BaselineBy: BaselineAllDays}) {
		t.Errorf("default needs %+v %+v %+v %+v", d.TopicTable, d.RepeatCall, d.RepeatRequest, d.Hotspot)
	}
	if err := os.WriteFile(path, []byte("base: gbt33358-2016\nid: x\ntopics: missing.csv\n"), 0o600); err == nil {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "topics") {
			t.Errorf("missing table: %v", err)
		}
	}
	if err := os.WriteFile(path, []byte("base: gbt33358-2016\nid: x\nrepeat_call: {window: 7days}\n"), 0o600); err == nil {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "line 3: \"7days\": want whole days") {
			t.Errorf("bad window: %v", err)
		}
	}
}

package adapter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
)

// A mapping using every kind of time and value, applied to one row each.
const featureMapping = `
id: f
timezone: Asia/Shanghai
time_formats: [epoch_ms, "YYYY年MM月DD日 HH时mm分ss秒", "YYYY-MM-DD HH:mm", rfc3339]
none: ["--"]
center_id: {value: "{centre}", map: {深圳: c440300}, default: other}
call_id: "k-{id}"
record_id: "{id}"
records: {column: "{kind}", not_in: [outbound]}
events:
  - name: queued
    type: call.queued
    time: "{start}"
    fields: {queue: "{queue|$queue}"}
  - name: answered
    type: call.answered
    when: {column: "{wait}", matches: "^[0-9:.]+$"}
    time: {value: "{start}", plus: "{wait}"}
    not_before: queued
    fields: {agent_id: "{agent}"}
`

func TestMapRow(t *testing.T) {
	cases := []struct{ name, row, want string }{
		{"epoch ms and a plus in seconds", "1,1760230800000,12.5,深圳,,a1,inbound",
			`{"event_id":"f:1:queued","type":"call.queued","ts":"2025-10-12T09:00:00.000+08:00","center_id":"c440300","call_id":"k-1","queue":"hotline"}` + "\n" +
				`{"event_id":"f:1:answered","type":"call.answered","ts":"2025-10-12T09:00:12.500+08:00","center_id":"c440300","call_id":"k-1","agent_id":"a1"}`},
		{"chinese pattern, H:MM:SS plus, default centre, queue column", "2,2026年10月9日 9时5分3秒,0:01:05,广州,q9,a2,inbound",
			`{"event_id":"f:2:queued","type":"call.queued","ts":"2026-10-09T09:05:03.000+08:00","center_id":"other","call_id":"k-2","queue":"q9"}` + "\n" +
				`{"event_id":"f:2:answered","type":"call.answered","ts":"2026-10-09T09:06:08.000+08:00","center_id":"other","call_id":"k-2","agent_id":"a2"}`},
		{"offset kept from rfc3339, placeholder means no answer", "3,2026-10-09T01:00:00Z,--,深圳,,a3,inbound",
			`{"event_id":"f:3:queued","type":"call.queued","ts":"2026-10-09T09:00:00.000+08:00","center_id":"c440300","call_id":"k-3","queue":"hotline"}`},
		{"filtered", "4,2026-10-09 09:00,5,深圳,,a4,outbound", "skipped filtered"},
		{"time in no format", "5,09/10/2026,5,深圳,,a5,inbound", "rejected bad_time"},
		{"no time", "6,,5,深圳,,a6,inbound", "rejected missing_time"},
		{"answered without agent", "7,2026-10-09 09:00,5,深圳,,,inbound", "rejected missing_field"},
		{"bad duration", "8,2026-10-09 09:00,5..1,深圳,,a8,inbound", "rejected bad_time"},
	}
	m, err := adapter.ParseMapping("feature", []byte(featureMapping))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.csv")
			os.WriteFile(path, []byte("id,start,wait,centre,queue,agent,kind\n"+c.row+"\n"), 0o644)
			var out bytes.Buffer
			sum, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path},
				Vars: map[string]string{"queue": "hotline"}, Sink: adapter.NewNDJSONSink(&out)})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(out.String())
			for r := range sum.Skipped {
				got = "skipped " + r
			}
			for r := range sum.Rejected {
				got = "rejected " + r
			}
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestGB18030Export(t *testing.T) {
	utf8, err := os.ReadFile("testdata/tickets.csv")
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := encodeGB18030(bytes.TrimPrefix(utf8, []byte("\ufeff")))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tickets-gbk.csv")
	os.WriteFile(path, gbk, 0o644)
	m, err := adapter.LoadMapping("ticket-example")
	if err != nil {
		t.Fatal(err)
	}
	m.CSV.Encoding = "gb18030"
	var out bytes.Buffer
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path},
		Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&out)}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/tickets.events.ndjson")
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("a GB18030 export gives other events than its UTF-8 copy:\n%s", out.String())
	}
}

func encodeGB18030(b []byte) ([]byte, error) {
	return simplifiedchinese.GB18030.NewEncoder().Bytes(b)
}

// Without a record_id, each row's events are named by a hash of the row:
// two rows never share an id, and the same row read again keeps its ids.
func TestDefaultRecordID(t *testing.T) {
	m, err := adapter.ParseMapping("noid", []byte(`
id: n
center_id: c1
call_id: "{id}"
events: [{name: q, type: call.queued, time: "{t}", fields: {queue: q}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(path, []byte("id,t\nk1,2026-10-09 09:00:00\nk2,2026-10-09 09:00:00\nk1,2026-10-09 09:00:00\n"), 0o644)
	var out bytes.Buffer
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, Sink: adapter.NewNDJSONSink(&out)}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	id := func(l string) string { return l[:strings.Index(l, `","type"`)] }
	if len(lines) != 3 || id(lines[0]) == id(lines[1]) || id(lines[0]) != id(lines[2]) {
		t.Errorf("ids:\n%s", out.String())
	}
}

// The fast time writer agrees with time.Format on every day from 1970 to
// 2105, in zones east and west and at UTC.
func TestTimeWriterAgreesWithFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("W", -(3*3600 + 30*60))}
	for _, loc := range zones {
		for ts := time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC); ts.Year() < 2106; ts = ts.Add(24*time.Hour + 7*time.Minute + 1234567*time.Microsecond) {
			want := ts.In(loc).Format("2006-01-02T15:04:05.000Z07:00")
			if got := adapter.FormatTS(ts.In(loc)); got != want {
				t.Fatalf("%s: %s", want, got)
			}
		}
	}
}

// extract keeps a part of a value, plus_unit reads durations in ms, and
// excel reads the serial dates a spreadsheet export may hold.
func TestExtractUnitsExcel(t *testing.T) {
	m, err := adapter.ParseMapping("x", []byte(`
id: x
time_formats: [excel]
center_id: c1
call_id: "{id}"
record_id: "{id}"
events:
  - name: answered
    type: call.answered
    time: {value: "{start}", plus: "{wait_ms}", plus_unit: ms}
    fields:
      agent_id: {value: "{agent}", extract: "^SIP/([0-9]+)$"}
      queue: {value: "{queue}", extract: "^[^@]+"}
`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	// 46304.375 is 2026-10-09 09:00 (Excel counts days from 1899-12-30).
	os.WriteFile(path, []byte("id,start,wait_ms,agent,queue\nk1,46304.375,12500,SIP/7001,support@default\nk2,46304.375,0,Local/7002,q\n"), 0o644)
	var out bytes.Buffer
	sum, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, Sink: adapter.NewNDJSONSink(&out)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event_id":"x:k1:answered","type":"call.answered","ts":"2026-10-09T09:00:12.500+08:00","center_id":"c1","call_id":"k1","agent_id":"7001","queue":"support"}`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// k2's agent does not match: no agent_id, which call.answered requires.
	if sum.Rejected["missing_field"] != 1 {
		t.Errorf("summary %v", sum.Lines())
	}
}

// A file of one day's times of day takes its date from a variable.
func TestTimeOfDayOnAFixedDate(t *testing.T) {
	m, err := adapter.ParseMapping("d", []byte(`
id: d
time_formats: ["YYYY-MM-DD HH:mm:ss"]
center_id: c1
call_id: "{id}"
record_id: "{id}"
events:
  - {name: queued, type: call.queued, time: {date: "{$date}", value: "{t}"}, fields: {queue: q}}
`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(path, []byte("id,t\nk1,9:05:00\n"), 0o644)
	var out bytes.Buffer
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, Sink: adapter.NewNDJSONSink(&out)}); err == nil {
		t.Fatal("no error without the date variable")
	}
	if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, Sink: adapter.NewNDJSONSink(&out),
		Vars: map[string]string{"date": "2026-10-09"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"ts":"2026-10-09T09:05:00.000+08:00"`) {
		t.Errorf("got %s", out.String())
	}
}

// A CSV export with a title line above its header (skip_rows).
func TestCSVSkipRows(t *testing.T) {
	m, err := adapter.LoadMapping("cdr-example")
	if err != nil {
		t.Fatal(err)
	}
	m.SkipRows = 2
	csv, _ := os.ReadFile("testdata/cdr.csv")
	path := filepath.Join(t.TempDir(), "cdr.csv")
	os.WriteFile(path, append([]byte("话单导出,2026-10-12\n导出人,张三,,,,,\n"), csv...), 0o644)
	var out bytes.Buffer
	sum, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path},
		Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&out)})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/cdr.events.ndjson")
	if !bytes.Equal(out.Bytes(), want) || sum.Records != 10 {
		t.Errorf("%v\n%s", sum.Lines(), out.String())
	}
}

package adapter_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
)

// The 工单 fixture saved as a workbook with a title row above the header
// (skip_rows) gives the same events as the CSV, and resumes by row.
func TestXLSXExport(t *testing.T) {
	b, err := os.ReadFile("testdata/tickets.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "工单")
	f.SetCellValue("工单", "A1", "12345热线工单导出（2026年10月）")
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
			if v != "" {
				f.SetCellStr("工单", cell, v)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "工单.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	m, err := adapter.LoadMapping("ticket-example")
	if err != nil {
		t.Fatal(err)
	}
	m.Reader, m.SkipRows = adapter.ReaderXLSX, 1
	resume := filepath.Join(t.TempDir(), "state.json")
	run := func() []byte {
		var out bytes.Buffer
		if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, State: resume,
			Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&out)}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	want, _ := os.ReadFile("testdata/tickets.events.ndjson")
	if got := run(); !bytes.Equal(got, want) {
		t.Errorf("workbook events differ from the CSV's:\n%s", got)
	}
	if again := run(); len(again) != 0 {
		t.Errorf("a resumed run emitted again:\n%s", again)
	}
}

// Date cells are read as Excel shows them, or as serial numbers with
// raw_values and the excel time format.
func TestXLSXDateCells(t *testing.T) {
	f := excelize.NewFile()
	style, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	f.SetCellStr("Sheet1", "A1", "id")
	f.SetCellStr("Sheet1", "B1", "入队时间")
	f.SetCellStr("Sheet1", "A2", "k1")
	f.SetCellValue("Sheet1", "B2", time.Date(2026, 10, 9, 9, 5, 3, 0, time.UTC))
	f.SetCellStyle("Sheet1", "B2", "B2", style)
	path := filepath.Join(t.TempDir(), "calls.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, extra string }{
		{"formatted", "time_formats: [\"YYYY-MM-DD HH:mm:ss\"]"},
		{"raw", "xlsx: {raw_values: true}\ntime_formats: [excel]"},
	} {
		m, err := adapter.ParseMapping(c.name, []byte("id: x\nreader: xlsx\n"+c.extra+`
center_id: c1
call_id: "{id}"
record_id: "{id}"
events: [{name: q, type: call.queued, time: "{入队时间}", fields: {queue: q}}]
`))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path}, Sink: adapter.NewNDJSONSink(&out)}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"ts":"2026-10-09T09:05:03.000+08:00"`) {
			t.Errorf("%s: %s", c.name, out.String())
		}
	}
}

func ptr[T any](v T) *T { return &v }

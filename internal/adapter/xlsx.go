package adapter

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSXOptions says how a workbook export is read.
type XLSXOptions struct {
	// Sheet is the worksheet to read; the first one when empty.
	Sheet string `yaml:"sheet"`
	// RawValues reads cells as stored (a date as its serial number, for the
	// `excel` time format) instead of as Excel displays them.
	RawValues bool `yaml:"raw_values"`
}

// xlsxReader reads the rows of one worksheet: the header row after
// SkipRows, then one record per non-empty row. A record's line is its row
// number; its offset too, which is where a resumed run starts.
type xlsxReader struct {
	f    *excelize.File
	rows *excelize.Rows
	cols []string
	row  int
	from int // rows up to this one were read by an earlier run
	rec  Record
}

func newXLSXReader(in io.Reader, opts XLSXOptions, skip int, pos position) (*xlsxReader, error) {
	f, err := excelize.OpenReader(in, excelize.Options{RawCellValue: opts.RawValues})
	if err != nil {
		return nil, fmt.Errorf("not an .xlsx workbook: %w", err)
	}
	sheet := opts.Sheet
	if sheet == "" {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sheet %q: %w (sheets: %s)", sheet, err, strings.Join(f.GetSheetList(), ", "))
	}
	x := &xlsxReader{f: f, rows: rows, from: int(pos.Offset)}
	for x.rows.Next() {
		x.row++
		if x.row <= skip {
			continue
		}
		h, err := x.rows.Columns()
		if err != nil {
			return nil, err
		}
		if blank(h) {
			continue
		}
		for _, c := range h {
			x.cols = append(x.cols, strings.TrimSpace(c))
		}
		return x, nil
	}
	x.Close()
	return nil, io.EOF // no header: an empty sheet
}

func (x *xlsxReader) header() []string { return x.cols }

func (x *xlsxReader) next() (*Record, error) {
	for x.rows.Next() {
		x.row++
		if x.row <= x.from {
			continue
		}
		cells, err := x.rows.Columns()
		if err != nil {
			return nil, &badRecord{line: x.row, offset: int64(x.row), detail: err.Error()}
		}
		if blank(cells) {
			continue
		}
		// A row stops at its last non-empty cell; cells past the header
		// (notes beside the table) are not columns.
		vals := make([]string, len(x.cols))
		copy(vals, cells)
		x.rec = Record{Line: x.row, Offset: int64(x.row), cols: vals}
		return &x.rec, nil
	}
	if err := x.rows.Error(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// Close releases the workbook.
func (x *xlsxReader) Close() error {
	if x.rows != nil {
		x.rows.Close()
	}
	return x.f.Close()
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

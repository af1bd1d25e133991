package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// numFmts are Excel number formats by cell format.
var numFmts = map[Format]string{Integer: "0", Percent: "0.00%", Decimal1: "0.0", Decimal2: "0.00"}

// WriteXLSX writes the report as a workbook: one sheet per table, Chinese
// headings, the header row frozen, number formats and column widths set.
func (r *Report) WriteXLSX(w io.Writer) error { return WriteWorkbook(w, r.Tables()) }

// WriteWorkbook writes tables as a workbook, one sheet each.
func WriteWorkbook(w io.Writer, tables []Table) error {
	f := excelize.NewFile()
	defer f.Close()
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	if err != nil {
		return err
	}
	styles := map[Format]int{}
	for ft, code := range numFmts {
		code := code
		if styles[ft], err = f.NewStyle(&excelize.Style{CustomNumFmt: &code}); err != nil {
			return err
		}
	}
	for i, t := range tables {
		if err := writeSheet(f, i, t, header, styles); err != nil {
			return fmt.Errorf("sheet %s: %w", t.Name, err)
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func writeSheet(f *excelize.File, i int, t Table, header int, styles map[Format]int) error {
	if i == 0 {
		if err := f.SetSheetName("Sheet1", t.Name); err != nil {
			return err
		}
	} else if _, err := f.NewSheet(t.Name); err != nil {
		return err
	}
	hdr := make([]any, len(t.Headers))
	for j, h := range t.Headers {
		hdr[j] = h
	}
	if err := f.SetSheetRow(t.Name, "A1", &hdr); err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(t.Headers), 1)
	if err := f.SetCellStyle(t.Name, "A1", last, header); err != nil {
		return err
	}
	for ri, row := range t.Rows {
		for ci, c := range row {
			cell, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
			if c.Value == nil {
				continue
			}
			if err := f.SetCellValue(t.Name, cell, c.Value); err != nil {
				return err
			}
			if st, ok := styles[c.Format]; ok {
				if _, isNum := c.Value.(float64); isNum {
					if err := f.SetCellStyle(t.Name, cell, cell, st); err != nil {
						return err
					}
				}
			}
		}
	}
	for ci, w := range t.Widths {
		col, _ := excelize.ColumnNumberToName(ci + 1)
		if err := f.SetColWidth(t.Name, col, col, w); err != nil {
			return err
		}
	}
	return f.SetPanes(t.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

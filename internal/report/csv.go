package report

import (
	"encoding/csv"
	"io"
	"strconv"
)

// bom makes Excel read the CSV as UTF-8.
const bom = "\ufeff"

// WriteCSV writes one table as CSV, UTF-8 with a byte order mark. Numbers
// are written plainly (a rate as 0.9512), so that they can be computed on.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Headers); err != nil {
		return err
	}
	for _, row := range t.Rows {
		rec := make([]string, len(row))
		for i, c := range row {
			switch v := c.Value.(type) {
			case string:
				rec[i] = v
			case float64:
				rec[i] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

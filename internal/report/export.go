package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Formats of the export.
var Formats = []string{"xlsx", "csv", "html"}

// ParseFormats parses a comma-separated list of formats.
func ParseFormats(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("format %q: want a list of xlsx, csv, html", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// Export writes the reports of the month for the centre (every centre with
// data when center is "") into dir and returns the files written.
func Export(src Source, set *profile.Set, month, center string, formats []string, dir string) ([]string, error) {
	centers := []string{center}
	if center == "" {
		var err error
		if centers, err = Centers(src, month); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, c := range centers {
		r, err := Build(src, set.For(c), month, c)
		if err != nil {
			return written, err
		}
		files, err := r.write(formats, dir)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// write writes the report's files: <center>-<month>.xlsx, one
// <center>-<month>-<table>.csv per table, <center>-<month>.html.
func (r *Report) write(formats []string, dir string) ([]string, error) {
	return WriteFormats(filepath.Join(dir, r.Center+"-"+r.Month), formats, r.Tables(), r.WriteXLSX, r.WriteHTML)
}

// WriteFormats writes base.xlsx, base-<table>.csv per table and base.html,
// as formats asks, and returns the files written.
func WriteFormats(base string, formats []string, tables []Table, xlsx, html func(io.Writer) error) ([]string, error) {
	var out []string
	put := func(path string, fill func(io.Writer) error) error {
		var b bytes.Buffer
		if err := fill(&b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, path)
		return os.WriteFile(path, b.Bytes(), 0o644)
	}
	for _, f := range formats {
		var err error
		switch f {
		case "xlsx":
			err = put(base+".xlsx", xlsx)
		case "html":
			err = put(base+".html", html)
		case "csv":
			for _, t := range tables {
				if err = put(base+"-"+t.Slug+".csv", func(w io.Writer) error { return WriteCSV(w, t) }); err != nil {
					break
				}
			}
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

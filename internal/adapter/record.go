package adapter

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/valyala/fastjson"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Record is one source record: a CSV row, a queue_log line or a JSON
// object. Line is the line it starts on; Offset is the input offset just
// after it, where reading resumes.
type Record struct {
	Line   int
	Offset int64
	cols   []string        // csv, queue_log: values by column
	obj    *fastjson.Value // json
	raw    []byte          // the record as read (json, queue_log); built for csv
}

// get returns a column's or path's raw value.
func (r *Record) get(x *ref) (string, bool) {
	if r.obj == nil {
		if x.col < 0 || x.col >= len(r.cols) {
			return "", false
		}
		return r.cols[x.col], true
	}
	v := r.obj.Get(x.path...)
	if v == nil {
		return "", false
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes()), true
	case fastjson.TypeNull:
		return "", false
	case fastjson.TypeObject, fastjson.TypeArray:
		return "", false
	default:
		return string(v.MarshalTo(nil)), true
	}
}

// bytes returns the record as read, for its hash.
func (r *Record) bytes() []byte {
	if r.raw == nil {
		r.raw = []byte(strings.Join(r.cols, "\x1f"))
	}
	return r.raw
}

// reader splits an input into records.
type reader interface {
	// header returns the column names, nil for JSON records.
	header() []string
	// next returns the next record, io.EOF at the end, or a *badRecord for
	// input it cannot split (after which it can go on).
	next() (*Record, error)
}

// badRecord is input a reader could not split into a record.
type badRecord struct {
	line   int
	offset int64
	detail string
	raw    []byte
}

func (e *badRecord) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.detail) }

// decodeText wraps r to read the given encoding as UTF-8.
func decodeText(r io.Reader, encoding string) io.Reader {
	if transcoded(encoding) {
		return transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
	}
	return r
}

// transcoded reports whether an encoding is decoded to UTF-8 on reading.
func transcoded(encoding string) bool {
	return encoding == "gb18030" || encoding == "gbk" || encoding == "gb2312"
}

// csvReader reads a CSV export, header first unless the mapping names the
// columns.
type csvReader struct {
	r     *csv.Reader
	cols  []string
	base  int64 // offset of the start of what r reads
	line0 int   // lines before what r reads
}

// newCSVReader reads from r, which starts at offset base on line line0+1.
// A header is read from hdr (the file's first line) when resuming.
func newCSVReader(r io.Reader, opts CSVOptions, skip int, hdr io.Reader, base int64, line0 int) (*csvReader, error) {
	c := &csvReader{r: newCSV(r, opts), base: base, line0: line0, cols: opts.Columns}
	if c.cols != nil {
		return c, nil
	}
	from := c.r
	if hdr != nil {
		from = newCSV(hdr, opts)
	}
	for range skip { // rows before the header: a title, the export's date
		if _, err := from.Read(); err != nil && !errors.Is(err, csv.ErrFieldCount) {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("row before the header: %w", err)
		}
	}
	h, err := from.Read()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF // an empty input
		}
		return nil, fmt.Errorf("header row: %w", err)
	}
	c.cols = make([]string, len(h))
	for i, name := range h {
		c.cols[i] = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
	}
	return c, nil
}

func newCSV(r io.Reader, opts CSVOptions) *csv.Reader {
	c := csv.NewReader(r)
	c.Comma = []rune(opts.Delimiter)[0]
	c.LazyQuotes = true
	c.FieldsPerRecord = -1
	return c
}

func (c *csvReader) header() []string { return c.cols }

func (c *csvReader) next() (*Record, error) {
	for {
		row, err := c.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		off := c.base + c.r.InputOffset()
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, &badRecord{line: c.line0 + line, offset: off, detail: err.Error()}
		}
		line, _ := c.r.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // a blank line
		}
		if len(row) != len(c.cols) {
			return nil, &badRecord{line: c.line0 + line, offset: off, raw: []byte(strings.Join(row, string(c.r.Comma))),
				detail: fmt.Sprintf("the row has %d fields, the header %d", len(row), len(c.cols))}
		}
		return &Record{Line: c.line0 + line, Offset: off, cols: row}, nil
	}
}

// QueueLogColumns are the column names of an Asterisk queue_log line (and
// of its database table).
var QueueLogColumns = []string{"time", "callid", "queuename", "agent", "event",
	"data1", "data2", "data3", "data4", "data5", "data6", "data7", "data8", "data9", "data10"}

// lineReader reads a file line by line.
type lineReader struct {
	r    *bufio.Reader
	off  int64
	line int
}

func (l *lineReader) readLine() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull {
			b, err = l.r.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	if len(b) == 0 && err != nil {
		return nil, err
	}
	l.off += int64(len(b))
	l.line++
	return bytes.TrimRight(b, "\r\n"), nil
}

// queueLogReader reads an Asterisk queue_log file:
// time|callid|queuename|agent|event|data1|data2|...
// The record it returns is reused by the next call.
type queueLogReader struct {
	lineReader
	rec Record
}

func (q *queueLogReader) header() []string { return QueueLogColumns }

func (q *queueLogReader) next() (*Record, error) {
	for {
		b, err := q.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		n := bytes.Count(b, []byte{'|'}) + 1
		if n < 5 || n > len(QueueLogColumns) {
			return nil, &badRecord{line: q.line, offset: q.off, raw: append([]byte(nil), b...),
				detail: fmt.Sprintf("a queue_log line has 5 to %d fields separated by |, this one %d", len(QueueLogColumns), n)}
		}
		line := string(b)
		r := &q.rec
		*r = Record{Line: q.line, Offset: q.off, cols: r.cols[:0], raw: b}
		for {
			i := strings.IndexByte(line, '|')
			if i < 0 {
				r.cols = append(r.cols, line)
				break
			}
			r.cols = append(r.cols, line[:i])
			line = line[i+1:]
		}
		return r, nil
	}
}

// jsonReader reads JSON objects: one per line, concatenated without
// separators (as Amazon Connect's Firehose delivery writes them), in a
// top-level array, or one pretty-printed object per file.
type jsonReader struct {
	r    *bufio.Reader
	off  int64
	line int // lines read so far
	p    fastjson.Parser
	buf  []byte
	rec  Record
}

func (j *jsonReader) header() []string { return nil }

// next returns the next object; the record is reused by the next call.
func (j *jsonReader) next() (*Record, error) {
	for {
		c, err := j.r.ReadByte()
		if err != nil {
			return nil, err
		}
		j.off++
		switch c {
		case '\n':
			j.line++
		case ' ', '\t', '\r', ',', '[', ']':
		case '{':
			return j.object()
		default:
			return nil, j.skip(fmt.Sprintf("unexpected %q between JSON objects", c))
		}
	}
}

// object reads the rest of an object whose '{' was just read, scanning
// the reader's buffer a chunk at a time.
func (j *jsonReader) object() (*Record, error) {
	start := j.line + 1
	j.buf = append(j.buf[:0], '{')
	depth, inString, escaped := 1, false, false
	for depth > 0 {
		chunk, err := j.r.Peek(max(1, j.r.Buffered()))
		if len(chunk) == 0 {
			if err == io.EOF || err == nil {
				return nil, &badRecord{line: start, offset: j.off, detail: "the input ends inside a JSON object", raw: j.buf}
			}
			return nil, err
		}
		n := 0
		for n < len(chunk) && depth > 0 {
			c := chunk[n]
			n++
			switch {
			case c == '\n':
				j.line++
			case escaped:
				escaped = false
			case inString:
				if c == '\\' {
					escaped = true
				} else if c == '"' {
					inString = false
				}
			case c == '"':
				inString = true
			case c == '{':
				depth++
			case c == '}':
				depth--
			}
		}
		j.buf = append(j.buf, chunk[:n]...)
		j.r.Discard(n)
		j.off += int64(n)
	}
	v, err := j.p.ParseBytes(j.buf)
	if err != nil {
		return nil, &badRecord{line: start, offset: j.off, detail: "malformed JSON object", raw: append([]byte(nil), j.buf...)}
	}
	j.rec = Record{Line: start, Offset: j.off, obj: v, raw: j.buf}
	return &j.rec, nil
}

// skip discards input up to the next line and reports it as bad.
func (j *jsonReader) skip(detail string) error {
	line := j.line + 1
	rest, _ := j.r.ReadSlice('\n')
	j.off += int64(len(rest))
	if len(rest) > 0 && rest[len(rest)-1] == '\n' {
		j.line++
	}
	return &badRecord{line: line, offset: j.off, detail: detail}
}

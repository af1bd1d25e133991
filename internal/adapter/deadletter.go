package adapter

import (
	"bufio"
	"io"
	"strconv"
)

// DeadLetter writes rejected records as JSON lines: the input, line,
// reason and detail, and the values of the columns the mapping reads
// (only those: an export's other columns often hold names, addresses and
// complaint texts). The values of the columns mapped to `caller` are
// replaced by their keyed hash, as events-v1 requires of a dead-letter
// record; the whole record as read is kept only when Raw is set.
type DeadLetter struct {
	w *bufio.Writer
	// HashCaller returns the keyed hash of a phone number.
	HashCaller func(string) string
	// Raw also keeps the record as read, phone numbers included, for a
	// dead-letter file the deployment protects itself.
	Raw bool

	refs   []*ref
	caller map[string]bool
	buf    []byte
}

// NewDeadLetter writes dead-letter lines to w.
func NewDeadLetter(w io.Writer, hashCaller func(string) string) *DeadLetter {
	return &DeadLetter{w: bufio.NewWriter(w), HashCaller: hashCaller}
}

// bind collects the mapping's column references, and which feed `caller`.
func (d *DeadLetter) bind(m *Mapping) {
	d.refs, d.caller = nil, map[string]bool{}
	seen := map[string]bool{}
	m.refs(func(r *ref) {
		if !r.isVar && !seen[r.name] {
			seen[r.name] = true
			d.refs = append(d.refs, r)
		}
	})
	for i := range m.Events {
		if v, ok := m.Events[i].Fields["caller"]; ok {
			v.refs(func(r *ref) { d.caller[r.name] = true })
		}
	}
}

func (d *DeadLetter) write(path string, line int, rec *Record, r *Rejection, raw []byte, x *mapping) {
	b := append(d.buf[:0], `{"file":`...)
	b = appendString(b, path)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, `,"reason":`...)
	b = appendString(b, r.Reason)
	b = append(b, `,"error":`...)
	b = appendString(b, r.Detail)
	if rec != nil {
		b = append(b, `,"fields":{`...)
		first := true
		for _, f := range d.refs {
			v, ok := rec.get(f)
			if !ok {
				continue
			}
			if d.caller[f.name] && v != "" {
				v = d.HashCaller(v)
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, f.name)
			b = append(b, ':')
			b = appendString(b, v)
		}
		b = append(b, '}')
		if raw == nil {
			raw = rec.bytes()
		}
	}
	if d.Raw && raw != nil {
		b = append(b, `,"raw":`...)
		b = appendString(b, string(raw))
	}
	b = append(b, "}\n"...)
	d.buf = b
	d.w.Write(b)
}

func (d *DeadLetter) flush() error { return d.w.Flush() }

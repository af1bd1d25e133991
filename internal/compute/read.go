// Package compute is the batch path: it reads NDJSON event files, decodes
// them in parallel with the strict decoder, feeds the indicator engine in
// file order, and writes the results as JSON, a table or CSV.
package compute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/hotlineqc/hotlineqc/internal/privacy"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Reject is a bad input line. Raw is only valid during the reject callback.
type Reject struct {
	File   string
	Line   int
	Reason event.Reason
	Err    error
	Raw    []byte
}

// chunk is a run of whole lines of one file.
type chunk struct {
	file  string
	line  int // number of the first line
	data  []byte
	out   chan decoded
	long  []int // numbers of lines skipped because they exceed the size limit
	longN []int // their sizes
}

type decoded struct {
	events  []event.Event
	rejects []Reject
}

const chunkBytes = 1 << 20

// Decode reads the files in order and calls apply with every batch of
// accepted events and reject with every bad line, in file and line order.
// Decoding runs on all cores; apply and reject run on the calling
// goroutine, and a batch is not used after apply returns.
func Decode(ctx context.Context, files []string, maxBytes int, apply func([]event.Event), reject func(Reject)) error {
	return DecodeProgress(ctx, files, maxBytes, nil, apply, reject)
}

// DecodeProgress is Decode that also reports the bytes read so far to
// progress (if not nil), from the reading goroutine.
func DecodeProgress(ctx context.Context, files []string, maxBytes int, progress func(int64), apply func([]event.Event), reject func(Reject)) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	todo := make(chan *chunk, workers*2)
	order := make(chan *chunk, workers*2)
	errc := make(chan error, 1)
	go func() {
		defer close(todo)
		defer close(order)
		errc <- split(ctx, files, maxBytes, progress, todo, order)
	}()
	// Callers are told apart by a keyed hash whose key lives only for
	// this run (repeat calls and requests): no number is kept.
	hasher := privacy.Ephemeral()
	for range workers {
		h := hasher.Clone()
		go func() {
			d := event.Decoder{MaxBytes: maxBytes, HashCaller: h.Hash}
			for c := range todo {
				c.out <- decodeChunk(&d, c, maxBytes)
			}
		}()
	}
	for c := range order {
		d := <-c.out
		apply(d.events)
		for _, r := range d.rejects {
			reject(r)
		}
		// Both buffers go back for reuse: warm memory decodes faster than
		// fresh pages.
		dataPool.Put(&c.data)
		eventPool.Put(&d.events)
	}
	return <-errc
}

var (
	dataPool  sync.Pool // *[]byte, chunk data
	eventPool sync.Pool // *[]event.Event, decoded chunks
)

// buffer returns a pooled byte slice of capacity at least size, empty.
func buffer(size int) []byte {
	if p, ok := dataPool.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

// eventBuffer returns a pooled event slice of capacity at least n, empty.
func eventBuffer(n int) []event.Event {
	if p, ok := eventPool.Get().(*[]event.Event); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]event.Event, 0, n)
}

// split cuts the files into chunks of whole lines.
func split(ctx context.Context, files []string, maxBytes int, progress func(int64), todo, order chan<- *chunk) error {
	for _, name := range files {
		if err := splitFile(ctx, name, maxBytes, progress, todo, order); err != nil {
			return err
		}
	}
	return nil
}

func splitFile(ctx context.Context, name string, maxBytes int, progress func(int64), todo, order chan<- *chunk) error {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		defer f.Close()
		r = f
	}
	if progress != nil {
		r = &counting{r: r, progress: progress}
	}
	sp := splitter{r: r, file: name, line: 1, size: max(chunkBytes, maxBytes+2)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := sp.next()
		if c != nil {
			todo <- c
			order <- c
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read events %s: %w", name, err)
		}
	}
}

// counting reports the bytes read through it.
type counting struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}

// splitter cuts a stream into chunks of whole lines with block reads.
type splitter struct {
	r     io.Reader
	file  string
	line  int
	size  int    // chunk size; larger than any acceptable line
	carry []byte // the start of a line cut by the previous block
	eof   bool
}

// next returns the next chunk, or io.EOF after the last. A line that does
// not fit a chunk is longer than the size limit: it is skipped and
// reported by number and size.
func (s *splitter) next() (*chunk, error) {
	if s.eof && len(s.carry) == 0 {
		return nil, io.EOF
	}
	data := append(buffer(s.size), s.carry...)
	s.carry = s.carry[:0]
	for len(data) < cap(data) && !s.eof {
		n, err := s.r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			s.eof = true
		} else if err != nil {
			return nil, err
		}
	}
	c := &chunk{file: s.file, line: s.line, out: make(chan decoded, 1)}
	cut := bytes.LastIndexByte(data, '\n')
	switch {
	case cut >= 0:
		s.carry = append(s.carry, data[cut+1:]...) // a copy: data goes back to the pool
		data = data[:cut+1]
	case s.eof:
		data = append(data, '\n') // a last line without its line end
	default:
		return c, s.skipLong(c, len(data))
	}
	c.data = data
	s.line += bytes.Count(data, []byte{'\n'})
	return c, nil
}

// skipLong consumes a line larger than a chunk up to its line end and
// records it in c as too large.
func (s *splitter) skipLong(c *chunk, seen int) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.r.Read(buf)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			seen += i
			s.carry = append([]byte(nil), buf[i+1:n]...)
			break
		}
		seen += n
		if errors.Is(err, io.EOF) {
			s.eof = true
			break
		}
		if err != nil {
			return err
		}
	}
	c.long, c.longN = []int{c.line}, []int{seen}
	c.data = []byte{'\n'}
	s.line++
	return nil
}

// decodeChunk decodes every line of c. Blank lines are skipped silently.
func decodeChunk(d *event.Decoder, c *chunk, maxBytes int) decoded {
	var out decoded
	out.events = eventBuffer(bytes.Count(c.data, []byte{'\n'}))
	data, line, long := c.data, c.line, 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		l := data[:i]
		data = data[i+1:]
		if long < len(c.long) && c.long[long] == line {
			out.rejects = append(out.rejects, Reject{File: c.file, Line: line, Reason: event.ReasonTooLarge,
				Err: &event.RejectError{Reason: event.ReasonTooLarge, Detail: fmt.Sprintf("line of %d bytes exceeds the limit of %d", c.longN[long], maxBytes)}})
			long++
			line++
			continue
		}
		if len(bytes.TrimSpace(l)) > 0 {
			n := len(out.events)
			out.events = out.events[:n+1] // capacity: one per line
			if err := d.DecodeInto(bytes.TrimRight(l, "\r"), &out.events[n]); err != nil {
				out.events = out.events[:n]
				out.rejects = append(out.rejects, Reject{File: c.file, Line: line, Reason: event.ReasonOf(err), Err: err, Raw: l})
			}
		}
		line++
	}
	return out
}

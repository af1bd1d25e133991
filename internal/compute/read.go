// Package compute is the batch path: it reads NDJSON event files, decodes
// them in parallel with the strict decoder, feeds the indicator engine in
// file order, and writes the results as JSON, a table or CSV.
package compute

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Reject is a bad input line.
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
	long  []int // numbers of lines cut because they exceeded the size limit
	longN []int // their sizes
}

type decoded struct {
	events  []event.Event
	rejects []Reject
}

const chunkBytes = 1 << 20

// Decode reads the files in order and calls apply with every accepted event
// and reject with every bad line, in file and line order. Decoding runs on
// all cores; apply and reject run on the calling goroutine.
func Decode(ctx context.Context, files []string, maxBytes int, apply func(*event.Event), reject func(Reject)) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	todo := make(chan *chunk, workers*2)
	order := make(chan *chunk, workers*2)
	errc := make(chan error, 1)
	go func() {
		defer close(todo)
		defer close(order)
		errc <- split(ctx, files, maxBytes, todo, order)
	}()
	for range workers {
		go func() {
			d := event.Decoder{MaxBytes: maxBytes}
			for c := range todo {
				c.out <- decodeChunk(&d, c, maxBytes)
			}
		}()
	}
	for c := range order {
		d := <-c.out
		for i := range d.events {
			apply(&d.events[i])
		}
		for _, r := range d.rejects {
			reject(r)
		}
	}
	return <-errc
}

// split cuts the files into chunks of whole lines.
func split(ctx context.Context, files []string, maxBytes int, todo, order chan<- *chunk) error {
	for _, name := range files {
		if err := splitFile(ctx, name, maxBytes, todo, order); err != nil {
			return err
		}
	}
	return nil
}

func splitFile(ctx context.Context, name string, maxBytes int, todo, order chan<- *chunk) error {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		defer f.Close()
		r = f
	}
	// A line that fits the limit, with its line end, always fits the buffer,
	// so a full buffer means the line is too large.
	br := bufio.NewReaderSize(r, max(maxBytes+2, 64<<10))
	line := 1
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := &chunk{file: name, line: line, out: make(chan decoded, 1)}
		n, err := fill(br, c, maxBytes)
		line += n
		if n > 0 {
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

// fill reads whole lines into c until it holds about chunkBytes. A line
// longer than maxBytes is not kept: only its number and size are.
func fill(br *bufio.Reader, c *chunk, maxBytes int) (lines int, err error) {
	for len(c.data) < chunkBytes {
		var l []byte
		l, err = br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			size := len(l)
			for errors.Is(err, bufio.ErrBufferFull) {
				l, err = br.ReadSlice('\n')
				size += len(l)
			}
			c.long = append(c.long, c.line+lines)
			c.longN = append(c.longN, size)
			c.data = append(c.data, '\n') // keep line numbering
			lines++
			if err != nil {
				return lines, err
			}
			continue
		}
		if len(l) > 0 {
			c.data = append(c.data, l...)
			if l[len(l)-1] != '\n' {
				c.data = append(c.data, '\n')
			}
			lines++
		}
		if err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// decodeChunk decodes every line of c. Blank lines are skipped silently.
func decodeChunk(d *event.Decoder, c *chunk, maxBytes int) decoded {
	var out decoded
	out.events = make([]event.Event, 0, bytes.Count(c.data, []byte{'\n'}))
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
			e, err := d.Decode(bytes.TrimRight(l, "\r"))
			if err != nil {
				out.rejects = append(out.rejects, Reject{File: c.file, Line: line, Reason: event.ReasonOf(err), Err: err, Raw: l})
			} else {
				out.events = append(out.events, e)
			}
		}
		line++
	}
	return out
}

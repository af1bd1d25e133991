package adapter

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Sink receives the events of an import. Write may buffer; Flush returns
// once everything written is durable (a file synced, Kafka acknowledged),
// and only then does the import record its position.
type Sink interface {
	Write(ctx context.Context, events []Out) error
	Flush(ctx context.Context) error
}

// Options configure an import.
type Options struct {
	Mapping *Mapping
	// Vars set or override the mapping's variables.
	Vars map[string]string
	// Reader overrides the mapping's reader (csv for the database-table
	// form of a queue_log, say).
	Reader string
	// Files are read in order; "-" is standard input.
	Files []string
	// Follow keeps reading the last file as it grows, and reopens it when
	// it is rotated or truncated, until ctx ends.
	Follow bool
	// Poll is how often a followed file is checked for growth (default 1s).
	Poll time.Duration
	// State is the file that records how far each input was read, so that
	// a new run resumes there; empty means no resumption.
	State string
	Sink  Sink
	// DeadLetter, when set, receives a JSON line per rejected record.
	DeadLetter *DeadLetter
	// OnReject, when set, is called with every rejected record.
	OnReject func(Reject)
	// FlushEvery is the number of records between flushes (default 2000).
	FlushEvery int
}

// Reject is a record that could not be mapped.
type Reject struct {
	File   string
	Line   int
	Reason string
	Detail string
}

// Summary counts what an import did.
type Summary struct {
	Records  int64            `json:"records"`
	Events   map[string]int64 `json:"events"`   // by event type
	Skipped  map[string]int64 `json:"skipped"`  // by reason
	Rejected map[string]int64 `json:"rejected"` // by reason
	Adjusted map[string]int64 `json:"adjusted"` // times corrected, by kind
	// HeldBack is the size of unterminated last lines left for the next
	// run (with a state file, a file may be caught mid-write).
	HeldBack int64 `json:"held_back_bytes"`
}

// EventCount is the total number of events emitted.
func (s *Summary) EventCount() int64 { return total(s.Events) }

// RejectedCount is the total number of records rejected.
func (s *Summary) RejectedCount() int64 { return total(s.Rejected) }

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Import reads the inputs, maps every record and writes the events to the
// sink. Bad records are counted, reported and dead-lettered; the import
// goes on. It returns when the inputs end (or, following, when ctx ends).
func Import(ctx context.Context, o Options) (*Summary, error) {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 2000
	}
	mp, err := NewMapper(o.Mapping, o.Vars)
	if err != nil {
		return nil, err
	}
	st, err := loadResume(o.State)
	if err != nil {
		return nil, err
	}
	im := &importer{o: o, mp: mp, resume: st,
		sum: &Summary{Events: map[string]int64{}, Skipped: map[string]int64{}, Rejected: map[string]int64{}, Adjusted: map[string]int64{}}}
	if o.DeadLetter != nil {
		o.DeadLetter.bind(o.Mapping)
	}
	for i, f := range o.Files {
		follow := o.Follow && i == len(o.Files)-1 && f != "-"
		if err := im.file(ctx, f, follow); err != nil {
			if follow && errors.Is(err, context.Canceled) {
				break
			}
			return im.sum, err
		}
	}
	return im.sum, nil
}

type importer struct {
	o       Options
	mp      *Mapper
	resume  *resume
	sum     *Summary
	out     Outcome
	pending int
	path    string   // the input being read
	at      position // how far it was read
}

// file imports one input, following it when asked, across rotations.
func (im *importer) file(ctx context.Context, path string, follow bool) error {
	for {
		rotated, err := im.read(ctx, path, follow)
		if err != nil || !rotated {
			return err
		}
		im.at = position{} // the new file starts at its beginning
		im.resume.set(path, im.at)
	}
}

// read imports path from its saved position; with follow it waits at the
// end for more, and reports rotated when the file was replaced.
func (im *importer) read(ctx context.Context, path string, follow bool) (rotated bool, err error) {
	in, pos, closeIn, err := im.open(path)
	if err != nil {
		return false, err
	}
	defer closeIn()
	im.path, im.at = path, pos
	var fw *follower
	var src io.Reader = in
	xlsx := im.readerName() == ReaderXLSX
	if xlsx && follow {
		return false, fmt.Errorf("%s: --follow reads growing text files, not workbooks", path)
	}
	if !xlsx && !follow && im.o.State != "" && path != "-" {
		// The file may still be written to: leave an unterminated last
		// line for the next run rather than read half a record.
		if src, err = completeLines(in.(*os.File), im.rawOffset(pos), im.sum); err != nil {
			return false, err
		}
	}
	if follow {
		fw = &follower{ctx: ctx, f: in.(*os.File), path: path, poll: im.o.Poll, pos: im.rawOffset(pos),
			idle: func() error { return im.flush(ctx) }}
		if fw.info, err = fw.f.Stat(); err != nil {
			return false, err
		}
		src = fw
	}
	r, err := im.reader(path, src, pos)
	if err == io.EOF {
		return false, nil // an empty CSV file or sheet: not even a header
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	if h := r.header(); h != nil {
		if err := im.mp.Bind(h); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	}
	for {
		rec, err := r.next()
		if err == io.EOF {
			break
		}
		var bad *badRecord
		switch {
		case errors.As(err, &bad):
			im.sum.Records++
			im.reject(path, bad.line, nil, &Rejection{Reason: ReasonBadRecord, Detail: bad.detail}, bad.raw)
			pos = position{Offset: bad.offset, Line: bad.line}
		case err != nil:
			return false, errors.Join(fmt.Errorf("%s: %w", path, err), im.drain(ctx))
		default:
			if err := im.record(ctx, path, rec); err != nil {
				return false, fmt.Errorf("write events: %w", err)
			}
			pos = position{Offset: rec.Offset, Line: rec.Line}
		}
		im.at = pos
		if err := im.maybeFlush(ctx); err != nil {
			return false, err
		}
	}
	return fw != nil && fw.rotated, im.flush(ctx)
}

// completeLines limits f, positioned at offset, to its last newline.
func completeLines(f *os.File, offset int64, sum *Summary) (io.Reader, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end := info.Size()
	buf := make([]byte, 4096)
	for end > offset {
		n := min(int64(len(buf)), end-offset)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return nil, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	sum.HeldBack += info.Size() - max(end, offset)
	return io.LimitReader(f, end-offset), nil
}

// open opens path at its saved position. A file smaller than that position
// was truncated or replaced, and is read from the start.
func (im *importer) open(path string) (io.Reader, position, func(), error) {
	if path == "-" {
		return os.Stdin, position{}, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, position{}, nil, err
	}
	pos := im.resume.get(path)
	if info, err := f.Stat(); err == nil && info.Size() < im.rawOffset(pos) {
		pos = position{}
	}
	if off := im.rawOffset(pos); off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, position{}, nil, err
		}
	}
	return f, pos, func() { f.Close() }, nil
}

// rawOffset is where in the file reading starts: the saved position, or
// the start for a transcoded export, whose positions count decoded text.
func (im *importer) rawOffset(pos position) int64 {
	if n := im.readerName(); n == ReaderXLSX || n == ReaderCSV && transcoded(im.o.Mapping.CSV.Encoding) {
		return 0
	}
	return pos.Offset
}

func (im *importer) readerName() string {
	if im.o.Reader != "" {
		return im.o.Reader
	}
	return im.o.Mapping.Reader
}

// reader builds the record reader of an input positioned at pos.
func (im *importer) reader(path string, in io.Reader, pos position) (reader, error) {
	switch im.readerName() {
	case ReaderQueueLog:
		return &queueLogReader{lineReader: lineReader{r: bufio.NewReaderSize(in, 1<<16), off: pos.Offset, line: pos.Line}}, nil
	case ReaderJSON:
		return &jsonReader{r: bufio.NewReaderSize(in, 1<<16), off: pos.Offset, line: pos.Line}, nil
	case ReaderXLSX:
		return newXLSXReader(in, im.o.Mapping.XLSX, im.o.Mapping.SkipRows, pos)
	}
	opts := im.o.Mapping.CSV
	text := decodeText(in, opts.Encoding)
	base := int64(0)
	var hdr io.Reader
	if pos.Offset > 0 {
		if transcoded(opts.Encoding) {
			// Offsets count decoded text: skip to it.
			if _, err := io.CopyN(io.Discard, text, pos.Offset); err != nil {
				return nil, fmt.Errorf("the file is shorter than the position saved in the state file (%w): was it replaced?", err)
			}
		}
		base = pos.Offset
		if opts.Columns == nil {
			h, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			defer h.Close()
			hdr = bufio.NewReader(decodeText(h, opts.Encoding))
		}
	}
	return newCSVReader(text, opts, im.o.Mapping.SkipRows, hdr, base, pos.Line)
}

// record maps one record and passes on its outcome.
func (im *importer) record(ctx context.Context, path string, rec *Record) error {
	im.sum.Records++
	im.mp.Map(rec, &im.out)
	for _, a := range im.out.Adjusted {
		im.sum.Adjusted[a]++
	}
	switch {
	case im.out.Rejected != nil:
		im.reject(path, rec.Line, rec, im.out.Rejected, nil)
	case im.out.Skipped != "":
		im.sum.Skipped[im.out.Skipped]++
	default:
		for _, e := range im.out.Events {
			im.sum.Events[e.Type]++
		}
		if err := im.o.Sink.Write(ctx, im.out.Events); err != nil {
			return err
		}
	}
	im.pending++
	return nil
}

func (im *importer) reject(path string, line int, rec *Record, r *Rejection, raw []byte) {
	im.sum.Rejected[r.Reason]++
	if im.o.OnReject != nil {
		im.o.OnReject(Reject{File: path, Line: line, Reason: r.Reason, Detail: r.Detail})
	}
	if im.o.DeadLetter != nil {
		im.o.DeadLetter.write(path, line, rec, r, raw, &im.mp.x)
	}
}

func (im *importer) maybeFlush(ctx context.Context) error {
	if im.pending < im.o.FlushEvery {
		return nil
	}
	return im.flush(ctx)
}

// drain flushes what was read before the run stopped, with a little time
// of its own when the run was interrupted.
func (im *importer) drain(ctx context.Context) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	return im.flush(ctx)
}

// flush makes the events durable, then records the position.
func (im *importer) flush(ctx context.Context) error {
	im.pending = 0
	if err := im.o.Sink.Flush(ctx); err != nil {
		return err
	}
	if im.o.DeadLetter != nil {
		if err := im.o.DeadLetter.flush(); err != nil {
			return err
		}
	}
	if im.path != "" && im.path != "-" {
		im.resume.set(im.path, im.at)
	}
	return im.resume.save(im.o.State)
}

// Lines formats the summary for people, one count per line.
func (s *Summary) Lines() []string {
	out := []string{fmt.Sprintf("records read: %d; events emitted: %d; records skipped: %d; records rejected: %d",
		s.Records, s.EventCount(), total(s.Skipped), s.RejectedCount())}
	if s.HeldBack > 0 {
		out = append(out, fmt.Sprintf("  an unterminated last line (%d bytes) is left for the next run", s.HeldBack))
	}
	for _, part := range []struct {
		what string
		m    map[string]int64
	}{{"emitted", s.Events}, {"skipped", s.Skipped}, {"rejected", s.Rejected}, {"adjusted", s.Adjusted}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, fmt.Sprintf("  %s %s: %d", part.what, k, part.m[k]))
		}
	}
	return out
}

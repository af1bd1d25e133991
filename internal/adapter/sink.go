package adapter

import (
	"bufio"
	"context"
	"io"
	"os"
)

// NDJSONSink writes events as NDJSON lines. Flush syncs a file to disk.
type NDJSONSink struct {
	w    *bufio.Writer
	sync func() error
}

// NewNDJSONSink writes to w; when w is a regular file, Flush also syncs it.
func NewNDJSONSink(w io.Writer) *NDJSONSink {
	s := &NDJSONSink{w: bufio.NewWriterSize(w, 1<<20)}
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			s.sync = f.Sync
		}
	}
	return s
}

// Write implements Sink.
func (s *NDJSONSink) Write(_ context.Context, events []Out) error {
	for _, e := range events {
		s.w.Write(e.JSON)
		if err := s.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements Sink.
func (s *NDJSONSink) Flush(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.sync != nil {
		return s.sync()
	}
	return nil
}

package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// position is how far an input was read: the offset just after the last
// record whose events are durable, and that record's line.
type position struct {
	Offset int64 `json:"offset"`
	Line   int   `json:"line"`
}

// resume is the resume file: a position per input path.
type resume struct {
	Files map[string]position `json:"files"`
}

func loadResume(path string) (*resume, error) {
	s := &resume{Files: map[string]position{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if s.Files == nil {
		s.Files = map[string]position{}
	}
	return s, nil
}

func (s *resume) key(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (s *resume) get(path string) position { return s.Files[s.key(path)] }

func (s *resume) set(path string, p position) { s.Files[s.key(path)] = p }

// save writes the state atomically (a new file renamed over the old).
func (s *resume) save(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// follower reads a growing file: at its end it flushes (idle), then waits
// for more; it ends the file when the path is rotated or truncated.
type follower struct {
	ctx     context.Context
	f       *os.File
	info    fs.FileInfo
	path    string
	poll    time.Duration
	pos     int64
	idle    func() error
	rotated bool
}

// Read implements io.Reader.
func (fw *follower) Read(p []byte) (int, error) {
	for {
		n, err := fw.f.Read(p)
		fw.pos += int64(n)
		if n > 0 || err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		if err := fw.idle(); err != nil {
			return 0, err
		}
		if cur, err := os.Stat(fw.path); err == nil && (!os.SameFile(cur, fw.info) || cur.Size() < fw.pos) {
			fw.rotated = true
			return 0, io.EOF
		}
		select {
		case <-fw.ctx.Done():
			return 0, fw.ctx.Err()
		case <-time.After(fw.poll):
		}
	}
}

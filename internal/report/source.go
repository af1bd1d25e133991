package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// engineSource answers from an indicator engine.
type engineSource struct {
	eng     *indicator.Engine
	tickets []indicator.EntityState
	counts  indicator.Counts
	asOf    int64
	inputs  []Input
	name    string
}

func (s *engineSource) Results(q indicator.Query) []indicator.Result { return s.eng.Results(q) }
func (s *engineSource) Tickets() []indicator.EntityState             { return s.tickets }
func (s *engineSource) Counts() indicator.Counts                     { return s.counts }
func (s *engineSource) AsOf() int64                                  { return s.asOf }
func (s *engineSource) Inputs() []Input                              { return s.inputs }
func (s *engineSource) Name() string                                 { return s.name }

// FileOptions are the inputs of a report from event files.
type FileOptions struct {
	Files    []string
	Profile  *profile.Profile
	AsOf     time.Time // zero: the latest event time, as compute
	MaxBytes int
	Progress func(read int64) // bytes read so far, for a progress bar
	OnReject func(compute.Reject)
}

// FromFiles evaluates event files with the same engine and the same
// defaults as compute.
func FromFiles(ctx context.Context, o FileOptions) (Source, error) {
	cal, err := o.Profile.NewCalendar()
	if err != nil {
		return nil, err
	}
	eng := indicator.New(o.Profile, cal)
	eng.TrackChanges()
	asOf, err := compute.Feed(ctx, eng, o.Files, o.MaxBytes, o.AsOf, o.Progress, o.OnReject)
	if err != nil {
		return nil, err
	}
	src := &engineSource{eng: eng, counts: eng.Counts(), asOf: asOf, name: "事件文件"}
	for _, st := range eng.Changes() {
		if st.Ticket {
			src.tickets = append(src.tickets, st)
		}
	}
	for _, f := range o.Files {
		in, err := checksumFile(f)
		if err != nil {
			return nil, err
		}
		src.inputs = append(src.inputs, in)
	}
	return src, nil
}

func checksumFile(path string) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, fmt.Errorf("checksum %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Input{}, fmt.Errorf("checksum %s: %w", path, err)
	}
	return Input{Name: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// FromStore answers from the aggregates and ticket states a pipeline
// stored; the checksum covers the stored figures read, in a fixed order.
func FromStore(ctx context.Context, r *chstore.Reader, p *profile.Profile, asOf time.Time, name string) (Source, error) {
	st, err := r.ReadStored(ctx)
	if err != nil {
		return nil, err
	}
	tickets, err := r.TicketStates(ctx)
	if err != nil {
		return nil, err
	}
	cal, err := p.NewCalendar()
	if err != nil {
		return nil, err
	}
	at := st.AsOf
	if !asOf.IsZero() {
		at = asOf.UnixMilli()
	}
	eng := indicator.Restore(p, cal, st.Cells, st.Tickets, at)
	return &engineSource{eng: eng, tickets: tickets, counts: indicator.Counts{Accepted: st.Events}, asOf: at,
		inputs: []Input{storeChecksum(name, st)}, name: "ClickHouse"}, nil
}

func storeChecksum(name string, st *chstore.Stored) Input {
	lines := make([]string, 0, len(st.Cells))
	for _, c := range st.Cells {
		lines = append(lines, fmt.Sprintf("%s|%d|%s|%d|%d|%d", c.Indicator, c.Bucket, strings.Join(c.Dims, ","), c.Num, c.Den, c.N))
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return Input{Name: name, Size: int64(len(lines)), SHA256: hex.EncodeToString(h.Sum(nil))}
}

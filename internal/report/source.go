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
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// engineSource answers from an indicator engine.
type engineSource struct {
	eng interface {
		Results(indicator.Query) []indicator.Result
	}
	tickets []indicator.EntityState
	counts  indicator.Counts
	asOf    int64
	inputs  []Input
	name    string
	reviews []indicator.Review
}

func (s *engineSource) Reviews() []indicator.Review                  { return s.reviews }
func (s *engineSource) Results(q indicator.Query) []indicator.Result { return s.eng.Results(q) }
func (s *engineSource) Tickets() []indicator.EntityState             { return s.tickets }
func (s *engineSource) Counts() indicator.Counts                     { return s.counts }
func (s *engineSource) AsOf() int64                                  { return s.asOf }
func (s *engineSource) Inputs() []Input                              { return s.inputs }
func (s *engineSource) Name() string                                 { return s.name }

// FileOptions are the inputs of a report from event files.
type FileOptions struct {
	Files []string
	// Profiles gives each centre its profile (profiles.by_center).
	Profiles *profile.Set
	AsOf     time.Time // zero: the latest event time, as compute
	MaxBytes int
	Progress func(read int64) // bytes read so far, for a progress bar
	OnReject func(compute.Reject)
}

// FromFiles evaluates event files with the same engine and the same
// defaults as compute.
func FromFiles(ctx context.Context, o FileOptions) (Source, error) {
	ps, err := indicator.NewProfiles(o.Profiles)
	if err != nil {
		return nil, err
	}
	eng := indicator.New(ps)
	eng.TrackChanges()
	evals := &evaluations{Evaluator: eng}
	asOf, err := compute.Feed(ctx, evals, o.Files, o.MaxBytes, o.AsOf, o.Progress, o.OnReject)
	if err != nil {
		return nil, err
	}
	src := &engineSource{eng: eng, counts: eng.Counts(), asOf: asOf, name: "事件文件",
		reviews: indicator.Reviews(evals.evs, asOf, passPercent(o.Profiles))}
	for _, st := range eng.Changes() {
		if st.Ticket {
			src.tickets = append(src.tickets, st)
		}
	}
	if src.inputs, err = checksumFiles(o.Files); err != nil {
		return nil, err
	}
	return src, nil
}

// evaluations keeps the quality-inspection results an engine is fed, for
// the reviews list.
type evaluations struct {
	compute.Evaluator
	evs []event.Event
}

func (t *evaluations) ApplyAll(evs []event.Event) {
	for i := range evs {
		if evs[i].Type.Evaluation() {
			t.evs = append(t.evs, evs[i])
		}
	}
	t.Evaluator.ApplyAll(evs)
}

// passPercent is each centre's qa.pass_percent.
func passPercent(set *profile.Set) func(string) float64 {
	return func(center string) float64 { return set.For(center).QA.PassPercent }
}

// Engine is what a Source built from an engine asks of it.
type Engine interface {
	Results(indicator.Query) []indicator.Result
	Counts() indicator.Counts
}

// NewEngineSource is the Source of an engine fed from files (their
// checksums are its inputs), for reports built elsewhere (the assessment).
func NewEngineSource(eng Engine, asOf int64, name string, files []string) (Source, error) {
	src := &engineSource{eng: eng, counts: eng.Counts(), asOf: asOf, name: name}
	var err error
	src.inputs, err = checksumFiles(files)
	return src, err
}

func checksumFiles(files []string) ([]Input, error) {
	var out []Input
	for _, f := range files {
		in, err := checksumFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
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

// FromStore answers from the aggregates and (withTickets) the ticket
// states a pipeline stored; the checksum covers the stored figures read,
// in a fixed order, and the inputs state the head of each centre's digest
// log (docs/assessment.md), so that a later verify can show the records
// behind the report were not changed.
func FromStore(ctx context.Context, r *chstore.Reader, set *profile.Set, asOf time.Time, name string, withTickets bool) (Source, error) {
	st, err := r.ReadStored(ctx)
	if err != nil {
		return nil, err
	}
	var tickets []indicator.EntityState
	if withTickets {
		if tickets, err = r.TicketStates(ctx); err != nil {
			return nil, err
		}
	}
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		return nil, err
	}
	at := st.AsOf
	if !asOf.IsZero() {
		at = asOf.UnixMilli()
	}
	heads, err := r.ChainHeads(ctx)
	if err != nil {
		return nil, err
	}
	inputs := []Input{storeChecksum(name, st)}
	for _, c := range SortedKeys(heads) {
		h := heads[c]
		inputs = append(inputs, Input{Name: fmt.Sprintf("封存摘要链头 %s (第 %d 条, %s 第 %d 版)", c, h.Seq, h.Day, h.Version),
			Size: h.Events, SHA256: h.Chain.String()})
	}
	evals, err := r.Evaluations(ctx)
	if err != nil {
		return nil, err
	}
	eng := indicator.Restore(ps, st.Cells, st.Tickets, at).WithContacts(st.Contacts)
	return &engineSource{eng: eng, tickets: tickets, counts: indicator.Counts{Accepted: st.Events}, asOf: at,
		inputs: inputs, name: "ClickHouse", reviews: indicator.Reviews(evals, at, passPercent(set))}, nil
}

func storeChecksum(name string, st *stored.Aggregates) Input {
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

package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Options are the inputs of one batch evaluation.
type Options struct {
	Files []string
	// Profiles gives each centre its profile (profiles.by_center).
	Profiles *profile.Set
	Calendar []profile.CalendarRules // extra calendar overrides, for every profile
	Query    indicator.Query
	AsOf     time.Time // zero: the latest event time
	MaxBytes int       // line size limit; 0: event.DefaultMaxBytes
	// OnReject, if set, sees every bad line in order (for stderr and a
	// dead-letter file).
	OnReject func(Reject)
}

// Output is the `compute` result in the JSON shape of cli.md.
type Output struct {
	Profile string           `json:"profile"`
	AsOf    string           `json:"as_of"`
	Events  indicator.Counts `json:"events"`
	// ServiceLevel states the threshold and denominator behind
	// answered_within_15s_rate, whose id keeps "15s" whatever the
	// threshold (indicators.md v1.1, decision 14).
	ServiceLevel ServiceLevel `json:"service_level"`
	// ProfilesByCenter names the centres evaluated against another
	// profile than Profile (profiles.by_center); absent when none is.
	ProfilesByCenter map[string]CenterProfile `json:"profiles_by_center,omitempty"`
	Results          []indicator.Result       `json:"results"`

	prof *profile.Profile
}

// CenterProfile is the profile of a centre named in profiles.by_center.
type CenterProfile struct {
	Profile      string       `json:"profile"`
	ServiceLevel ServiceLevel `json:"service_level"`
}

// ServiceLevel is the profile's service-level rule.
type ServiceLevel struct {
	ThresholdSeconds float64 `json:"threshold_seconds"`
	Denominator      string  `json:"denominator"`
}

func newOutput(set *profile.Set, asOf int64, counts indicator.Counts, results []indicator.Result) *Output {
	p := set.Default
	out := &Output{Profile: p.ID, AsOf: FormatTime(asOf, p.Location()), Events: counts,
		ServiceLevel: serviceLevel(p), Results: results, prof: p}
	for c, cp := range set.ByCenter {
		if out.ProfilesByCenter == nil {
			out.ProfilesByCenter = map[string]CenterProfile{}
		}
		out.ProfilesByCenter[c] = CenterProfile{Profile: cp.ID, ServiceLevel: serviceLevel(cp)}
	}
	return out
}

func serviceLevel(p *profile.Profile) ServiceLevel {
	sl := p.Calls.ServiceLevel
	return ServiceLevel{ThresholdSeconds: sl.ThresholdSeconds, Denominator: sl.Denominator}
}

// name is the Chinese name of an indicator under the output's profile.
func (o *Output) name(id string) string {
	if o.prof == nil {
		ind, _ := indicator.Lookup(id)
		return ind.Name
	}
	return o.prof.IndicatorName(id)
}

// Run evaluates the files. Bad lines are counted and passed to OnReject;
// only an unreadable file or a cancelled context is an error.
func Run(ctx context.Context, o Options) (*Output, error) {
	if err := o.Query.Validate(); err != nil {
		return nil, err
	}
	ps, err := indicator.NewProfiles(o.Profiles, o.Calendar...)
	if err != nil {
		return nil, err
	}
	// The query is known: keep the aggregates at its grain (fine enough
	// for the staffing intervals it counts), and evaluate on every core.
	eng := indicator.NewSharded(ps, indicator.GrainFor(o.Query, ps), runtime.GOMAXPROCS(0))
	asOf, err := Feed(ctx, eng, o.Files, o.MaxBytes, o.AsOf, nil, o.OnReject)
	if err != nil {
		return nil, err
	}
	return newOutput(o.Profiles, asOf, eng.Counts(), eng.Results(o.Query)), nil
}

// Evaluator is what Feed drives: an indicator.Engine or indicator.Sharded.
type Evaluator interface {
	ApplyAll(evs []event.Event)
	CountRejected(n int64)
	MaxTS() int64
	IgnoreAfter(ts int64)
	Advance(asOf int64)
}

// Feed decodes the files into ev, counting and passing on rejected lines,
// and evaluates it at asOf (zero: the latest event time). It returns the
// evaluation time used. maxBytes 0 means event.DefaultMaxBytes; progress,
// if set, sees the bytes read.
func Feed(ctx context.Context, ev Evaluator, files []string, maxBytes int, asOf time.Time,
	progress func(int64), onReject func(Reject)) (int64, error) {
	if maxBytes <= 0 {
		maxBytes = event.DefaultMaxBytes
	}
	err := DecodeProgress(ctx, files, maxBytes, progress, ev.ApplyAll, func(r Reject) {
		ev.CountRejected(1)
		if onReject != nil {
			onReject(r)
		}
	})
	if err != nil {
		return 0, err
	}
	at := asOf.UnixMilli()
	if asOf.IsZero() {
		at = ev.MaxTS()
	}
	ev.IgnoreAfter(at) // events after as_of have not happened yet
	ev.Advance(at)
	return at, nil
}

// FromStore reads the aggregates a streaming pipeline stored and answers
// the query from them, in the same output shape. The event counts are
// those behind the stored state; duplicates and rejected messages are not
// kept in the store (they are in the metrics and the dead-letter topic).
func FromStore(ctx context.Context, st *stored.Aggregates, set *profile.Set, q indicator.Query, asOf time.Time) (*Output, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		return nil, err
	}
	at := st.AsOf
	if !asOf.IsZero() {
		at = asOf.UnixMilli()
	}
	eng := indicator.Restore(ps, st.Cells, st.Tickets, at).WithContacts(st.Contacts)
	return newOutput(set, at, indicator.Counts{Accepted: st.Events}, eng.Results(q)), nil
}

// FormatTime formats Unix milliseconds as RFC 3339 in loc, with
// milliseconds only when there are any.
func FormatTime(ms int64, loc *time.Location) string {
	return time.UnixMilli(ms).In(loc).Format("2006-01-02T15:04:05.999Z07:00")
}

// WriteJSON writes out as one indented JSON object.
func WriteJSON(w io.Writer, out *Output) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// staffingQuery is the grain the staffing intervals are read at: by
// centre, fine enough for every profile's staffing.interval.
var staffingQuery = indicator.Query{Window: indicator.WindowDay, GroupBy: []string{"center_id"}}

// Staffing evaluates the files as Run does and returns their staffing
// intervals (docs/spec/indicators.md, "Staffing"), with the evaluation
// time.
func Staffing(ctx context.Context, o Options) ([]indicator.StaffingRow, int64, error) {
	ps, err := indicator.NewProfiles(o.Profiles, o.Calendar...)
	if err != nil {
		return nil, 0, err
	}
	eng := indicator.NewSharded(ps, indicator.GrainFor(staffingQuery, ps), runtime.GOMAXPROCS(0))
	asOf, err := Feed(ctx, eng, o.Files, o.MaxBytes, o.AsOf, nil, o.OnReject)
	if err != nil {
		return nil, 0, err
	}
	return eng.Staffing(), asOf, nil
}

// StaffingFromStore is Staffing over the aggregates a pipeline stored.
func StaffingFromStore(st *stored.Aggregates, set *profile.Set) ([]indicator.StaffingRow, error) {
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		return nil, err
	}
	return indicator.Restore(ps, st.Cells, st.Tickets, st.AsOf).Staffing(), nil
}

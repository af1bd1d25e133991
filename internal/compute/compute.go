package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Options are the inputs of one batch evaluation.
type Options struct {
	Files    []string
	Profile  *profile.Profile
	Calendar []profile.CalendarRules // extra calendar overrides
	Query    indicator.Query
	AsOf     time.Time // zero: the latest event time
	MaxBytes int       // line size limit; 0: event.DefaultMaxBytes
	// OnReject, if set, sees every bad line in order (for stderr and a
	// dead-letter file).
	OnReject func(Reject)
}

// Output is the `compute` result in the JSON shape of cli.md.
type Output struct {
	Profile string             `json:"profile"`
	AsOf    string             `json:"as_of"`
	Events  indicator.Counts   `json:"events"`
	Results []indicator.Result `json:"results"`
}

// Run evaluates the files. Bad lines are counted and passed to OnReject;
// only an unreadable file or a cancelled context is an error.
func Run(ctx context.Context, o Options) (*Output, error) {
	if err := o.Query.Validate(); err != nil {
		return nil, err
	}
	cal, err := o.Profile.NewCalendar(o.Calendar...)
	if err != nil {
		return nil, err
	}
	// The query is known: keep the aggregates at exactly its grain, and
	// evaluate on every core.
	eng := indicator.NewSharded(o.Profile, cal, indicator.Grain(o.Query), runtime.GOMAXPROCS(0))
	maxBytes := o.MaxBytes
	if maxBytes <= 0 {
		maxBytes = event.DefaultMaxBytes
	}
	err = Decode(ctx, o.Files, maxBytes, eng.ApplyAll, func(r Reject) {
		eng.CountRejected(1)
		if o.OnReject != nil {
			o.OnReject(r)
		}
	})
	if err != nil {
		return nil, err
	}
	asOf := o.AsOf.UnixMilli()
	if o.AsOf.IsZero() {
		asOf = eng.MaxTS()
	}
	eng.Advance(asOf)
	return &Output{
		Profile: o.Profile.ID,
		AsOf:    FormatTime(asOf, o.Profile.Location()),
		Events:  eng.Counts(),
		Results: eng.Results(o.Query),
	}, nil
}

// FromStore reads the aggregates a streaming pipeline stored and answers
// the query from them, in the same output shape. The event counts are
// those behind the stored state; duplicates and rejected messages are not
// kept in the store (they are in the metrics and the dead-letter topic).
func FromStore(ctx context.Context, st *chstore.Stored, p *profile.Profile, q indicator.Query, asOf time.Time) (*Output, error) {
	if err := q.Validate(); err != nil {
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
	return &Output{Profile: p.ID, AsOf: FormatTime(at, p.Location()),
		Events: indicator.Counts{Accepted: st.Events}, Results: eng.Results(q)}, nil
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

package ledger

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// RawSink stores accepted events (chstore.RawWriter).
type RawSink interface {
	WriteRaw(ctx context.Context, recs []event.Record) error
}

// Marker is the pipeline's raw sink with late arrivals marked: before it
// stores events of a day that is sealed or announced for sealing (has an
// intent), it records each one that is new or changes the stored content,
// so that the next sealing can tell it from a change made directly in the
// store. Replays (the same content again) are not marked, and nor are the
// events of days not yet announced: a backfill costs no marking.
type Marker struct {
	inner RawSink
	l     *Ledger
	clock func() time.Time

	mu       sync.Mutex
	intended map[[2]string]bool
	read     time.Time // when intended was read
}

// Marker wraps the raw sink of the pipeline; clock is time.Now in
// production.
func (l *Ledger) Marker(inner RawSink, clock func() time.Time) *Marker {
	return &Marker{inner: inner, l: l, clock: clock}
}

// announced returns the days with intents, read again when the last read
// is a quarter of Settle old: the sealing waits Settle after an intent, so
// every writer sees it in time.
func (m *Marker) announced(ctx context.Context) (map[[2]string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	if m.intended != nil && now.Sub(m.read) < m.l.cfg.Settle/4 {
		return m.intended, nil
	}
	intents, err := m.l.store.Intents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read seal intents: %w", err)
	}
	days := make(map[[2]string]bool, len(intents))
	for _, in := range intents {
		days[[2]string{in.Center, in.Day}] = true
	}
	m.intended, m.read = days, now
	return days, nil
}

// WriteRaw marks the late arrivals among recs, then stores recs. Marks
// come first: an arrival is never stored unmarked, and a mark whose event
// is not yet stored changes no digest.
func (m *Marker) WriteRaw(ctx context.Context, recs []event.Record) error {
	days, err := m.announced(ctx)
	if err != nil {
		return err
	}
	var late []*event.Record
	if len(days) > 0 {
		var span daySpan // most events of a batch share a day: format it once
		for i := range recs {
			if days[[2]string{recs[i].CenterID, span.of(m.l, recs[i].TS)}] {
				late = append(late, &recs[i])
			}
		}
	}
	if len(late) > 0 {
		stored, err := m.l.store.Stored(ctx, late)
		if err != nil {
			return fmt.Errorf("read stored versions of %d late arrivals: %w", len(late), err)
		}
		marks := make([]Mark, 0, len(late))
		for _, r := range late {
			h := EventHash(&r.Event)
			prior, ok := stored[r.ID]
			if ok && prior == h {
				continue // a replay
			}
			marks = append(marks, Mark{Center: r.CenterID, Day: m.l.dayOf(r.TS), EventID: r.ID, Hash: h, Prior: prior})
		}
		if len(marks) > 0 {
			if err := m.l.store.WriteMarks(ctx, marks); err != nil {
				return fmt.Errorf("mark %d late arrivals: %w", len(marks), err)
			}
		}
	}
	return m.inner.WriteRaw(ctx, recs)
}

// daySpan remembers the last day looked up, [start, end) in Unix ms.
type daySpan struct {
	start, end int64
	day        string
}

// of returns the day of ms in the ledger's zone.
func (s *daySpan) of(l *Ledger, ms int64) string {
	if ms < s.start || ms >= s.end || s.day == "" {
		s.day = l.dayOf(ms)
		s.start, s.end, _ = dayBounds(s.day, l.loc)
	}
	return s.day
}

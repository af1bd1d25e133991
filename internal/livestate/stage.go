// Package livestate is the stateful stage of the production pipeline: it
// feeds durable events to the indicator core (the same Engine that
// `compute` drives), and stores the evaluated state of every call and
// ticket that changed. Calls and tickets not in memory are loaded back from
// their stored events, so state survives restarts and rebalances without
// re-reading Kafka, and idle ones are forgotten, so memory stays bounded.
package livestate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/workday"
)

// Store is what the stage needs of the database.
type Store interface {
	// LoadEvents returns the stored events of the given calls and tickets.
	LoadEvents(ctx context.Context, refs []indicator.Ref) ([]event.Record, error)
	// PendingTickets names the tickets whose stored state waits for a
	// deadline or depends on the time (they must be evaluated as time passes).
	PendingTickets(ctx context.Context) ([]indicator.Ref, error)
	// WriteStates stores evaluated states durably.
	WriteStates(ctx context.Context, rows []chstore.StateRow) error
}

// Config tunes the stage.
type Config struct {
	// EvictAfter forgets calls and tickets whose latest event is older than
	// this and that wait for no deadline; 0 keeps everything.
	EvictAfter time.Duration `yaml:"evict_after"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{EvictAfter: 72 * time.Hour} }

// Stage is the stateful stage. Its methods are called by one goroutine
// (the pipeline's); Snapshot may be called from others.
type Stage struct {
	cfg   Config
	store Store
	clock func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	eng     *indicator.Engine
	origin  map[indicator.Ref]event.Origin
	asOf    int64
	pending []chstore.StateRow
	loaded  bool
	metrics *Metrics
}

// Instrument makes the stage keep live indicator metrics in m.
func (s *Stage) Instrument(m *Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = m
	s.eng.Observe(m.observe)
}

// New returns a stage for profile p; clock gives the evaluation time
// (time.Now in production).
func New(cfg Config, p *profile.Profile, cal *workday.Calendar, store Store, clock func() time.Time, log *slog.Logger) *Stage {
	eng := indicator.New(p, cal)
	eng.TrackChanges()
	return &Stage{cfg: cfg, store: store, clock: clock, log: log, eng: eng, origin: map[indicator.Ref]event.Origin{}}
}

// Apply feeds durable records to the core and stores what changed. It is
// safe to call again with the same records after an error: the events are
// known by then, and the unwritten states are still pending.
func (s *Stage) Apply(ctx context.Context, recs []event.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.start(ctx); err != nil {
		return err
	}
	if err := s.loadUnknown(ctx, recs); err != nil {
		return err
	}
	// Loaded calls and tickets take their known state quietly, as of the
	// last evaluation: their contributions were counted before.
	s.eng.AdvanceQuiet(s.asOf)
	for i := range recs {
		s.origin[indicator.RefOf(&recs[i].Event)] = recs[i].Origin
		s.eng.Apply(&recs[i].Event)
	}
	return s.flush(ctx)
}

// Tick evaluates at the current time, so that deadlines pass without new
// events, stores what changed and forgets idle entities.
func (s *Stage) Tick(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.start(ctx); err != nil {
		return err
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	if s.cfg.EvictAfter > 0 {
		for _, ref := range s.eng.Evict(s.asOf - s.cfg.EvictAfter.Milliseconds()) {
			delete(s.origin, ref)
		}
	}
	if s.metrics != nil {
		s.metrics.setGauges(s.eng.TicketGauges(s.asOf))
	}
	return nil
}

// start loads, once, the tickets whose deadlines are still to pass.
func (s *Stage) start(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	refs, err := s.store.PendingTickets(ctx)
	if err != nil {
		return fmt.Errorf("load pending tickets: %w", err)
	}
	if err := s.load(ctx, refs, nil); err != nil {
		return err
	}
	s.asOf = max(s.asOf, s.clock().UnixMilli())
	s.eng.AdvanceQuiet(s.asOf)
	s.loaded = true
	s.log.Info("loaded tickets waiting for deadlines", "tickets", len(refs))
	return nil
}

// loadUnknown loads the calls and tickets of recs that are not in memory.
func (s *Stage) loadUnknown(ctx context.Context, recs []event.Record) error {
	var refs []indicator.Ref
	seen := map[indicator.Ref]bool{}
	batch := map[string]bool{}
	for i := range recs {
		ev := &recs[i].Event
		batch[ev.ID] = true
		if ref := indicator.RefOf(ev); !seen[ref] && !s.eng.Has(ev) {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	return s.load(ctx, refs, batch)
}

// load restores calls and tickets from their stored events, leaving out
// those of the current batch (skip): the batch's own events are applied
// after, so that their effect counts as new.
func (s *Stage) load(ctx context.Context, refs []indicator.Ref, skip map[string]bool) error {
	if len(refs) == 0 {
		return nil
	}
	stored, err := s.store.LoadEvents(ctx, refs)
	if err != nil {
		return err
	}
	evs := make([]event.Event, 0, len(stored))
	for i := range stored {
		s.origin[indicator.RefOf(&stored[i].Event)] = stored[i].Origin
		if !skip[stored[i].ID] {
			evs = append(evs, stored[i].Event)
		}
	}
	s.eng.Load(evs)
	return nil
}

// flush evaluates at the current time and writes every changed state.
func (s *Stage) flush(ctx context.Context) error {
	s.asOf = max(s.asOf, s.clock().UnixMilli())
	s.eng.Advance(s.asOf)
	for _, st := range s.eng.Changes() {
		o := s.origin[indicator.Ref{Ticket: st.Ticket, CenterID: st.CenterID, ID: st.ID}]
		s.pending = append(s.pending, chstore.StateRow{EntityState: st, Version: chstore.StateVersion(st.Events, s.asOf),
			AsOf: s.asOf, Topic: o.Topic, Partition: o.Partition})
	}
	if len(s.pending) == 0 {
		return nil
	}
	if err := s.store.WriteStates(ctx, s.pending); err != nil {
		return err
	}
	s.pending = s.pending[:0]
	return nil
}

// Size returns the calls and tickets in memory.
func (s *Stage) Size() (calls, tickets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Size()
}

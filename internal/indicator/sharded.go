package indicator

import (
	"sync"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Sharded spreads calls and tickets over several engines by a hash of
// their id, so that applying and evaluating run on several cores. Each
// call or ticket lives in one shard, so the results are exactly those of
// one Engine.
type Sharded struct {
	shards   []*Engine
	parts    [][]int32
	rejected int64
}

// NewSharded returns n engines at grain g behind one interface.
func NewSharded(ps *Profiles, g Grain, n int) *Sharded {
	s := &Sharded{parts: make([][]int32, max(n, 1))}
	for range max(n, 1) {
		s.shards = append(s.shards, NewAtGrain(ps, g))
	}
	return s
}

// ApplyAll applies a batch of events, each shard's part in parallel. Within
// a shard, events apply in batch order.
func (s *Sharded) ApplyAll(evs []event.Event) {
	for k := range s.parts {
		s.parts[k] = s.parts[k][:0]
	}
	for i := range evs {
		k := shardOf(&evs[i], len(s.shards))
		s.parts[k] = append(s.parts[k], int32(i))
	}
	var wg sync.WaitGroup
	for k, part := range s.parts {
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range part {
				s.shards[k].Apply(&evs[i])
			}
		}()
	}
	wg.Wait()
}

// shardOf hashes an event's call, ticket or agent (FNV-1a) to a shard.
func shardOf(ev *event.Event, n int) int {
	id := ev.CallID
	switch {
	case ev.Type.IsTicket():
		id = ev.TicketID
	case ev.Type.IsAgent():
		id = ev.AgentID
	}
	h := uint32(2166136261)
	for i := 0; i < len(ev.CenterID); i++ {
		h = (h ^ uint32(ev.CenterID[i])) * 16777619
	}
	h *= 16777619 // separator
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return int(h % uint32(n))
}

// IgnoreAfter is Engine.IgnoreAfter on every shard.
func (s *Sharded) IgnoreAfter(ts int64) {
	for _, e := range s.shards {
		e.IgnoreAfter(ts)
	}
}

// Advance evaluates every shard as of asOf, in parallel.
func (s *Sharded) Advance(asOf int64) {
	var wg sync.WaitGroup
	for _, e := range s.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Advance(asOf)
		}()
	}
	wg.Wait()
}

// Results sums the shards' results for q.
func (s *Sharded) Results(q Query) []Result { return results(s.shards, q) }

// CountRejected records n rejected input messages.
func (s *Sharded) CountRejected(n int64) { s.rejected += n }

// Counts returns the event counts so far.
func (s *Sharded) Counts() Counts {
	c := Counts{Rejected: s.rejected}
	for _, e := range s.shards {
		c.Accepted += e.counts.Accepted
		c.Duplicates += e.counts.Duplicates
		c.Conflicting += e.counts.Conflicting
	}
	return c
}

// MaxTS returns the latest event time applied.
func (s *Sharded) MaxTS() int64 {
	var m int64
	for _, e := range s.shards {
		m = max(m, e.maxTS)
	}
	return m
}

// Audit is the records audit of every shard (see Audit).
func (s *Sharded) Audit(examples int) []AuditRow { return Audit(examples, s.shards...) }

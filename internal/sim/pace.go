package sim

import (
	"context"
	"sync/atomic"
	"time"
)

// Accelerated paces the simulation at speed × wall-clock time from the
// moment of its first Wait: with speed 60, one simulated minute takes one
// second. Simulated time before From is emitted at once (a backfill).
// Wait is called by the simulation; Clock may be called from any goroutine.
type Accelerated struct {
	Speed float64
	From  int64 // simulated instant where pacing starts, Unix ms

	wall0 atomic.Int64 // wall-clock Unix ns of the first paced Wait, 0 before
}

// Wait sleeps until simulated instant simMs is due.
func (a *Accelerated) Wait(ctx context.Context, simMs int64) error {
	if simMs < a.From {
		return nil
	}
	a.wall0.CompareAndSwap(0, time.Now().UnixNano())
	due := time.Unix(0, a.wall0.Load()).Add(time.Duration(float64(simMs-a.From) / a.Speed * float64(time.Millisecond)))
	return sleepUntil(ctx, due)
}

// Clock returns the simulated time that corresponds to now.
func (a *Accelerated) Clock() int64 {
	w := a.wall0.Load()
	if w == 0 {
		return a.From
	}
	return a.From + int64(float64(time.Since(time.Unix(0, w)).Milliseconds())*a.Speed)
}

// Rate paces the simulation at a fixed number of events per second.
type Rate struct {
	PerSecond float64
	next      time.Time
}

// Wait sleeps so that steps come no faster than PerSecond.
func (r *Rate) Wait(ctx context.Context, _ int64) error {
	now := time.Now()
	if r.next.IsZero() || r.next.Before(now.Add(-time.Second)) {
		r.next = now
	}
	r.next = r.next.Add(time.Duration(float64(time.Second) / r.PerSecond))
	return sleepUntil(ctx, r.next)
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package ledger

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Why a day is not sealed yet.
const (
	WaitNotOver   = "not over"  // the day has not been over for Grace
	WaitArriving  = "arriving"  // its events have not been quiet for Settle
	WaitAnnounced = "announced" // its intent stands; every pipeline instance marks late arrivals for Settle
)

// Wait is an unsealed day the latest Seal left for later: why, and the
// earliest time it may be sealed.
type Wait struct {
	Center, Day string
	Reason      string
	Until       time.Time
}

// String says it for a person.
func (w Wait) String() string {
	switch w.Reason {
	case WaitNotOver:
		return fmt.Sprintf("%s %s: not over long enough (its end + grace); sealable from %s", w.Center, w.Day, w.Until.Format(time.DateTime))
	case WaitArriving:
		return fmt.Sprintf("%s %s: events still arriving; announced once quiet, at %s the earliest", w.Center, w.Day, w.Until.Format(time.DateTime))
	default:
		return fmt.Sprintf("%s %s: announced to the pipeline instances; sealable at %s", w.Center, w.Day, w.Until.Format(time.DateTime))
	}
}

// Waiting returns the unsealed days that the latest Seal of this Ledger
// found and left for later, earliest first.
func (l *Ledger) Waiting(ctx context.Context) ([]Wait, error) {
	now, err := l.store.Now(ctx)
	if err != nil {
		return nil, err
	}
	intended, err := l.intended(ctx)
	if err != nil {
		return nil, err
	}
	var out []Wait
	for k, last := range l.waiting {
		_, end, err := dayBounds(k[1], l.loc)
		if err != nil {
			return nil, err
		}
		w := Wait{Center: k[0], Day: k[1]}
		at, announced := intended[k]
		switch over := time.UnixMilli(end).Add(l.cfg.Grace); {
		case over.After(now):
			w.Reason, w.Until = WaitNotOver, over
		case !announced:
			w.Reason, w.Until = WaitArriving, last.Add(l.cfg.Settle)
		default:
			w.Reason, w.Until = WaitAnnounced, at.Add(l.cfg.Settle)
		}
		w.Until = w.Until.In(l.loc)
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Until.Equal(out[j].Until) {
			return out[i].Until.Before(out[j].Until)
		}
		return out[i].Center+out[i].Day < out[j].Center+out[j].Day
	})
	return out, nil
}

// maxSealRounds bounds the sealings of one SealWithin (each day needs at
// most two: its announcement, then its seal).
const maxSealRounds = 20

// SealWithin seals what is due, then, for as long as some day becomes
// sealable within wait, sleeps until it does and seals again: a store
// loaded without a running pipeline is sealed in one call (with Settle 0,
// at once). It returns the records appended and the days still waiting;
// progress, if set, hears of each wait.
func (l *Ledger) SealWithin(ctx context.Context, wait time.Duration, progress func(Wait)) (SealReport, []Wait, error) {
	var total SealReport
	deadline := time.Now().Add(wait)
	for rounds := 0; ; rounds++ {
		rep, err := l.Seal(ctx)
		if err != nil {
			return total, nil, err
		}
		total.Sealed = append(total.Sealed, rep.Sealed...)
		total.Unexplained = append(total.Unexplained, rep.Unexplained...)
		waits, err := l.Waiting(ctx)
		if err != nil {
			return total, nil, err
		}
		now, err := l.store.Now(ctx)
		if err != nil {
			return total, nil, err
		}
		next := -1
		for i, w := range waits {
			if w.Reason != WaitNotOver && !w.Until.After(now.Add(time.Until(deadline))) {
				next = i
				break
			}
		}
		if next < 0 || rounds == maxSealRounds {
			return total, waits, nil
		}
		if progress != nil {
			progress(waits[next])
		}
		// The store's clock stamps the intents, and reads in whole seconds.
		d := waits[next].Until.Sub(now) + time.Second
		t := time.NewTimer(max(d, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, waits, ctx.Err()
		case <-t.C:
		}
	}
}

// intended returns when each centre-day's intent was written.
func (l *Ledger) intended(ctx context.Context) (map[[2]string]time.Time, error) {
	intents, err := l.store.Intents(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[[2]string]time.Time, len(intents))
	for _, in := range intents {
		out[[2]string{in.Center, in.Day}] = in.At
	}
	return out, nil
}

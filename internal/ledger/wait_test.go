package ledger_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/ledger"
)

// A store loaded without a pipeline, just now: with the default settle,
// SealWithin without time to wait seals nothing and says each day is
// still arriving, or not over; with settle 0 (no pipeline runs) one call
// announces and seals every day that is over, and only the day not over
// waits, with when.
func TestSealWithinOneCall(t *testing.T) {
	f := newFixture(t)
	f.store.now = at(14, 1) // the 13th ends at 0:00 of the 14th: not over for the 2 h grace
	f.write(ev("a1", at(11, 10), "q"), ev("a2", at(12, 11), "q"), ev("a3", at(13, 12), "q"))
	ctx := context.Background()
	rep, waits, err := f.led.SealWithin(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, w := range waits {
		reasons[w.Day] = w.Reason
	}
	if len(rep.Sealed) != 0 || reasons["2026-10-11"] != ledger.WaitArriving || reasons["2026-10-12"] != ledger.WaitArriving ||
		reasons["2026-10-13"] != ledger.WaitNotOver {
		t.Fatalf("default settle, no wait: sealed %d, waits %v", len(rep.Sealed), waits)
	}

	cfg := ledger.DefaultConfig()
	cfg.Settle = 0
	led := ledger.New(f.store, shanghai, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var heard []ledger.Wait
	start := time.Now()
	rep, waits, err = led.SealWithin(ctx, time.Minute, func(w ledger.Wait) { heard = append(heard, w) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sealed) != 2 || len(waits) != 1 || waits[0].Day != "2026-10-13" || waits[0].Reason != ledger.WaitNotOver ||
		!waits[0].Until.Equal(at(14, 2)) {
		t.Fatalf("settle 0: sealed %+v, waits %v", rep.Sealed, waits)
	}
	if len(heard) == 0 || heard[0].Reason != ledger.WaitAnnounced || time.Since(start) > 10*time.Second {
		t.Errorf("progress %v after %s", heard, time.Since(start))
	}
	t.Logf("%s; still waiting: %s", time.Since(start).Round(time.Millisecond), waits[0])
	f.led = led
	f.expect(map[string]ledger.Status{"2026-10-11": ledger.StatusOK, "2026-10-12": ledger.StatusOK, "2026-10-13": ledger.StatusUnsealed})
}

package indicator

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// The aggregate key holds every indicator id and every bucket of the
// timestamps the contract accepts, with room for the catalogue to grow.
func TestCellKeyHoldsEveryIndicatorAndBucket(t *testing.T) {
	if numIDs > 1<<indBits {
		t.Fatalf("%d indicators; the key holds %d", numIDs, 1<<indBits)
	}
	last := id(1<<indBits - 1)
	for _, ts := range []int64{event.MinTS, event.MaxTS - 1} {
		b := ts - ts%bucketMs
		k := makeKey(last, b, 1<<32-1)
		if k.ind() != last || k.bucket() != b || k.dims() != 1<<32-1 {
			t.Errorf("key of %d: ind %d bucket %d dims %d", ts, k.ind(), k.bucket(), k.dims())
		}
	}
}

// The engine's id constants follow the catalogue's order.
func TestIDsFollowCatalogue(t *testing.T) {
	inds := profile.Indicators()
	if len(inds) != int(numIDs) {
		t.Fatalf("catalogue has %d indicators, engine %d", len(inds), numIDs)
	}
	spot := map[id]string{callsOffered: "calls_offered", serviceLevel: "answered_within_15s_rate",
		ticketsCreated: "tickets_created", overdueOpen: "overdue_open", ticketSatisfaction: "ticket_satisfaction_rate"}
	for i, want := range spot {
		if names[i] != want {
			t.Errorf("id %d is %s, want %s", i, names[i], want)
		}
	}
}

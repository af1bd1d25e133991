package indicator

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

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

package compute_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Lines cross chunk boundaries, a line larger than any chunk is skipped and
// reported with its number, CRLF and blank lines are fine, and the last
// line may lack its line end.
func TestDecodeSplitsAnyInput(t *testing.T) {
	var b strings.Builder
	want := map[int]event.Reason{}
	line := 0
	addLine := func(s string) { b.WriteString(s); b.WriteString("\n"); line++ }
	for i := range 30000 { // about 3 MiB: several chunks
		switch {
		case i == 12345:
			addLine(`{"event_id":"huge","type":"ticket.closed","subject":"` + strings.Repeat("x", 3<<20) + `"}`)
			want[line] = event.ReasonTooLarge
		case i%1000 == 7:
			addLine(`{"broken":`)
			want[line] = event.ReasonInvalidJSON
		case i%999 == 0:
			addLine("")
		default:
			addLine(fmt.Sprintf(`{"event_id":"e%d","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k%d","queue":"q"}`+"\r", i, i))
		}
	}
	b.WriteString(`{"event_id":"last","type":"ticket.closed","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t"}`)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var n int
	var lastID string
	got := map[int]event.Reason{}
	err := compute.Decode(context.Background(), []string{file}, event.DefaultMaxBytes,
		func(evs []event.Event) {
			n += len(evs)
			if len(evs) > 0 {
				lastID = evs[len(evs)-1].ID
			}
		},
		func(r compute.Reject) { got[r.Line] = r.Reason })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("rejects at %v, want %v", got, want)
	}
	for l, r := range want {
		if got[l] != r {
			t.Errorf("line %d: %q, want %q", l, got[l], r)
		}
	}
	blank := 30000/999 + 1
	if wantN := 30000 - len(want) - blank + 1; n != wantN || lastID != "last" {
		t.Errorf("decoded %d events (last %q), want %d (last \"last\")", n, lastID, wantN)
	}
}

func TestDecodeMissingFileIsAnError(t *testing.T) {
	err := compute.Decode(context.Background(), []string{"/nonexistent/events.ndjson"}, 1<<20,
		func([]event.Event) {}, func(compute.Reject) {})
	if err == nil {
		t.Fatal("missing file accepted")
	}
}

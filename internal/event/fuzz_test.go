package event_test

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// FuzzDecode checks that no input crashes the decoder, that every failure is
// a typed rejection, and that every accepted event is well formed.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		call("call.queued", `,"queue":"general"`),
		call("call.arrived", `,"caller":"13800000000","channel":"web","attrs":{"a":1}`),
		call("call.transferred", `,"to_agent_id":"a2"`),
		ticket("ticket.dispatched", `,"department_id":"d","time_limit":"5wd","deadline":"2026-10-13T23:59:59.999+08:00"`),
		ticket("ticket.callback", `,"reached":true,"resolved":true,"rating":"satisfied"`),
		ticket("ticket.created", `,"category":"help","urgency":"urgent","channel":"email"`),
		`{"event_id":1}`, `[]`, `null`, `{"type":"call."}`, "",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	d := event.Decoder{MaxBytes: 4096, HashCaller: func(s string) string { return "x" }}
	f.Fuzz(func(t *testing.T, msg []byte) {
		e, err := d.Decode(msg)
		if err != nil {
			if event.ReasonOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if e.ID == "" || e.CenterID == "" || e.Type.String() == "" || e.V != 1 {
			t.Fatalf("accepted a malformed event %+v", e)
		}
		if (e.Type.IsCall() && e.CallID == "") || (e.Type.IsTicket() && e.TicketID == "") {
			t.Fatalf("accepted an event without its id %+v", e)
		}
	})
}

package event_test

import (
	"bytes"
	"strconv"
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

// FuzzMaskCaller checks that a caller number put anywhere a "caller" key
// can stand, in well-formed or broken messages, never survives masking,
// and that masking never crashes.
func FuzzMaskCaller(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","type":"call.arrived",`), []byte(`,"ts":"x"}`), uint64(13912345678), true)
	f.Add([]byte(`{"caller":`), []byte(``), uint64(8613800000000), false)
	f.Add([]byte(`not json "caller" `), []byte(`"caller":"1"`), uint64(13000000000), true)
	hash := func(s string) string { return "h" }
	f.Fuzz(func(t *testing.T, before, after []byte, n uint64, quoted bool) {
		number := strconv.FormatUint(n%1e13+1e10, 10) // 11 to 13 digits, as phone numbers
		value := number
		if quoted {
			value = `"` + number + `"`
		}
		msg := append(append(append([]byte{}, before...), `"caller":`+value...), after...)
		out := event.MaskCaller(msg, hash)
		if bytes.Contains(out, []byte(number)) && !bytes.Contains(before, []byte(number)) && !bytes.Contains(after, []byte(number)) {
			t.Fatalf("caller %s survives masking:\n%s\n%s", number, msg, out)
		}
	})
}

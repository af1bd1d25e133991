package event_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// A draft and the JSON message with the same fields decode to the same
// event, or are rejected for the same reason.
func TestDraftDecodesAsJSON(t *testing.T) {
	cases := []map[string]any{
		{"event_id": "e1", "type": "call.queued", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "call_id": "k1", "queue": "q"},
		{"event_id": "e2", "type": "call.queued", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "call_id": "k1"},
		{"event_id": "e3", "type": "call.arrived", "ts": "2026-10-09T09:00:00.120+08:00", "center_id": "c1", "call_id": "k1", "channel": "fax"},
		{"event_id": "e4", "type": "ticket.callback", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "reached": false, "rating": "satisfied"},
		{"event_id": "e5", "type": "ticket.callback", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "reached": true, "resolved": false, "rating": "satisfied"},
		{"event_id": "e6", "type": "ticket.dispatched", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "department_id": "d", "time_limit": "5wd", "deadline": "2026-10-16T23:59:59+08:00"},
		{"event_id": "e7", "type": "ticket.dispatched", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "department_id": "d", "time_limit": "5 days"},
		{"event_id": "e8", "type": "call.ended", "ts": "2026-10-09 09:00:00", "center_id": "c1", "call_id": "k1"},
		{"event_id": "", "type": "call.ended", "ts": "2026-10-09T09:00:00Z", "center_id": "c1", "call_id": "k1"},
		{"event_id": "e10", "type": "call.transferred", "ts": "2026-10-09T09:00:00Z", "center_id": "c1", "call_id": "k1"},
		{"event_id": "e12", "type": "ticket.dispatched", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "department_id": "d", "deadline": ""},
		{"event_id": "e13", "type": "ticket.extended", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "deadline": "2026-10-20"},
		{"event_id": "e14", "type": "call.rated", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "call_id": "k1", "rating": ""},
		{"event_id": "e15", "type": "call.answered", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "call_id": "k1", "agent_id": "a", "team": "外包一组"},
		{"event_id": "e16", "type": "call.evaluated", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "call_id": "k1", "evaluation_id": "v1", "form": "f", "score": 86.5, "max_score": 100.0, "auto_fail": true},
		{"event_id": "e17", "type": "ticket.evaluated", "ts": "2026-10-09T09:00:00+08:00", "center_id": "c1", "ticket_id": "t1", "evaluation_id": "v1", "form": "f", "score": 12.0, "max_score": 10.0},
		{"event_id": "e11", "type": "ticket.created", "ts": "2026-10-09T09:00:00Z", "center_id": "c1", "ticket_id": "t1", "category": "complaint", "urgency": "urgent", "channel": "web", "caller": "13800138000", "subject": "x"},
	}
	hash := func(s string) string { return "h" + s }
	for _, c := range cases {
		msg, _ := json.Marshal(c)
		d := event.Decoder{HashCaller: hash}
		want, wantErr := d.Decode(msg)
		var dr event.Draft
		for k, v := range c {
			switch v := v.(type) {
			case string:
				if err := dr.Set(k, v); err != nil {
					t.Fatal(err)
				}
			case bool:
				dr.SetBool(k, v)
			case float64:
				if err := dr.SetNumber(k, strconv.FormatFloat(v, 'g', -1, 64)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got event.Event
		gotErr := d.DecodeDraft(&dr, &got)
		if event.ReasonOf(gotErr) != event.ReasonOf(wantErr) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: draft error %v, JSON error %v", msg, gotErr, wantErr)
		}
		if gotErr == nil && !equalEvents(got, want) {
			t.Errorf("%s: draft %+v, JSON %+v", msg, got, want)
		}
	}
	var dr event.Draft
	if err := dr.Set("colour", "red"); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func equalEvents(a, b event.Event) bool { return reflect.DeepEqual(a, b) }

package event_test

import (
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

func TestMaskCaller(t *testing.T) {
	h := func(s string) string { return "h(" + s + ")" }
	cases := []struct{ in, want string }{
		{`{"type":"call.arrived","caller":"13800000000"}`, `{"type":"call.arrived","caller":"h(13800000000)"}`},
		{`{"caller" : "138000\u00300000","x":1}`, `{"caller" : "h(13800000000)","x":1}`},
		{`{"caller":13800000000,"ts":"bad"}`, `{"caller":"h(13800000000)","ts":"bad"}`},
		{`{"caller":"13800000000", broken`, `{"caller":"h(13800000000)", broken`},
		{`{"event_id":"e1","caller`, `{"event_id":"e1","caller`},
		{`no caller here`, `no caller here`},
	}
	for _, c := range cases {
		if got := string(event.MaskCaller([]byte(c.in), h)); got != c.want {
			t.Errorf("MaskCaller(%s) = %s, want %s", c.in, got, c.want)
		}
		if strings.Contains(c.want, "h(") && strings.Contains(string(event.MaskCaller([]byte(c.in), h)), `"13800000000"`) {
			t.Errorf("clear number left in %s", c.in)
		}
	}
}

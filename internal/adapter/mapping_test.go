package adapter_test

import (
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
)

const validHead = `
id: t
center_id: c1
call_id: "{id}"
`

func TestMappingErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", validHead + "colour: red\nevents: [{name: q, type: call.queued, time: '{t}', fields: {queue: q}}]", "field colour not found"},
		{"no id", "center_id: c1\ncall_id: '{id}'\nevents: [{name: q, type: call.queued, time: '{t}'}]", "id: required"},
		{"no events", validHead, "at least one event"},
		{"bad type", validHead + "events: [{name: q, type: call.queue, time: '{t}'}]", `"call.queue" is not an event type`},
		{"field of another type", validHead + "events: [{name: q, type: call.queued, time: '{t}', fields: {agent_id: '{a}'}}]", `call.queued does not take "agent_id"`},
		{"no ticket id", validHead + "events: [{name: c, type: ticket.created, time: '{t}'}]", "needs the mapping's ticket_id"},
		{"duplicate name", validHead + "events: [{name: q, type: call.queued, time: '{t}'}, {name: q, type: call.ended, time: '{t}'}]", `"q" is used twice`},
		{"not_before later", validHead + "events: [{name: q, type: call.queued, time: '{t}', not_before: e}, {name: e, type: call.ended, time: '{t}'}]", "not_before: \"e\" is not an earlier event"},
		{"two tests", validHead + "events: [{name: q, type: call.queued, time: '{t}', when: {column: '{x}', equals: a, present: true}}]", "exactly one of"},
		{"test without column", validHead + "events: [{name: q, type: call.queued, time: '{t}', when: {equals: a}}]", "needs `column`"},
		{"bad regexp", validHead + "events: [{name: q, type: call.queued, time: '{t}', when: {column: '{x}', matches: '('}}]", "matches:"},
		{"bad time format", validHead + "time_formats: [YYYY-MM-DD 12]\nevents: [{name: q, type: call.queued, time: '{t}'}]", "digits are not allowed"},
		{"bad zone", validHead + "timezone: Mars/Olympus\nevents: [{name: q, type: call.queued, time: '{t}'}]", "timezone:"},
		{"unclosed template", validHead + "events: [{name: q, type: call.queued, time: '{t'}]", "unclosed {"},
		{"bad reader", validHead + "reader: xml\nevents: [{name: q, type: call.queued, time: '{t}'}]", `"xml": want csv, xlsx, queue_log or json`},
		{"bad encoding", validHead + "csv: {encoding: latin1}\nevents: [{name: q, type: call.queued, time: '{t}'}]", "encoding"},
		{"bad skew", validHead + "clock_skew: soon\nevents: [{name: q, type: call.queued, time: '{t}'}]", "not a duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := adapter.ParseMapping("m.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestEveryErrorAtOnce(t *testing.T) {
	_, err := adapter.ParseMapping("m.yaml", []byte(`
id: t
call_id: "{id}"
events:
  - {name: q, type: call.queue, time: "{t}"}
  - {name: e, type: call.ended, fields: {queue: x}}
`))
	for _, want := range []string{"center_id: required", "events[0] (q): type", "events[1] (e): time: required", `does not take "queue"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want it to contain %q", err, want)
		}
	}
}

func TestBuiltinsParse(t *testing.T) {
	names := adapter.Builtins()
	if len(names) < 5 {
		t.Fatalf("built-in mappings: %v", names)
	}
	for _, n := range names {
		if _, err := adapter.LoadMapping(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := adapter.LoadMapping("nosuch"); err == nil || !strings.Contains(err.Error(), "asterisk-queue-log") {
		t.Errorf("unknown mapping: %v (want the list of built-ins)", err)
	}
}

func TestMissingVariable(t *testing.T) {
	m, err := adapter.LoadMapping("asterisk-queue-log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adapter.NewMapper(m, nil); err == nil || !strings.Contains(err.Error(), "center") {
		t.Fatalf("error = %v, want the missing variable named", err)
	}
}

package event_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

const env = `"event_id":"e1","ts":"2026-10-09T09:00:00.120+08:00","center_id":"c1"`

func call(typ, extra string) string {
	return `{` + env + `,"type":"` + typ + `","call_id":"k1"` + extra + `}`
}

func ticket(typ, extra string) string {
	return `{` + env + `,"type":"` + typ + `","ticket_id":"t1"` + extra + `}`
}

func agent(typ, extra string) string {
	return `{` + env + `,"type":"` + typ + `","agent_id":"a7"` + extra + `}`
}

func hash(s string) string { return "h(" + s + ")" }

func TestDecodeAcceptsEveryType(t *testing.T) {
	const ts = 1791507600120 // 2026-10-09T09:00:00.120+08:00
	cases := []struct {
		msg  string
		want event.Event
	}{
		{call("call.arrived", `,"caller":"13800000000"`),
			event.Event{Type: event.CallArrived, CallID: "k1", Channel: event.ChannelVoice, CallerHash: "h(13800000000)"}},
		{call("call.arrived", `,"channel":"wechat"`),
			event.Event{Type: event.CallArrived, CallID: "k1", Channel: event.ChannelWeChat}},
		{call("call.queued", `,"queue":"general"`),
			event.Event{Type: event.CallQueued, CallID: "k1", Queue: "general"}},
		{call("call.answered", `,"agent_id":"a7","queue":"general"`),
			event.Event{Type: event.CallAnswered, CallID: "k1", AgentID: "a7", Queue: "general"}},
		{call("call.abandoned", `,"queue":"general"`),
			event.Event{Type: event.CallAbandoned, CallID: "k1", Queue: "general"}},
		{call("call.abandoned", ``), event.Event{Type: event.CallAbandoned, CallID: "k1"}},
		{call("call.held", `,"agent_id":"a7"`), event.Event{Type: event.CallHeld, CallID: "k1", AgentID: "a7"}},
		{call("call.retrieved", `,"agent_id":"a7"`), event.Event{Type: event.CallRetrieved, CallID: "k1", AgentID: "a7"}},
		{call("call.transferred", `,"to_department_id":"housing"`),
			event.Event{Type: event.CallTransferred, CallID: "k1", ToDepartmentID: "housing"}},
		{call("call.transferred", `,"to_queue":"q2"`), event.Event{Type: event.CallTransferred, CallID: "k1", ToQueue: "q2"}},
		{call("call.transferred", `,"to_agent_id":"a9"`), event.Event{Type: event.CallTransferred, CallID: "k1", ToAgentID: "a9"}},
		{call("call.ended", `,"ended_by":"agent"`), event.Event{Type: event.CallEnded, CallID: "k1", EndedBy: event.EndedByAgent}},
		{call("call.wrapup_ended", `,"agent_id":"a7"`), event.Event{Type: event.CallWrapupEnded, CallID: "k1", AgentID: "a7"}},
		{call("call.rated", `,"rating":"basically_satisfied"`),
			event.Event{Type: event.CallRated, CallID: "k1", Rating: event.RatingBasicallySatisfied}},
		{ticket("ticket.created", `,"category":"complaint","urgency":"urgent","channel":"sms","call_id":"k1","caller":"139","subject":"噪音"`),
			event.Event{Type: event.TicketCreated, TicketID: "t1", Category: event.CategoryComplaint, Urgency: event.UrgencyUrgent,
				Channel: event.ChannelSMS, CallID: "k1", CallerHash: "h(139)", Subject: "噪音"}},
		{ticket("ticket.created", ``),
			event.Event{Type: event.TicketCreated, TicketID: "t1", Urgency: event.UrgencyNormal, Channel: event.ChannelVoice}},
		{ticket("ticket.created", `,"topic":"010101","area":"越秀区"`), // revision 1.2: free strings, unknown codes accepted
			event.Event{Type: event.TicketCreated, TicketID: "t1", Urgency: event.UrgencyNormal, Channel: event.ChannelVoice, Topic: "010101", Area: "越秀区"}},
		{ticket("ticket.created", `,"topic":"`+strings.Repeat("诉", 64)+`"`),
			event.Event{Type: event.TicketCreated, TicketID: "t1", Urgency: event.UrgencyNormal, Channel: event.ChannelVoice, Topic: strings.Repeat("诉", 64)}},
		{ticket("ticket.resolved_on_intake", ``), event.Event{Type: event.TicketResolvedOnIntake, TicketID: "t1"}},
		{ticket("ticket.responded", ``), event.Event{Type: event.TicketResponded, TicketID: "t1"}},
		{ticket("ticket.dispatched", `,"department_id":"housing","deadline":"2026-10-13T23:59:59.999+08:00","time_limit":"5wd"`),
			event.Event{Type: event.TicketDispatched, TicketID: "t1", DepartmentID: "housing", Deadline: 1791907199999,
				TimeLimit: event.Limit{Amount: 5, Unit: event.UnitWorkdays}}},
		{ticket("ticket.accepted", `,"department_id":"housing"`), event.Event{Type: event.TicketAccepted, TicketID: "t1", DepartmentID: "housing"}},
		{ticket("ticket.contacted", `,"department_id":"housing"`), event.Event{Type: event.TicketContacted, TicketID: "t1", DepartmentID: "housing"}},
		{ticket("ticket.returned", `,"department_id":"housing","reason":"不属本单位职责"`),
			event.Event{Type: event.TicketReturned, TicketID: "t1", DepartmentID: "housing", Reason: "不属本单位职责"}},
		{ticket("ticket.extended", `,"deadline":"2026-10-20T00:00:00Z"`),
			event.Event{Type: event.TicketExtended, TicketID: "t1", Deadline: 1792454400000}},
		{ticket("ticket.suspended", ``), event.Event{Type: event.TicketSuspended, TicketID: "t1"}},
		{ticket("ticket.resumed", ``), event.Event{Type: event.TicketResumed, TicketID: "t1"}},
		{ticket("ticket.replied", `,"department_id":"housing"`), event.Event{Type: event.TicketReplied, TicketID: "t1", DepartmentID: "housing"}},
		{ticket("ticket.callback", `,"reached":true,"resolved":false,"rating":"satisfied"`),
			event.Event{Type: event.TicketCallback, TicketID: "t1", Reached: event.True, Resolved: event.False, Rating: event.RatingSatisfied}},
		{ticket("ticket.callback", `,"reached":false`), event.Event{Type: event.TicketCallback, TicketID: "t1", Reached: event.False}},
		{ticket("ticket.closed", ``), event.Event{Type: event.TicketClosed, TicketID: "t1"}},
		{ticket("ticket.reopened", `,"reason":"不满意"`), event.Event{Type: event.TicketReopened, TicketID: "t1", Reason: "不满意"}},
		{call("call.evaluated", `,"evaluation_id":"ev-88","form":"voice-2026","score":86.5,"max_score":100,"evaluator":"qa3","agent_id":"a7","auto_fail":false`),
			event.Event{Type: event.CallEvaluated, CallID: "k1", EvaluationID: "ev-88", Form: "voice-2026", Score: 86.5, MaxScore: 100,
				Evaluator: "qa3", AgentID: "a7", AutoFail: event.False}},
		{ticket("ticket.evaluated", `,"evaluation_id":"tv-1","form":"ticket-2026","score":0,"max_score":10,"passed":true,"department_id":"housing"`),
			event.Event{Type: event.TicketEvaluated, TicketID: "t1", EvaluationID: "tv-1", Form: "ticket-2026", MaxScore: 10,
				Passed: event.True, DepartmentID: "housing"}},
		{agent("agent.logged_in", `,"team":"outsource-b","queues":["general","tax"],"call_id":"ignored"`),
			event.Event{Type: event.AgentLoggedIn, AgentID: "a7", Team: "outsource-b", Queues: []string{"general", "tax"}, State: event.AgentReady}},
		{agent("agent.logged_in", `,"state":"not_ready","reason":"meeting"`),
			event.Event{Type: event.AgentLoggedIn, AgentID: "a7", State: event.AgentNotReady, Reason: "meeting"}},
		{agent("agent.state_changed", `,"state":"wrapup"`),
			event.Event{Type: event.AgentStateChanged, AgentID: "a7", State: event.AgentWrapup}},
		{agent("agent.logged_out", ``), event.Event{Type: event.AgentLoggedOut, AgentID: "a7"}},
	}
	seen := map[event.Type]bool{}
	d := event.Decoder{HashCaller: hash}
	for _, c := range cases {
		t.Run(c.want.Type.String(), func(t *testing.T) {
			got, err := d.Decode([]byte(c.msg))
			if err != nil {
				t.Fatalf("Decode(%s): %v", c.msg, err)
			}
			want := c.want
			want.ID, want.TS, want.CenterID, want.V = "e1", ts, "c1", 1
			if got.Type != want.Type || !equal(got, want) {
				t.Errorf("Decode(%s)\n got %+v\nwant %+v", c.msg, got, want)
			}
		})
		seen[c.want.Type] = true
	}
	for _, typ := range event.Types() {
		if !seen[typ] {
			t.Errorf("no case for %s", typ)
		}
	}
}

func equal(a, b event.Event) bool { return reflect.DeepEqual(a, b) }

func TestDecodeKeepsAttrsAndDropsCallerWithoutKey(t *testing.T) {
	var d event.Decoder
	got, err := d.Decode([]byte(call("call.arrived", `,"caller":"13800000000","v":1,"attrs":{"vendor":"x","n":[1,2]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if got.CallerHash != "" {
		t.Errorf("caller kept without a hash key: %q", got.CallerHash)
	}
	if string(got.Attrs) != `{"vendor":"x","n":[1,2]}` {
		t.Errorf("attrs = %s", got.Attrs)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name   string
		msg    string
		reason event.Reason
		field  string
	}{
		{"too large", call("call.queued", `,"queue":"`+strings.Repeat("q", 300)+`"`), event.ReasonTooLarge, ""},
		{"not json", `{"event_id":`, event.ReasonInvalidJSON, ""},
		{"empty", ``, event.ReasonInvalidJSON, ""},
		{"array", `[1,2]`, event.ReasonInvalidJSON, ""},
		{"bad utf8", "{\"event_id\":\"\xff\"}", event.ReasonInvalidJSON, ""},
		{"trailing garbage", call("call.queued", `,"queue":"q"`) + `x`, event.ReasonInvalidJSON, ""},
		{"no type", `{` + env + `,"call_id":"k1"}`, event.ReasonMissingField, "type"},
		{"unknown type", call("call.teleported", ``), event.ReasonUnknownType, "type"},
		{"type not string", `{` + env + `,"type":7}`, event.ReasonInvalidField, "type"},
		{"no event_id", `{"type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`, event.ReasonMissingField, "event_id"},
		{"empty event_id", `{"event_id":"","type":"call.queued","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","call_id":"k1","queue":"q"}`, event.ReasonInvalidField, "event_id"},
		{"event_id of 129 characters", `{"event_id":"` + strings.Repeat("x", 100) + strings.Repeat("é", 29) + `","type":"ticket.closed","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidField, "event_id"},
		{"version 2", ticket("ticket.closed", `,"v":2`), event.ReasonInvalidField, "v"},
		{"unreached callback with a rating", ticket("ticket.callback", `,"reached":false,"rating":"satisfied"`), event.ReasonInvalidField, "rating"},
		{"long event_id", `{"event_id":"` + strings.Repeat("x", 129) + `","type":"ticket.closed","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidField, "event_id"},
		{"no ts", `{"event_id":"e","type":"ticket.closed","center_id":"c1","ticket_id":"t"}`, event.ReasonMissingField, "ts"},
		{"ts without offset", `{"event_id":"e","type":"ticket.closed","ts":"2026-10-09T09:00:00","center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidTimestamp, "ts"},
		{"ts garbage", `{"event_id":"e","type":"ticket.closed","ts":"yesterday","center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidTimestamp, "ts"},
		{"ts before 1970", `{"event_id":"e","type":"ticket.closed","ts":"1969-12-31T23:00:00Z","center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidTimestamp, "ts"},
		{"ts number", `{"event_id":"e","type":"ticket.closed","ts":1760000000,"center_id":"c1","ticket_id":"t"}`, event.ReasonInvalidField, "ts"},
		{"no center", `{"event_id":"e","type":"ticket.closed","ts":"2026-10-09T09:00:00Z","ticket_id":"t"}`, event.ReasonMissingField, "center_id"},
		{"no call_id", `{` + env + `,"type":"call.queued","queue":"q"}`, event.ReasonMissingField, "call_id"},
		{"no ticket_id", `{` + env + `,"type":"ticket.closed"}`, event.ReasonMissingField, "ticket_id"},
		{"null ticket_id", `{` + env + `,"type":"ticket.closed","ticket_id":null}`, event.ReasonMissingField, "ticket_id"},
		{"queued no queue", call("call.queued", ``), event.ReasonMissingField, "queue"},
		{"answered no agent", call("call.answered", `,"queue":"q"`), event.ReasonMissingField, "agent_id"},
		{"transfer nowhere", call("call.transferred", ``), event.ReasonMissingField, "to_queue"},
		{"rated no rating", call("call.rated", ``), event.ReasonMissingField, "rating"},
		{"rated bad rating", call("call.rated", `,"rating":"meh"`), event.ReasonInvalidEnum, "rating"},
		{"bad channel", call("call.arrived", `,"channel":"fax"`), event.ReasonInvalidEnum, "channel"},
		{"bad ended_by", call("call.ended", `,"ended_by":"dog"`), event.ReasonInvalidEnum, "ended_by"},
		{"bad category", ticket("ticket.created", `,"category":"gossip"`), event.ReasonInvalidEnum, "category"},
		{"bad urgency", ticket("ticket.created", `,"urgency":"asap"`), event.ReasonInvalidEnum, "urgency"},
		{"channel not string", ticket("ticket.created", `,"channel":3`), event.ReasonInvalidField, "channel"},
		{"dispatch no department", ticket("ticket.dispatched", ``), event.ReasonMissingField, "department_id"},
		{"dispatch bad deadline", ticket("ticket.dispatched", `,"department_id":"d","deadline":"2026-13-01T00:00:00Z"`), event.ReasonInvalidTimestamp, "deadline"},
		{"dispatch bad limit", ticket("ticket.dispatched", `,"department_id":"d","time_limit":"5 days"`), event.ReasonInvalidField, "time_limit"},
		{"dispatch zero limit", ticket("ticket.dispatched", `,"department_id":"d","time_limit":"0wd"`), event.ReasonInvalidField, "time_limit"},
		{"extended no deadline", ticket("ticket.extended", ``), event.ReasonMissingField, "deadline"},
		{"callback no reached", ticket("ticket.callback", `,"resolved":true`), event.ReasonMissingField, "reached"},
		{"callback reached string", ticket("ticket.callback", `,"reached":"yes"`), event.ReasonInvalidField, "reached"},
		{"callback bad rating", ticket("ticket.callback", `,"reached":true,"rating":"ok"`), event.ReasonInvalidEnum, "rating"},
		{"version 2", call("call.queued", `,"queue":"q","v":2`), event.ReasonInvalidField, "v"},
		{"attrs not object", call("call.queued", `,"queue":"q","attrs":[1]`), event.ReasonInvalidField, "attrs"},
		{"evaluation no id", call("call.evaluated", `,"form":"f","score":1,"max_score":2`), event.ReasonMissingField, "evaluation_id"},
		{"evaluation empty id", call("call.evaluated", `,"evaluation_id":"","form":"f","score":1,"max_score":2`), event.ReasonInvalidField, "evaluation_id"},
		{"evaluation no form", call("call.evaluated", `,"evaluation_id":"v","score":1,"max_score":2`), event.ReasonMissingField, "form"},
		{"evaluation empty form", ticket("ticket.evaluated", `,"evaluation_id":"v","form":"","score":1,"max_score":2`), event.ReasonInvalidField, "form"},
		{"evaluation no score", call("call.evaluated", `,"evaluation_id":"v","form":"f","max_score":2`), event.ReasonMissingField, "score"},
		{"evaluation no max", call("call.evaluated", `,"evaluation_id":"v","form":"f","score":1`), event.ReasonMissingField, "max_score"},
		{"score a string", call("call.evaluated", `,"evaluation_id":"v","form":"f","score":"86","max_score":100`), event.ReasonInvalidField, "score"},
		{"score negative", call("call.evaluated", `,"evaluation_id":"v","form":"f","score":-1,"max_score":100`), event.ReasonInvalidField, "score"},
		{"max score zero", ticket("ticket.evaluated", `,"evaluation_id":"v","form":"f","score":0,"max_score":0`), event.ReasonInvalidField, "max_score"},
		{"score above max", call("call.evaluated", `,"evaluation_id":"v","form":"f","score":101,"max_score":100`), event.ReasonInvalidField, "score"},
		{"passed not bool", call("call.evaluated", `,"evaluation_id":"v","form":"f","score":1,"max_score":2,"passed":"yes"`), event.ReasonInvalidField, "passed"},
		{"agent without agent_id", `{` + env + `,"type":"agent.logged_out","call_id":"k1"}`, event.ReasonMissingField, "agent_id"},
		{"agent empty agent_id", `{` + env + `,"type":"agent.logged_in","agent_id":""}`, event.ReasonMissingField, "agent_id"},
		{"state change without state", agent("agent.state_changed", ``), event.ReasonMissingField, "state"},
		{"state outside the list", agent("agent.state_changed", `,"state":"away"`), event.ReasonInvalidField, "state"},
		{"login state outside the list", agent("agent.logged_in", `,"state":"idle"`), event.ReasonInvalidField, "state"},
		{"state not a string", agent("agent.state_changed", `,"state":1`), event.ReasonInvalidField, "state"},
		{"queues not a list", agent("agent.logged_in", `,"queues":"general"`), event.ReasonInvalidField, "queues"},
		{"queues not strings", agent("agent.logged_in", `,"queues":["general",7]`), event.ReasonInvalidField, "queues"},
		{"topic too long", ticket("ticket.created", `,"topic":"`+strings.Repeat("x", 65)+`"`), event.ReasonInvalidField, "topic"},
		{"area too long", ticket("ticket.created", `,"area":"`+strings.Repeat("q", 65)+`"`), event.ReasonInvalidField, "area"},
		{"topic not a string", ticket("ticket.created", `,"topic":12`), event.ReasonInvalidField, "topic"},
	}
	d := event.Decoder{MaxBytes: 300}
	covered := map[event.Reason]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.Decode([]byte(c.msg))
			var re *event.RejectError
			if !errors.As(err, &re) {
				t.Fatalf("Decode(%s) = %v, want a rejection %s", c.msg, err, c.reason)
			}
			if re.Reason != c.reason || re.Field != c.field {
				t.Errorf("Decode(%s) = %s/%q (%v), want %s/%q", c.msg, re.Reason, re.Field, err, c.reason, c.field)
			}
			if event.ReasonOf(err) != c.reason {
				t.Errorf("ReasonOf = %q", event.ReasonOf(err))
			}
		})
		covered[c.reason] = true
	}
	for _, r := range event.Reasons() {
		if !covered[r] {
			t.Errorf("no case for reason %s", r)
		}
	}
}

func TestRejectionNeverQuotesTheCaller(t *testing.T) {
	var d event.Decoder
	const phone = "13912345678"
	msgs := []string{
		`{"event_id":"e","type":"call.arrived","caller":"` + phone + `",`,
		call("call.arrived", `,"caller":"`+phone+`","channel":"fax"`),
		call("call.arrived", `,"caller":"`+phone+`","channel":"`+phone+`x"`),
	}
	for _, m := range msgs {
		_, err := d.Decode([]byte(m))
		if err == nil {
			t.Fatalf("Decode(%s) accepted", m)
		}
		if strings.Contains(err.Error(), phone) && !strings.Contains(m, `"channel":"`+phone) {
			t.Errorf("error quotes the caller: %v", err)
		}
	}
}

func TestParseLimit(t *testing.T) {
	good := map[string]event.Limit{
		"5wd": {5, event.UnitWorkdays}, "24h": {24, event.UnitHours}, "30m": {30, event.UnitMinutes},
	}
	for s, want := range good {
		got, err := event.ParseLimit(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseLimit(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "wd", "5", "5d", "-1h", "+3h", "1.5h", "0m", "99999999wd"} {
		if _, err := event.ParseLimit(s); err == nil {
			t.Errorf("ParseLimit(%q) accepted", s)
		}
	}
}

// event_id is limited in characters, not bytes: 128 Chinese characters
// (384 bytes) are accepted.
func TestEventIDLimitCountsCharacters(t *testing.T) {
	var d event.Decoder
	msg := `{"event_id":"` + strings.Repeat("工", 128) + `","type":"ticket.closed","ts":"2026-10-09T09:00:00+08:00","center_id":"c1","ticket_id":"t"}`
	if _, err := d.Decode([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	ok := ticket("ticket.callback", `,"reached":true,"rating":"satisfied"`)
	if _, err := d.Decode([]byte(ok)); err != nil {
		t.Fatal(err)
	}
}

package event

import (
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// DefaultMaxBytes is the default size limit of one message (1 MiB).
const DefaultMaxBytes = 1 << 20

// MaxIDLen is the longest event_id the contract allows.
const MaxIDLen = 128

// Timestamps outside [1970-01-01, 2106-01-01) cannot be stored in a
// ClickHouse DateTime and are rejected.
const (
	minTS = 0
	maxTS = 4291747200000
)

// Decoder decodes v1 events strictly. A Decoder reuses its parse buffers and
// is not safe for concurrent use; use one per goroutine.
type Decoder struct {
	// MaxBytes is the size limit of a message; 0 means DefaultMaxBytes.
	MaxBytes int
	// HashCaller turns a caller's phone number into its keyed hash. When nil,
	// the caller is dropped. The clear number is never kept in the Event.
	HashCaller func(string) string

	p fastjson.Parser
}

// Decode parses one JSON message into an Event. Bad input yields a
// *RejectError whose Reason says which rule of the contract it broke.
func (d *Decoder) Decode(msg []byte) (Event, error) {
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if len(msg) > limit {
		return Event{}, reject(ReasonTooLarge, "", "message of %d bytes exceeds the limit of %d", len(msg), limit)
	}
	if !utf8.Valid(msg) {
		return Event{}, reject(ReasonInvalidJSON, "", "not valid UTF-8")
	}
	v, err := d.p.ParseBytes(msg)
	if err != nil {
		// fastjson's message quotes the input, which may hold personal data.
		return Event{}, reject(ReasonInvalidJSON, "", "malformed JSON")
	}
	o, err := v.Object()
	if err != nil {
		return Event{}, reject(ReasonInvalidJSON, "", "not a JSON object")
	}
	f := fields{o: o}
	e := d.decode(&f)
	if f.err != nil {
		return Event{}, f.err
	}
	return e, nil
}

func (d *Decoder) decode(f *fields) Event {
	var e Event
	e.Type = f.eventType()
	e.ID = f.required("event_id")
	if len(e.ID) > MaxIDLen {
		f.fail(reject(ReasonInvalidField, "event_id", "longer than %d bytes", MaxIDLen))
	}
	e.TS = f.timestamp("ts", true)
	e.CenterID = f.required("center_id")
	e.V = f.version()
	e.Attrs = f.attrs()
	if f.err != nil {
		return e
	}
	if e.Type.IsCall() {
		e.CallID = f.required("call_id")
	} else {
		e.TicketID = f.required("ticket_id")
	}
	typeFields[e.Type](d, f, &e)
	return e
}

// typeFields reads the fields specific to each event type.
var typeFields = [numTypes]func(*Decoder, *fields, *Event){
	TypeInvalid: func(*Decoder, *fields, *Event) {},
	CallArrived: func(d *Decoder, f *fields, e *Event) {
		e.Channel = Channel(f.enum("channel", channelNames, uint8(ChannelVoice)))
		e.CallerHash = d.caller(f)
	},
	CallQueued: func(_ *Decoder, f *fields, e *Event) { e.Queue = f.required("queue") },
	CallAnswered: func(_ *Decoder, f *fields, e *Event) {
		e.AgentID = f.required("agent_id")
		e.Queue = f.str("queue")
	},
	CallAbandoned: func(_ *Decoder, f *fields, e *Event) { e.Queue = f.str("queue") },
	CallHeld:      agentOnly,
	CallRetrieved: agentOnly,
	CallTransferred: func(_ *Decoder, f *fields, e *Event) {
		e.ToQueue, e.ToAgentID, e.ToDepartmentID = f.str("to_queue"), f.str("to_agent_id"), f.str("to_department_id")
		if e.ToQueue == "" && e.ToAgentID == "" && e.ToDepartmentID == "" {
			f.fail(reject(ReasonMissingField, "to_queue", "a transfer needs one of to_queue, to_agent_id, to_department_id"))
		}
	},
	CallEnded:       func(_ *Decoder, f *fields, e *Event) { e.EndedBy = EndedBy(f.enum("ended_by", endedByNames, 0)) },
	CallWrapupEnded: agentOnly,
	CallRated: func(_ *Decoder, f *fields, e *Event) {
		e.Rating = Rating(f.requiredEnum("rating", ratingNames))
	},
	TicketCreated: func(d *Decoder, f *fields, e *Event) {
		e.Category = Category(f.enum("category", categoryNames, 0))
		e.Urgency = Urgency(f.enum("urgency", urgencyNames, uint8(UrgencyNormal)))
		e.Channel = Channel(f.enum("channel", channelNames, uint8(ChannelVoice)))
		e.CallID = f.str("call_id")
		e.CallerHash = d.caller(f)
		e.Subject = f.str("subject")
	},
	TicketResolvedOnIntake: nothing,
	TicketResponded:        nothing,
	TicketDispatched: func(_ *Decoder, f *fields, e *Event) {
		e.DepartmentID = f.required("department_id")
		e.Deadline = f.timestamp("deadline", false)
		e.TimeLimit = f.limit("time_limit")
	},
	TicketAccepted:  departmentOnly,
	TicketContacted: departmentOnly,
	TicketReturned: func(_ *Decoder, f *fields, e *Event) {
		e.DepartmentID = f.str("department_id")
		e.Reason = f.str("reason")
	},
	TicketExtended:  func(_ *Decoder, f *fields, e *Event) { e.Deadline = f.timestamp("deadline", true) },
	TicketSuspended: nothing,
	TicketResumed:   nothing,
	TicketReplied:   departmentOnly,
	TicketCallback: func(_ *Decoder, f *fields, e *Event) {
		e.Reached = f.boolean("reached", true)
		e.Resolved = f.boolean("resolved", false)
		e.Rating = Rating(f.enum("rating", ratingNames, 0))
	},
	TicketClosed:   nothing,
	TicketReopened: func(_ *Decoder, f *fields, e *Event) { e.Reason = f.str("reason") },
}

func nothing(*Decoder, *fields, *Event)              {}
func agentOnly(_ *Decoder, f *fields, e *Event)      { e.AgentID = f.str("agent_id") }
func departmentOnly(_ *Decoder, f *fields, e *Event) { e.DepartmentID = f.str("department_id") }
func (d *Decoder) caller(f *fields) string {
	c := f.str("caller")
	if c == "" || d.HashCaller == nil {
		return ""
	}
	return d.HashCaller(c)
}

// fields reads typed fields of one JSON object and keeps the first error.
type fields struct {
	o   *fastjson.Object
	err *RejectError
}

func (f *fields) fail(err *RejectError) {
	if f.err == nil {
		f.err = err
	}
}

// get returns the field's value, or nil when it is absent or null.
func (f *fields) get(name string) *fastjson.Value {
	v := f.o.Get(name)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	return v
}

func (f *fields) eventType() Type {
	s := f.required("type")
	if s == "" {
		return TypeInvalid
	}
	for t := CallArrived; t < numTypes; t++ {
		if typeNames[t] == s {
			return t
		}
	}
	f.fail(reject(ReasonUnknownType, "type", "unknown event type %q", truncate(s)))
	return TypeInvalid
}

// str returns an optional string field, "" when absent.
func (f *fields) str(name string) string {
	v := f.get(name)
	if v == nil {
		return ""
	}
	b, err := v.StringBytes()
	if err != nil {
		f.fail(reject(ReasonInvalidField, name, "want a string, got %s", v.Type()))
		return ""
	}
	return string(b)
}

// required returns a string field that must be present and non-empty.
func (f *fields) required(name string) string {
	if f.get(name) == nil {
		f.fail(reject(ReasonMissingField, name, "required field is missing"))
		return ""
	}
	s := f.str(name)
	if s == "" {
		f.fail(reject(ReasonMissingField, name, "required field is empty"))
	}
	return s
}

// enum returns the index of an optional enumerated field in names, or def
// when it is absent.
func (f *fields) enum(name string, names []string, def uint8) uint8 {
	if f.get(name) == nil {
		return def
	}
	s := f.str(name)
	if v, ok := lookup(names, s); ok {
		return v
	}
	if f.err == nil {
		f.fail(reject(ReasonInvalidEnum, name, "%q is not one of %v", truncate(s), names[1:]))
	}
	return def
}

func (f *fields) requiredEnum(name string, names []string) uint8 {
	if f.get(name) == nil {
		f.fail(reject(ReasonMissingField, name, "required field is missing"))
		return 0
	}
	return f.enum(name, names, 0)
}

// timestamp parses an RFC 3339 time with an offset into Unix milliseconds;
// 0 when an optional field is absent.
func (f *fields) timestamp(name string, required bool) int64 {
	if f.get(name) == nil {
		if required {
			f.fail(reject(ReasonMissingField, name, "required field is missing"))
		}
		return 0
	}
	s := f.str(name)
	if f.err != nil {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.fail(reject(ReasonInvalidTimestamp, name, "%q is not RFC 3339 with an offset", truncate(s)))
		return 0
	}
	ms := t.UnixMilli()
	if ms < minTS || ms >= maxTS {
		f.fail(reject(ReasonInvalidTimestamp, name, "%q is outside 1970..2105", truncate(s)))
		return 0
	}
	return ms
}

func (f *fields) boolean(name string, required bool) Tri {
	v := f.get(name)
	switch {
	case v == nil && required:
		f.fail(reject(ReasonMissingField, name, "required field is missing"))
	case v == nil:
	case v.Type() == fastjson.TypeTrue:
		return True
	case v.Type() == fastjson.TypeFalse:
		return False
	default:
		f.fail(reject(ReasonInvalidField, name, "want true or false, got %s", v.Type()))
	}
	return Unset
}

func (f *fields) limit(name string) Limit {
	s := f.str(name)
	if s == "" {
		return Limit{}
	}
	l, err := ParseLimit(s)
	if err != nil {
		f.fail(reject(ReasonInvalidField, name, "%v", err))
	}
	return l
}

func (f *fields) version() int {
	v := f.get("v")
	if v == nil {
		return 1
	}
	n, err := v.Int()
	if err != nil || n != 1 {
		f.fail(reject(ReasonInvalidField, "v", "unsupported schema version %s (this decoder reads version 1)", truncate(v.String())))
		return 0
	}
	return n
}

func (f *fields) attrs() []byte {
	v := f.get("attrs")
	if v == nil {
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		f.fail(reject(ReasonInvalidField, "attrs", "want an object, got %s", v.Type()))
		return nil
	}
	return v.MarshalTo(nil)
}

// truncate shortens a quoted input value in an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

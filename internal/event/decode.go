package event

import (
	"math"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// DefaultMaxBytes is the default size limit of one message (1 MiB).
const DefaultMaxBytes = 1 << 20

// MaxIDLen is the longest event_id the contract allows.
const MaxIDLen = 128

// MaxTopicLen bounds ticket.created's topic and area (revision 1.2).
const MaxTopicLen = 64

// MinTS and MaxTS bound the timestamps an event may carry (Unix ms,
// [1970-01-01, 2106-01-01)): outside, a ClickHouse DateTime cannot store
// them, and the decoder rejects them.
const (
	MinTS = 0
	MaxTS = 4291747200000
)

// field names a known top-level key of an event.
type field uint8

const (
	fEventID field = iota
	fType
	fTS
	fCenterID
	fCallID
	fTicketID
	fV
	fAttrs
	fChannel
	fCaller
	fQueue
	fAgentID
	fToQueue
	fToAgentID
	fToDepartmentID
	fEndedBy
	fRating
	fCategory
	fUrgency
	fSubject
	fDepartmentID
	fDeadline
	fTimeLimit
	fReason
	fReached
	fResolved
	fTeam
	fEvaluationID
	fForm
	fScore
	fMaxScore
	fPassed
	fAutoFail
	fEvaluator
	fState
	fQueues
	fTopic
	fArea
	numFields
)

var fieldNames = [numFields]string{"event_id", "type", "ts", "center_id", "call_id", "ticket_id", "v", "attrs",
	"channel", "caller", "queue", "agent_id", "to_queue", "to_agent_id", "to_department_id", "ended_by", "rating",
	"category", "urgency", "subject", "department_id", "deadline", "time_limit", "reason", "reached", "resolved", "team",
	"evaluation_id", "form", "score", "max_score", "passed", "auto_fail", "evaluator", "state", "queues", "topic", "area"}

// fieldOf maps a key to its field; unknown keys are ignored (the contract
// lists what is rejected, and an extra key is not among it).
func fieldOf(key []byte) (field, bool) {
	switch string(key) {
	case "event_id":
		return fEventID, true
	case "type":
		return fType, true
	case "ts":
		return fTS, true
	case "center_id":
		return fCenterID, true
	case "call_id":
		return fCallID, true
	case "ticket_id":
		return fTicketID, true
	case "v":
		return fV, true
	case "attrs":
		return fAttrs, true
	case "channel":
		return fChannel, true
	case "caller":
		return fCaller, true
	case "queue":
		return fQueue, true
	case "agent_id":
		return fAgentID, true
	case "to_queue":
		return fToQueue, true
	case "to_agent_id":
		return fToAgentID, true
	case "to_department_id":
		return fToDepartmentID, true
	case "ended_by":
		return fEndedBy, true
	case "rating":
		return fRating, true
	case "category":
		return fCategory, true
	case "urgency":
		return fUrgency, true
	case "subject":
		return fSubject, true
	case "department_id":
		return fDepartmentID, true
	case "deadline":
		return fDeadline, true
	case "time_limit":
		return fTimeLimit, true
	case "reason":
		return fReason, true
	case "reached":
		return fReached, true
	case "resolved":
		return fResolved, true
	case "team":
		return fTeam, true
	case "evaluation_id":
		return fEvaluationID, true
	case "form":
		return fForm, true
	case "score":
		return fScore, true
	case "max_score":
		return fMaxScore, true
	case "passed":
		return fPassed, true
	case "auto_fail":
		return fAutoFail, true
	case "evaluator":
		return fEvaluator, true
	case "state":
		return fState, true
	case "queues":
		return fQueues, true
	case "topic":
		return fTopic, true
	case "area":
		return fArea, true
	}
	return 0, false
}

// Decoder decodes v1 events strictly. A Decoder reuses its parse buffers and
// is not safe for concurrent use; use one per goroutine.
type Decoder struct {
	// MaxBytes is the size limit of a message; 0 means DefaultMaxBytes.
	MaxBytes int
	// HashCaller turns a caller's phone number into its keyed hash. When nil,
	// the caller is dropped. The clear number is never kept in the Event.
	HashCaller func(string) string

	p      fastjson.Parser
	f      fields
	visit  func([]byte, *fastjson.Value)
	intern map[string]string
}

// maxInterned bounds the table of repeated identifier values (centres,
// queues, agents, departments) that decoding shares instead of allocating.
const maxInterned = 1 << 14

// Decode parses one JSON message into an Event. Bad input yields a
// *RejectError whose Reason says which rule of the contract it broke.
func (d *Decoder) Decode(msg []byte) (Event, error) {
	var e Event
	if err := d.DecodeInto(msg, &e); err != nil {
		return Event{}, err
	}
	return e, nil
}

// DecodeInto is Decode writing into *e, which it overwrites entirely; on
// error *e is left zero. It saves copying the Event in tight loops.
func (d *Decoder) DecodeInto(msg []byte, e *Event) error {
	*e = Event{}
	limit := d.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if len(msg) > limit {
		return reject(ReasonTooLarge, "", "message of %d bytes exceeds the limit of %d", len(msg), limit)
	}
	if !utf8.Valid(msg) {
		return reject(ReasonInvalidJSON, "", "not valid UTF-8")
	}
	v, err := d.p.ParseBytes(msg)
	if err != nil {
		// fastjson's message quotes the input, which may hold personal data.
		return reject(ReasonInvalidJSON, "", "malformed JSON")
	}
	o, err := v.Object()
	if err != nil {
		return reject(ReasonInvalidJSON, "", "not a JSON object")
	}
	f := &d.f
	*f = fields{d: d}
	if d.visit == nil {
		d.visit = f.visit // bound once: a method value per call would allocate
	}
	o.Visit(d.visit)
	d.decode(f, e)
	if f.err != nil {
		*e = Event{}
		return f.err
	}
	return nil
}

// shared returns b as a string, shared with earlier equal values.
func (d *Decoder) shared(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.intern == nil {
		d.intern = map[string]string{}
	}
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}

func (d *Decoder) decode(f *fields, e *Event) {
	e.Type = f.eventType()
	e.ID = f.eventID()
	e.TS = f.timestamp(fTS, true)
	e.CenterID = f.requiredIdent(fCenterID)
	e.V = f.version()
	e.Attrs = f.attrs()
	if f.err != nil {
		return
	}
	switch {
	case e.Type.IsCall():
		e.CallID = f.required(fCallID)
	case e.Type.IsAgent():
		e.AgentID = f.requiredIdent(fAgentID) // call_id and ticket_id are not used
	default:
		e.TicketID = f.required(fTicketID)
	}
	typeFields[e.Type](d, f, e)
}

// typeFields reads the fields specific to each event type.
var typeFields = [numTypes]func(*Decoder, *fields, *Event){
	TypeInvalid: func(*Decoder, *fields, *Event) {},
	CallArrived: func(d *Decoder, f *fields, e *Event) {
		e.Channel = Channel(f.enum(fChannel, channelNames, uint8(ChannelVoice)))
		e.CallerHash = d.caller(f)
	},
	CallQueued: func(_ *Decoder, f *fields, e *Event) { e.Queue = f.requiredIdent(fQueue) },
	CallAnswered: func(_ *Decoder, f *fields, e *Event) {
		e.AgentID = f.requiredIdent(fAgentID)
		e.Queue = f.ident(fQueue)
		e.Team = f.ident(fTeam)
	},
	CallAbandoned: func(_ *Decoder, f *fields, e *Event) { e.Queue = f.ident(fQueue) },
	CallHeld:      agentOnly,
	CallRetrieved: agentOnly,
	CallTransferred: func(_ *Decoder, f *fields, e *Event) {
		e.ToQueue, e.ToAgentID, e.ToDepartmentID = f.ident(fToQueue), f.ident(fToAgentID), f.ident(fToDepartmentID)
		if e.ToQueue == "" && e.ToAgentID == "" && e.ToDepartmentID == "" {
			f.fail(reject(ReasonMissingField, "to_queue", "a transfer needs one of to_queue, to_agent_id, to_department_id"))
		}
	},
	CallEnded:       func(_ *Decoder, f *fields, e *Event) { e.EndedBy = EndedBy(f.enum(fEndedBy, endedByNames, 0)) },
	CallWrapupEnded: agentOnly,
	CallRated: func(_ *Decoder, f *fields, e *Event) {
		e.Rating = Rating(f.requiredEnum(fRating, ratingNames))
	},
	TicketCreated: func(d *Decoder, f *fields, e *Event) {
		e.Category = Category(f.enum(fCategory, categoryNames, 0))
		e.Urgency = Urgency(f.enum(fUrgency, urgencyNames, uint8(UrgencyNormal)))
		e.Channel = Channel(f.enum(fChannel, channelNames, uint8(ChannelVoice)))
		e.CallID = f.str(fCallID)
		e.CallerHash = d.caller(f)
		e.Subject = f.str(fSubject)
		e.Topic = f.upTo(fTopic, MaxTopicLen)
		e.Area = f.upTo(fArea, MaxTopicLen)
	},
	TicketResolvedOnIntake: nothing,
	TicketResponded:        nothing,
	TicketDispatched: func(_ *Decoder, f *fields, e *Event) {
		e.DepartmentID = f.requiredIdent(fDepartmentID)
		e.Deadline = f.timestamp(fDeadline, false)
		e.TimeLimit = f.limit(fTimeLimit)
	},
	TicketAccepted:  departmentOnly,
	TicketContacted: departmentOnly,
	TicketReturned: func(_ *Decoder, f *fields, e *Event) {
		e.DepartmentID = f.ident(fDepartmentID)
		e.Reason = f.str(fReason)
	},
	TicketExtended:  func(_ *Decoder, f *fields, e *Event) { e.Deadline = f.timestamp(fDeadline, true) },
	TicketSuspended: nothing,
	TicketResumed:   nothing,
	TicketReplied:   departmentOnly,
	TicketCallback: func(_ *Decoder, f *fields, e *Event) {
		e.Reached = f.boolean(fReached, true)
		e.Resolved = f.boolean(fResolved, false)
		e.Rating = Rating(f.enum(fRating, ratingNames, 0))
		if e.Reached == False && e.Rating != RatingNone {
			f.fail(reject(ReasonInvalidField, "rating", "a callback that did not reach the requester cannot carry a rating"))
		}
	},
	TicketClosed:   nothing,
	TicketReopened: func(_ *Decoder, f *fields, e *Event) { e.Reason = f.str(fReason) },
	CallEvaluated: func(d *Decoder, f *fields, e *Event) {
		e.AgentID = f.ident(fAgentID)
		d.evaluation(f, e)
	},
	TicketEvaluated: func(d *Decoder, f *fields, e *Event) {
		e.DepartmentID = f.ident(fDepartmentID)
		d.evaluation(f, e)
	},
	AgentLoggedIn: func(_ *Decoder, f *fields, e *Event) {
		e.Team = f.ident(fTeam)
		e.Queues = f.strings(fQueues)
		e.State = f.agentState(false)
		e.Reason = f.ident(fReason)
	},
	AgentStateChanged: func(_ *Decoder, f *fields, e *Event) {
		e.State = f.agentState(true)
		e.Reason = f.ident(fReason)
	},
	AgentLoggedOut: nothing,
}

// agentState reads an agent's state: absent is ready on a login and a
// missing field on a state change; a value outside the list is invalid
// (events-v1, revision 1.2).
func (f *fields) agentState(required bool) AgentState {
	if !f.has(fState) {
		if required {
			f.fail(reject(ReasonMissingField, "state", "required field is missing"))
		}
		return AgentReady
	}
	b := f.bytes(fState, false)
	if f.err != nil {
		return AgentStateNone
	}
	s, ok := ParseAgentState(string(b))
	if !ok {
		f.fail(reject(ReasonInvalidField, "state", "%q is not one of %v", truncate(string(b)), agentStateNames[1:]))
	}
	return s
}

// strings reads an optional list of strings (a draft: one comma-separated
// string).
func (f *fields) strings(k field) []string {
	if !f.has(k) {
		return nil
	}
	if f.text != nil {
		return splitList(string(f.bytes(k, false)))
	}
	a, err := f.get(k).Array()
	if err != nil {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want a list of strings, got %s", f.get(k).Type()))
		return nil
	}
	out := make([]string, 0, len(a))
	for _, v := range a {
		b, err := v.StringBytes()
		if err != nil {
			f.fail(reject(ReasonInvalidField, fieldNames[k], "want a list of strings, holds %s", v.Type()))
			return nil
		}
		out = append(out, f.d.shared(b))
	}
	return out
}

// evaluation reads the fields of a quality-inspection result.
func (d *Decoder) evaluation(f *fields, e *Event) {
	e.EvaluationID = f.nonEmpty(fEvaluationID, MaxIDLen)
	e.Form = f.ident(f.presentNonEmpty(fForm))
	e.Score = f.number(fScore)
	e.MaxScore = f.number(fMaxScore)
	e.Passed = f.boolean(fPassed, false)
	e.AutoFail = f.boolean(fAutoFail, false)
	e.Evaluator = f.ident(fEvaluator)
	switch {
	case f.err != nil:
	case e.Score < 0:
		f.fail(reject(ReasonInvalidField, "score", "%v is negative", e.Score))
	case e.MaxScore <= 0:
		f.fail(reject(ReasonInvalidField, "max_score", "%v: want a number > 0", e.MaxScore))
	case e.Score > e.MaxScore:
		f.fail(reject(ReasonInvalidField, "score", "%v is above max_score %v", e.Score, e.MaxScore))
	}
}

func nothing(*Decoder, *fields, *Event)              {}
func agentOnly(_ *Decoder, f *fields, e *Event)      { e.AgentID = f.ident(fAgentID) }
func departmentOnly(_ *Decoder, f *fields, e *Event) { e.DepartmentID = f.ident(fDepartmentID) }
func (d *Decoder) caller(f *fields) string {
	c := f.str(fCaller)
	if c == "" || d.HashCaller == nil {
		return ""
	}
	return d.HashCaller(c)
}

// fields reads typed fields of one JSON object, or of a Draft (text set),
// and keeps the first error.
type fields struct {
	d    *Decoder
	vals [numFields]*fastjson.Value
	text *[numFields]draftValue
	err  *RejectError
}

// visit records the value of each known key; the first occurrence wins.
func (f *fields) visit(key []byte, v *fastjson.Value) {
	if k, ok := fieldOf(key); ok && f.vals[k] == nil {
		f.vals[k] = v
	}
}

func (f *fields) fail(err *RejectError) {
	if f.err == nil {
		f.err = err
	}
}

// has reports whether the field is present and not null.
func (f *fields) has(k field) bool {
	if f.text != nil {
		return f.text[k].kind != draftUnset
	}
	return f.get(k) != nil
}

// get returns the field's JSON value, or nil when it is absent or null.
func (f *fields) get(k field) *fastjson.Value {
	v := f.vals[k]
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	return v
}

func (f *fields) eventType() Type {
	b := f.bytes(fType, true)
	if len(b) == 0 {
		return TypeInvalid
	}
	for t := CallArrived; t < numTypes; t++ {
		if typeNames[t] == string(b) {
			return t
		}
	}
	f.fail(reject(ReasonUnknownType, "type", "unknown event type %q", truncate(string(b))))
	return TypeInvalid
}

// bytes returns a string field's unescaped bytes, nil when absent. A
// required field must be present and non-empty.
func (f *fields) bytes(k field, required bool) []byte {
	if f.text != nil {
		return f.draftBytes(k, required)
	}
	v := f.get(k)
	if v == nil {
		if required {
			f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
		}
		return nil
	}
	b, err := v.StringBytes()
	if err != nil {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want a string, got %s", v.Type()))
		return nil
	}
	if required && len(b) == 0 {
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is empty"))
	}
	return b
}

// str returns an optional string field, "" when absent.
func (f *fields) str(k field) string { return string(f.bytes(k, false)) }

// required returns a string field that must be present and non-empty.
func (f *fields) required(k field) string { return string(f.bytes(k, true)) }

// eventID returns event_id: absent is a missing field; empty or longer than
// MaxIDLen characters is an invalid one (events-v1, bad input).
func (f *fields) eventID() string { return f.nonEmpty(fEventID, MaxIDLen) }

// nonEmpty returns a required string field of 1..maxLen characters:
// absent is a missing field, empty or longer an invalid one.
func (f *fields) nonEmpty(k field, maxLen int) string {
	if !f.has(k) {
		return f.required(k)
	}
	b := f.bytes(k, false)
	if f.err != nil {
		return ""
	}
	switch n := utf8.RuneCount(b); {
	case n == 0:
		f.fail(reject(ReasonInvalidField, fieldNames[k], "empty"))
	case n > maxLen:
		f.fail(reject(ReasonInvalidField, fieldNames[k], "longer than %d characters", maxLen))
	}
	return string(b)
}

// upTo returns an optional string field of at most maxLen characters
// (longer is an invalid field), shared like an identifier.
func (f *fields) upTo(k field, maxLen int) string {
	b := f.bytes(k, false)
	if f.err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > maxLen && utf8.RuneCount(b) > maxLen {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "longer than %d characters", maxLen))
		return ""
	}
	return f.d.shared(b)
}

// presentNonEmpty checks that a required field is present (else missing)
// and not empty (else invalid), and returns k for reading it.
func (f *fields) presentNonEmpty(k field) field {
	if !f.has(k) {
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
	} else if b := f.bytes(k, false); b != nil && len(b) == 0 {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "empty"))
	}
	return k
}

// number returns a required JSON number (a draft: its decimal text).
func (f *fields) number(k field) float64 {
	if !f.has(k) {
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
		return 0
	}
	if f.text != nil {
		return f.draftNumber(k)
	}
	v := f.get(k)
	if v.Type() != fastjson.TypeNumber {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want a number, got %s", v.Type()))
		return 0
	}
	n, err := v.Float64()
	if err != nil || math.IsInf(n, 0) {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "%s is not a finite number", truncate(v.String())))
		return 0
	}
	return n
}

// ident returns an optional identifier (queue, agent, department), shared
// with equal earlier values instead of allocated.
func (f *fields) ident(k field) string { return f.d.shared(f.bytes(k, false)) }

// requiredIdent is ident for a field that must be present and non-empty.
func (f *fields) requiredIdent(k field) string { return f.d.shared(f.bytes(k, true)) }

// enum returns the index of an optional enumerated field in names, or def
// when it is absent.
func (f *fields) enum(k field, names []string, def uint8) uint8 {
	if !f.has(k) {
		return def
	}
	b := f.bytes(k, false)
	for i := 1; i < len(names); i++ {
		if names[i] == string(b) {
			return uint8(i)
		}
	}
	if f.err == nil {
		f.fail(reject(ReasonInvalidEnum, fieldNames[k], "%q is not one of %v", truncate(string(b)), names[1:]))
	}
	return def
}

func (f *fields) requiredEnum(k field, names []string) uint8 {
	if !f.has(k) {
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
		return 0
	}
	return f.enum(k, names, 0)
}

// timestamp parses an RFC 3339 time with an offset into Unix milliseconds;
// 0 when an optional field is absent.
func (f *fields) timestamp(k field, required bool) int64 {
	b := f.bytes(k, required)
	if b == nil || f.err != nil {
		return 0
	}
	ms, ok := parseTime(b)
	if !ok {
		f.fail(reject(ReasonInvalidTimestamp, fieldNames[k], "%q is not RFC 3339 with an offset", truncate(string(b))))
		return 0
	}
	if ms < MinTS || ms >= MaxTS {
		f.fail(reject(ReasonInvalidTimestamp, fieldNames[k], "%q is outside 1970..2105", truncate(string(b))))
		return 0
	}
	return ms
}

func (f *fields) boolean(k field, required bool) Tri {
	if f.text != nil {
		return f.draftBool(k, required)
	}
	v := f.get(k)
	switch {
	case v == nil && required:
		f.fail(reject(ReasonMissingField, fieldNames[k], "required field is missing"))
	case v == nil:
	case v.Type() == fastjson.TypeTrue:
		return True
	case v.Type() == fastjson.TypeFalse:
		return False
	default:
		f.fail(reject(ReasonInvalidField, fieldNames[k], "want true or false, got %s", v.Type()))
	}
	return Unset
}

func (f *fields) limit(k field) Limit {
	b := f.bytes(k, false)
	if len(b) == 0 {
		return Limit{}
	}
	l, err := ParseLimit(string(b))
	if err != nil {
		f.fail(reject(ReasonInvalidField, fieldNames[k], "%v", err))
	}
	return l
}

func (f *fields) version() int {
	if f.text != nil {
		return 1 // a draft has no version field: it is a v1 event
	}
	v := f.get(fV)
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
	if f.text != nil {
		return nil // a draft carries no attrs
	}
	v := f.get(fAttrs)
	if v == nil {
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		f.fail(reject(ReasonInvalidField, "attrs", "want an object, got %s", v.Type()))
		return nil
	}
	return v.MarshalTo(nil)
}

// Truncate shortens an input value quoted in an error message to at most
// 64 bytes (on a character boundary), so that a message stays one short
// line whatever the input.
func Truncate(s string) string { return truncate(s) }

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

package adapter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Rejection reasons of the mapper itself; a mapping's reject_if adds its
// own, and an event the contract rejects keeps the decoder's reason.
const (
	ReasonBadRecord     = "bad_record"     // the reader could not split the record
	ReasonMissingTime   = "missing_time"   // an event's time has no value
	ReasonBadTime       = "bad_time"       // a time in no known format
	ReasonOutOfOrder    = "out_of_order"   // a time before the time it must follow
	ReasonUnmappedValue = "unmapped_value" // a value missing from a value map
	ReasonMissingID     = "missing_id"     // no centre, call or ticket id
)

// Skip reasons.
const (
	SkipFiltered = "filtered" // the mapping's records condition is false
	SkipNoEvent  = "no_event" // no event's condition held
)

// Outcome is what became of one record: events, or a skip, or a rejection.
type Outcome struct {
	Events   []Out
	Skipped  string
	Rejected *Rejection
	// Adjusted lists the corrections applied to the record's times
	// ("clock_skew", "next_day").
	Adjusted []string

	buf []byte // holds the events' JSON, reused by the next Map
}

// Out is one canonical event, as its JSON message and Kafka key. JSON is
// only valid until the next Map: a sink that keeps it must copy it.
type Out struct {
	Type   string
	Ticket bool // a ticket event (for the ticket topic)
	Agent  bool // an agent event (for the agent topic), else a call event
	Key    string
	JSON   []byte
}

// Rejection says why a record could not be mapped. Detail never quotes a
// value that may be personal data.
type Rejection struct {
	Reason string
	Detail string
}

func (r *Rejection) Error() string { return r.Reason + ": " + r.Detail }

// Mapper applies a Mapping to records. It is not safe for concurrent use,
// and it binds its Mapping's column references: give each Mapper its own
// Mapping.
type Mapper struct {
	m     *Mapping
	vars  map[string]string
	dec   event.Decoder
	draft event.Draft
	ev    event.Event
	id    []byte
	x     mapping
}

// NewMapper returns a mapper for m with the variables vars (which override
// the mapping's own). Every variable the mapping references must be set.
func NewMapper(m *Mapping, vars map[string]string) (*Mapper, error) {
	all := map[string]string{}
	for k, v := range m.Vars {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	var missing []string
	m.refs(func(r *ref) {
		if r.isVar && !builtinVar(r.name) && all[r.name] == "" && !slices.Contains(missing, r.name) {
			missing = append(missing, r.name)
		}
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("mapping %s needs the variables %s (set them with --var NAME=VALUE, or --center)",
			m.ID, strings.Join(missing, ", "))
	}
	mp := &Mapper{m: m, vars: all}
	shareRefs(m)
	for v := range m.none {
		mp.x.noneLen = max(mp.x.noneLen, len(v))
	}
	mp.x.mp = mp
	mp.x.times = make([]time.Time, len(m.Events))
	return mp, nil
}

// shareRefs makes every reference to the same column one *ref, so that a
// record's value of a column is read and cleaned once.
func shareRefs(m *Mapping) {
	canon := map[string]*ref{}
	m.templates(func(t *Template) {
		for _, p := range t.parts {
			for i, r := range p.alts {
				r.gen = 0 // no value cached from an earlier Mapper
				key := r.name
				if r.isVar {
					key = "$" + key
				}
				if c, ok := canon[key]; ok {
					p.alts[i] = c
				} else {
					canon[key] = r
				}
			}
		}
	})
}

func builtinVar(name string) bool { return name == "hash" || name == "line" || name == "mapping" }

// Bind resolves the mapping's column references against a header. A
// reference none of whose alternatives is a column is an error naming it.
func (mp *Mapper) Bind(columns []string) error {
	index := make(map[string]int, len(columns))
	for i, c := range columns {
		c = strings.TrimSpace(c)
		if _, dup := index[c]; !dup {
			index[c] = i
		}
	}
	var missing []string
	check := func(alts []*ref) {
		found := false
		for _, r := range alts {
			if r.isVar {
				found = true
				continue
			}
			i, ok := index[r.name]
			if !ok {
				i = -1
			}
			r.col, found = i, found || ok
		}
		if !found && !slices.Contains(missing, alts[0].name) {
			missing = append(missing, alts[0].name)
		}
	}
	mp.m.templates(func(t *Template) {
		for _, p := range t.parts {
			if p.alts != nil {
				check(p.alts)
			}
		}
	})
	if len(missing) > 0 {
		return fmt.Errorf("mapping %s: columns %s are not in the header (%s)", mp.m.ID,
			strings.Join(missing, ", "), strings.Join(columns, ","))
	}
	return nil
}

// Map maps one record into out, which it overwrites; out's event buffers
// are reused, so an Outcome must be consumed before the next Map.
func (mp *Mapper) Map(rec *Record, out *Outcome) {
	x := &mp.x
	x.rec, x.hash = rec, ""
	x.gen++
	out.Events, out.Skipped, out.Rejected, out.Adjusted, out.buf = out.Events[:0], "", nil, out.Adjusted[:0], out.buf[:0]
	m := mp.m
	if m.Records != nil && !m.Records.eval(x) {
		out.Skipped = SkipFiltered
		return
	}
	for i := range m.RejectIf {
		if m.RejectIf[i].When.eval(x) {
			out.Rejected = &Rejection{Reason: m.RejectIf[i].Reason, Detail: "the mapping's reject_if rule matched"}
			return
		}
	}
	if rej := mp.mapEvents(out); rej != nil {
		out.Events, out.Rejected = out.Events[:0], rej
		return
	}
	if len(out.Events) == 0 {
		out.Skipped = SkipNoEvent
		if label, ok := x.exec(&m.SkipLabel); ok {
			out.Skipped = SkipNoEvent + ":" + label
		}
	}
}

func (mp *Mapper) mapEvents(out *Outcome) *Rejection {
	x, m := &mp.x, mp.m
	center, ok := x.exec(&m.CenterID.Template)
	if !ok {
		return &Rejection{Reason: ReasonMissingID, Detail: fmt.Sprintf("center_id %s has no value", m.CenterID)}
	}
	center, ok, rej := x.mapped("center_id", &m.CenterID, center)
	if rej != nil {
		return rej
	}
	if !ok {
		return &Rejection{Reason: ReasonMissingID, Detail: fmt.Sprintf("center_id %s maps to no value", m.CenterID)}
	}
	x.center = center
	recordID, ok := x.exec(&m.RecordID)
	if !ok {
		recordID = x.recordHash()
	}
	for i := range m.Events {
		r := &m.Events[i]
		x.times[i] = time.Time{}
		if r.When != nil && !r.When.eval(x) {
			continue
		}
		if rej := mp.mapEvent(i, recordID, out); rej != nil {
			return rej
		}
	}
	return nil
}

func (mp *Mapper) mapEvent(i int, recordID string, out *Outcome) *Rejection {
	x, r := &mp.x, &mp.m.Events[i]
	ts, rej := x.eventTime(i, out)
	if rej != nil {
		return rej
	}
	entity, key := &mp.m.CallID, "call_id"
	switch {
	case r.typ.IsTicket():
		entity, key = &mp.m.TicketID, "ticket_id"
	case r.typ.IsAgent():
		v := r.Fields["agent_id"] // the key of an agent's events (validated)
		entity, key = &v, "agent_id"
	}
	id, ok := x.exec(&entity.Template)
	if ok && r.typ.IsAgent() {
		var rej *Rejection
		if id, ok, rej = x.mapped(key, entity, id); rej != nil {
			return rej
		}
	}
	if !ok {
		return &Rejection{Reason: ReasonMissingID, Detail: fmt.Sprintf("event %s: %s %s has no value", r.Name, key, entity)}
	}
	var j jsonEvent
	j.begin(out.buf, &mp.draft, mp.eventID(recordID, r.Name), r.Type, ts, x.center, key, id)
	for _, name := range typeFields[r.typ] {
		v, ok := r.Fields[name]
		if !ok || name == key {
			continue
		}
		if rej := x.field(&j, r, name, &v); rej != nil {
			return rej
		}
	}
	var msg []byte
	out.buf, msg = j.end()
	if len(msg) > event.DefaultMaxBytes {
		return &Rejection{Reason: string(event.ReasonTooLarge), Detail: fmt.Sprintf("event %s: %d bytes exceed the pipeline's default limit of %d", r.Name, len(msg), event.DefaultMaxBytes)}
	}
	if err := mp.dec.DecodeDraft(&mp.draft, &mp.ev); err != nil {
		return &Rejection{Reason: string(event.ReasonOf(err)), Detail: fmt.Sprintf("event %s: %v", r.Name, err)}
	}
	out.Events = append(out.Events, Out{Type: r.Type, Ticket: r.typ.IsTicket(), Agent: r.typ.IsAgent(), Key: id, JSON: msg})
	return nil
}

// eventID is <mapping>:<record>:<rule>, with a hash of the record id in
// the middle when the whole would exceed the contract's 128 characters.
// The string is only valid until the next call.
func (mp *Mapper) eventID(record, rule string) string {
	if utf8.RuneCountInString(mp.m.ID)+utf8.RuneCountInString(record)+utf8.RuneCountInString(rule)+2 > event.MaxIDLen {
		sum := sha256.Sum256([]byte(record))
		record = hex.EncodeToString(sum[:16])
	}
	b := append(mp.id[:0], mp.m.ID...)
	b = append(append(b, ':'), record...)
	b = append(append(b, ':'), rule...)
	mp.id = b
	return unsafe.String(&b[0], len(b))
}

// mapping is the state of mapping one record.
type mapping struct {
	mp      *Mapper
	gen     uint64 // counts records, for the references' cached values
	hashBuf []byte
	noneLen int // the longest "no value" placeholder
	rec     *Record
	hash    string
	center  string
	times   []time.Time // each event's time, zero when not emitted
}

// get returns a reference's value: trimmed, decoded, and absent when it is
// one of the mapping's "no value" placeholders.
func (x *mapping) get(r *ref) (string, bool) {
	if r.gen != x.gen {
		r.val, r.ok = x.clean(r)
		r.gen = x.gen
	}
	return r.val, r.ok
}

func (x *mapping) clean(r *ref) (string, bool) {
	if r.isVar {
		return x.variable(r.name)
	}
	v, ok := x.rec.get(r)
	if !ok {
		return "", false
	}
	if x.mp.m.URLDecode && strings.IndexByte(v, '%') >= 0 {
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
	}
	v = strings.TrimSpace(v)
	if len(v) <= x.noneLen && x.mp.m.none[v] {
		return "", false
	}
	return v, true
}

func (x *mapping) variable(name string) (string, bool) {
	switch name {
	case "hash":
		return x.recordHash(), true
	case "line":
		return fmt.Sprint(x.rec.Line), true
	case "mapping":
		return x.mp.m.ID, true
	}
	v := x.mp.vars[name]
	return v, v != ""
}

// recordHash is a hash of the record as read (a CSV row's fields), the
// default record id. The string is only valid while the record is mapped.
func (x *mapping) recordHash() string {
	if x.hash == "" {
		sum := sha256.Sum256(x.rec.bytes())
		x.hashBuf = hex.AppendEncode(x.hashBuf[:0], sum[:12])
		x.hash = unsafe.String(&x.hashBuf[0], len(x.hashBuf))
	}
	return x.hash
}

// exec evaluates a template; it has no value when one of its placeholders
// has none.
func (x *mapping) exec(t *Template) (string, bool) {
	if len(t.parts) == 1 && t.parts[0].alts != nil {
		return x.first(t.parts[0].alts)
	}
	if len(t.parts) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.alts == nil {
			b.WriteString(p.lit)
			continue
		}
		v, ok := x.first(p.alts)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

func (x *mapping) first(alts []*ref) (string, bool) {
	for _, r := range alts {
		if v, ok := x.get(r); ok {
			return v, true
		}
	}
	return "", false
}

// mapped translates v through the value's map; a value not in the map
// takes the default or rejects the record.
func (x *mapping) mapped(field string, val *Value, v string) (string, bool, *Rejection) {
	if val.Extract != nil {
		m := val.Extract.FindStringSubmatch(v)
		switch {
		case m == nil:
			return "", false, nil
		case len(m) > 1:
			v = m[1]
		default:
			v = m[0]
		}
	}
	if val.Map == nil {
		return v, true, nil
	}
	if out, ok := val.Map[v]; ok {
		return out, out != "", nil
	}
	if val.Default != nil {
		return *val.Default, *val.Default != "", nil
	}
	detail := fmt.Sprintf("%s: value %q of %s is not in the map", field, event.Truncate(v), val.Template)
	if field == "caller" {
		detail = fmt.Sprintf("%s: the value of %s is not in the map", field, val.Template)
	}
	return "", false, &Rejection{Reason: ReasonUnmappedValue, Detail: detail}
}

func (x *mapping) field(j *jsonEvent, r *Rule, name string, val *Value) *Rejection {
	v, ok := x.exec(&val.Template)
	if !ok {
		return nil
	}
	v, ok, rej := x.mapped(name, val, v)
	if rej != nil || !ok {
		return rej
	}
	switch {
	case boolFields[name]:
		switch v {
		case "true", "false":
			j.bool(name, v == "true")
		default:
			return &Rejection{Reason: string(event.ReasonInvalidField),
				Detail: fmt.Sprintf("event %s: %s %q is not true or false (map it)", r.Name, name, event.Truncate(v))}
		}
	case numberFields[name]:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return &Rejection{Reason: string(event.ReasonInvalidField),
				Detail: fmt.Sprintf("event %s: %s %q is not a number", r.Name, name, event.Truncate(v))}
		}
		j.number(name, n)
	case listFields[name]:
		j.list(name, v)
	case timeFields[name]:
		t, ok := parseTime(v, r.Time.times, r.Time.loc)
		if !ok {
			return &Rejection{Reason: ReasonBadTime, Detail: fmt.Sprintf("event %s: %s %q is in none of the time formats", r.Name, name, event.Truncate(v))}
		}
		j.time(name, t.In(r.Time.loc))
	default:
		j.str(name, v)
	}
	return nil
}

// eventTime resolves event i's time and checks it against not_before.
func (x *mapping) eventTime(i int, out *Outcome) (time.Time, *Rejection) {
	r := &x.mp.m.Events[i]
	s := &r.Time
	v, ok := x.exec(&s.Value)
	if !ok {
		return time.Time{}, &Rejection{Reason: ReasonMissingTime, Detail: fmt.Sprintf("event %s: time %s has no value", r.Name, s.Value)}
	}
	if !s.Date.IsZero() {
		d, ok := x.exec(&s.Date)
		if !ok {
			return time.Time{}, &Rejection{Reason: ReasonMissingTime, Detail: fmt.Sprintf("event %s: date %s has no value", r.Name, s.Date)}
		}
		if cut := strings.IndexAny(d, " T"); cut > 0 {
			d = d[:cut] // a date column exported as a date and midnight
		}
		v = d + " " + v
	}
	t, ok := parseTime(v, s.times, s.loc)
	if !ok {
		return time.Time{}, &Rejection{Reason: ReasonBadTime, Detail: fmt.Sprintf("event %s: time %q is in none of the formats %v", r.Name, event.Truncate(v), formatNames(s.times))}
	}
	if !s.Plus.IsZero() {
		p, ok := x.exec(&s.Plus)
		if !ok {
			return time.Time{}, &Rejection{Reason: ReasonMissingTime, Detail: fmt.Sprintf("event %s: duration %s has no value", r.Name, s.Plus)}
		}
		d, ok := parseSeconds(p, s.PlusUnit)
		if !ok {
			return time.Time{}, &Rejection{Reason: ReasonBadTime, Detail: fmt.Sprintf("event %s: duration %q is not seconds or H:MM:SS", r.Name, event.Truncate(p))}
		}
		t = t.Add(d)
	}
	if r.NotBefore != "" {
		var rej *Rejection
		if t, rej = x.order(i, t, out); rej != nil {
			return time.Time{}, rej
		}
	}
	x.times[i] = t
	return t.In(s.loc), nil
}

// order applies not_before: a time of day that falls before the time it
// must follow by more than 12 hours is on the next day (a call across
// midnight); one before it by up to clock_skew is moved up to it; anything
// else rejects the record.
func (x *mapping) order(i int, t time.Time, out *Outcome) (time.Time, *Rejection) {
	r := &x.mp.m.Events[i]
	ref := x.times[x.mp.m.rules[r.NotBefore]]
	if ref.IsZero() || !t.Before(ref) {
		return t, nil
	}
	gap := ref.Sub(t)
	switch {
	case !r.Time.Date.IsZero() && gap > 12*time.Hour && !t.Add(24*time.Hour).Before(ref):
		out.Adjusted = append(out.Adjusted, "next_day")
		return t.Add(24 * time.Hour), nil
	case gap <= x.mp.m.ClockSkew.Duration:
		out.Adjusted = append(out.Adjusted, "clock_skew")
		return ref, nil
	}
	return t, &Rejection{Reason: ReasonOutOfOrder, Detail: fmt.Sprintf("event %s is %s before %s", r.Name, gap, r.NotBefore)}
}

func formatNames(fs []timeFormat) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.name
	}
	return out
}

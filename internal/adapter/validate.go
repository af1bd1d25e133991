package adapter

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// typeFields lists the fields each event type takes, beyond the envelope,
// in the order they are written (events-v1).
var typeFields = map[event.Type][]string{
	event.CallArrived:            {"channel", "caller"},
	event.CallQueued:             {"queue"},
	event.CallAnswered:           {"agent_id", "queue", "team"},
	event.CallAbandoned:          {"queue"},
	event.CallHeld:               {"agent_id"},
	event.CallRetrieved:          {"agent_id"},
	event.CallTransferred:        {"to_queue", "to_agent_id", "to_department_id"},
	event.CallEnded:              {"ended_by"},
	event.CallWrapupEnded:        {"agent_id"},
	event.CallRated:              {"rating"},
	event.TicketCreated:          {"category", "urgency", "channel", "call_id", "caller", "subject"},
	event.TicketResolvedOnIntake: nil,
	event.TicketResponded:        nil,
	event.TicketDispatched:       {"department_id", "deadline", "time_limit"},
	event.TicketAccepted:         {"department_id"},
	event.TicketContacted:        {"department_id"},
	event.TicketReturned:         {"department_id", "reason"},
	event.TicketExtended:         {"deadline"},
	event.TicketSuspended:        nil,
	event.TicketResumed:          nil,
	event.TicketReplied:          {"department_id"},
	event.TicketCallback:         {"reached", "resolved", "rating"},
	event.TicketClosed:           nil,
	event.TicketReopened:         {"reason"},
	event.CallEvaluated:          {"agent_id", "evaluation_id", "form", "score", "max_score", "passed", "auto_fail", "evaluator"},
	event.TicketEvaluated:        {"department_id", "evaluation_id", "form", "score", "max_score", "passed", "auto_fail", "evaluator"},
	// Agents: agent_id is the event's key, given by the rule's fields.
	event.AgentLoggedIn:     {"agent_id", "team", "queues", "state", "reason"},
	event.AgentStateChanged: {"agent_id", "state", "reason"},
	event.AgentLoggedOut:    {"agent_id"},
}

// Fields written as JSON booleans, numbers and times.
var (
	boolFields   = map[string]bool{"reached": true, "resolved": true, "passed": true, "auto_fail": true}
	numberFields = map[string]bool{"score": true, "max_score": true}
	timeFields   = map[string]bool{"deadline": true}
	listFields   = map[string]bool{"queues": true}
)

// defaultNone are the values that mean "no value" in every mapping.
var defaultNone = []string{"", "NULL", "null", `\N`}

// Validate checks the whole mapping and prepares it for use; it reports
// every problem it finds, each with its key path.
func (m *Mapping) Validate() error {
	var errs []error
	add := func(path string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	if m.ID == "" {
		add("id", errors.New("required"))
	}
	if m.Reader == "" {
		m.Reader = ReaderCSV
	}
	if !slices.Contains([]string{ReaderCSV, ReaderXLSX, ReaderQueueLog, ReaderJSON}, m.Reader) {
		add("reader", fmt.Errorf("%q: want csv, xlsx, queue_log or json", m.Reader))
	}
	if m.SkipRows < 0 {
		add("skip_rows", errors.New("must not be negative"))
	}
	add("csv", m.CSV.validate())
	var err error
	if m.loc, err = loadZone(m.Timezone); err != nil {
		add("timezone", err)
	}
	formats := m.TimeFormats
	if len(formats) == 0 {
		formats = DefaultTimeFormats
	}
	if m.times, err = timeFormats(formats); err != nil {
		add("time_formats", err)
	}
	m.none = map[string]bool{}
	for _, v := range append(slices.Clone(defaultNone), m.None...) {
		m.none[v] = true
	}
	if m.CenterID.IsZero() {
		add("center_id", errors.New("required (a column, or {$center} set with --center)"))
	}
	if m.Records != nil {
		add("records", m.Records.validate())
	}
	for i := range m.RejectIf {
		r := &m.RejectIf[i]
		if r.Reason == "" {
			add(fmt.Sprintf("reject_if[%d].reason", i), errors.New("required"))
		}
		add(fmt.Sprintf("reject_if[%d].when", i), r.When.validate())
	}
	if len(m.Events) == 0 {
		add("events", errors.New("a mapping needs at least one event"))
	}
	m.rules = map[string]int{}
	for i := range m.Events {
		path := fmt.Sprintf("events[%d]", i)
		if m.Events[i].Name != "" {
			path = fmt.Sprintf("events[%d] (%s)", i, m.Events[i].Name)
		}
		for _, err := range m.validateRule(i) {
			add(path, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Mapping) validateRule(i int) []error {
	r := &m.Events[i]
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("name: required"))
	} else if _, dup := m.rules[r.Name]; dup {
		errs = append(errs, fmt.Errorf("name: %q is used twice", r.Name))
	}
	m.rules[r.Name] = i
	if r.typ = event.TypeOf(r.Type); r.typ == event.TypeInvalid {
		errs = append(errs, fmt.Errorf("type: %q is not an event type of events-v1", r.Type))
	}
	if r.typ.IsCall() && m.CallID.IsZero() {
		errs = append(errs, errors.New("type: a call event needs the mapping's call_id"))
	}
	if r.typ.IsTicket() && m.TicketID.IsZero() {
		errs = append(errs, errors.New("type: a ticket event needs the mapping's ticket_id"))
	}
	if _, ok := r.Fields["agent_id"]; r.typ.IsAgent() && !ok {
		errs = append(errs, errors.New("fields: an agent event needs its agent_id"))
	}
	if r.When != nil {
		if err := r.When.validate(); err != nil {
			errs = append(errs, fmt.Errorf("when: %w", err))
		}
	}
	if r.Time.Value.IsZero() {
		errs = append(errs, errors.New("time: required"))
	}
	if err := m.prepareTime(&r.Time); err != nil {
		errs = append(errs, fmt.Errorf("time: %w", err))
	}
	if r.NotBefore != "" {
		if j, ok := m.rules[r.NotBefore]; !ok || j >= i {
			errs = append(errs, fmt.Errorf("not_before: %q is not an earlier event of this mapping", r.NotBefore))
		}
	}
	allowed := typeFields[r.typ]
	for name := range r.Fields {
		if !slices.Contains(allowed, name) && r.typ != event.TypeInvalid {
			errs = append(errs, fmt.Errorf("fields: %s does not take %q (it takes %v)", r.Type, name, allowed))
		}
	}
	return errs
}

func (m *Mapping) prepareTime(s *TimeSpec) error {
	var err error
	s.times, s.loc = m.times, m.loc
	if s.Timezone != "" {
		if s.loc, err = time.LoadLocation(s.Timezone); err != nil {
			return err
		}
	}
	if len(s.Formats) > 0 {
		if s.times, err = timeFormats(s.Formats); err != nil {
			return err
		}
	}
	return nil
}

func (o *CSVOptions) validate() error {
	if o.Delimiter == "" {
		o.Delimiter = ","
	}
	if len([]rune(o.Delimiter)) != 1 {
		return fmt.Errorf("delimiter %q: want one character", o.Delimiter)
	}
	switch o.Encoding {
	case "", "utf-8", "utf8", "gb18030", "gbk", "gb2312":
		return nil
	}
	return fmt.Errorf("encoding %q: want utf-8 or gb18030", o.Encoding)
}

func timeFormats(names []string) ([]timeFormat, error) {
	out := make([]timeFormat, 0, len(names))
	for _, n := range names {
		f, err := parseTimeFormat(n)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// loadZone returns the named zone; the default is China Standard Time.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		name = "Asia/Shanghai"
	}
	return time.LoadLocation(name)
}

// templates calls f with every template of the mapping.
func (m *Mapping) templates(f func(*Template)) {
	for _, t := range []*Template{&m.RecordID, &m.SkipLabel, &m.CenterID.Template, &m.CallID.Template, &m.TicketID.Template} {
		f(t)
	}
	if m.Records != nil {
		m.Records.templates(f)
	}
	for i := range m.RejectIf {
		m.RejectIf[i].When.templates(f)
	}
	for i := range m.Events {
		r := &m.Events[i]
		if r.When != nil {
			r.When.templates(f)
		}
		f(&r.Time.Value)
		f(&r.Time.Date)
		f(&r.Time.Plus)
		for _, v := range r.Fields {
			f(&v.Template) // a copy, but its references are shared pointers
		}
	}
}

// refs calls f with every reference of the mapping.
func (m *Mapping) refs(f func(*ref)) {
	m.templates(func(t *Template) { t.refs(f) })
}

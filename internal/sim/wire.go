package sim

import (
	"encoding/json"
	"strconv"
	"time"
)

// wire is an event in the v1 contract's JSON form.
type wire struct {
	EventID        string `json:"event_id"`
	Type           string `json:"type"`
	TS             string `json:"ts"`
	CenterID       string `json:"center_id"`
	CallID         string `json:"call_id,omitempty"`
	TicketID       string `json:"ticket_id,omitempty"`
	Channel        string `json:"channel,omitempty"`
	Caller         string `json:"caller,omitempty"`
	Queue          string `json:"queue,omitempty"`
	AgentID        string `json:"agent_id,omitempty"`
	Team           string `json:"team,omitempty"`
	ToDepartmentID string `json:"to_department_id,omitempty"`
	EndedBy        string `json:"ended_by,omitempty"`
	Rating         string `json:"rating,omitempty"`
	Category       string `json:"category,omitempty"`
	Topic          string `json:"topic,omitempty"`
	Area           string `json:"area,omitempty"`
	Urgency        string `json:"urgency,omitempty"`
	DepartmentID   string `json:"department_id,omitempty"`
	Reason         string `json:"reason,omitempty"`
	Reached        *bool  `json:"reached,omitempty"`
	Resolved       *bool  `json:"resolved,omitempty"`

	State  string   `json:"state,omitempty"`
	Queues []string `json:"queues,omitempty"`

	EvaluationID string   `json:"evaluation_id,omitempty"`
	Form         string   `json:"form,omitempty"`
	Score        *float64 `json:"score,omitempty"`
	MaxScore     *float64 `json:"max_score,omitempty"`
	AutoFail     *bool    `json:"auto_fail,omitempty"`
	Evaluator    string   `json:"evaluator,omitempty"`
}

// emit sends w at the current simulated time, under a new event id.
func (s *Sim) emit(w wire) {
	w.EventID = s.nextID("ev-")
	s.send(w, true)
}

// send sends w, event id set, at the current simulated time; count is
// false for a copy of an event already sent.
func (s *Sim) send(w wire, count bool) {
	if s.err != nil {
		return
	}
	w.TS = time.UnixMilli(s.now).In(s.cal.Location()).Format("2006-01-02T15:04:05.000Z07:00")
	b, err := json.Marshal(w)
	if err != nil {
		s.err = err
		return
	}
	ev := Event{Ticket: w.TicketID != "", Key: w.CallID, TS: s.now, JSON: b}
	switch {
	case ev.Ticket:
		ev.Key = w.TicketID
	case w.CallID == "" && w.AgentID != "":
		ev.Agent, ev.Key = true, w.AgentID
	}
	if count {
		s.truth.Events++
	}
	s.err = s.sink(ev)
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func ptr[T any](v T) *T { return &v }

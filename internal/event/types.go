// Package event is the canonical hotline event contract (events-v1): the Go
// types of every call and ticket event and the one strict decoder that turns
// a JSON message into an Event or a typed rejection.
package event

// Type is the kind of an event. The zero value is not a valid type.
type Type uint8

// Event types of the v1 contract, calls first, then tickets.
const (
	TypeInvalid Type = iota
	CallArrived
	CallQueued
	CallAnswered
	CallAbandoned
	CallHeld
	CallRetrieved
	CallTransferred
	CallEnded
	CallWrapupEnded
	CallRated
	TicketCreated
	TicketResolvedOnIntake
	TicketResponded
	TicketDispatched
	TicketAccepted
	TicketContacted
	TicketReturned
	TicketExtended
	TicketSuspended
	TicketResumed
	TicketReplied
	TicketCallback
	TicketClosed
	TicketReopened
	// Revision 1.2, appended so that the stored type codes of v1 stay.
	CallEvaluated
	TicketEvaluated
	AgentLoggedIn
	AgentStateChanged
	AgentLoggedOut
	numTypes
)

var typeNames = [numTypes]string{
	TypeInvalid:            "",
	CallArrived:            "call.arrived",
	CallQueued:             "call.queued",
	CallAnswered:           "call.answered",
	CallAbandoned:          "call.abandoned",
	CallHeld:               "call.held",
	CallRetrieved:          "call.retrieved",
	CallTransferred:        "call.transferred",
	CallEnded:              "call.ended",
	CallWrapupEnded:        "call.wrapup_ended",
	CallRated:              "call.rated",
	TicketCreated:          "ticket.created",
	TicketResolvedOnIntake: "ticket.resolved_on_intake",
	TicketResponded:        "ticket.responded",
	TicketDispatched:       "ticket.dispatched",
	TicketAccepted:         "ticket.accepted",
	TicketContacted:        "ticket.contacted",
	TicketReturned:         "ticket.returned",
	TicketExtended:         "ticket.extended",
	TicketSuspended:        "ticket.suspended",
	TicketResumed:          "ticket.resumed",
	TicketReplied:          "ticket.replied",
	TicketCallback:         "ticket.callback",
	TicketClosed:           "ticket.closed",
	TicketReopened:         "ticket.reopened",
	CallEvaluated:          "call.evaluated",
	TicketEvaluated:        "ticket.evaluated",
	AgentLoggedIn:          "agent.logged_in",
	AgentStateChanged:      "agent.state_changed",
	AgentLoggedOut:         "agent.logged_out",
}

// String returns the wire name of t, for example "call.queued".
func (t Type) String() string {
	if t >= numTypes {
		return ""
	}
	return typeNames[t]
}

// IsCall reports whether t is a call.* event.
func (t Type) IsCall() bool { return t >= CallArrived && t <= CallRated || t == CallEvaluated }

// IsTicket reports whether t is a ticket.* event.
func (t Type) IsTicket() bool {
	return t >= TicketCreated && t <= TicketReopened || t == TicketEvaluated
}

// IsAgent reports whether t is an agent.* event (revision 1.2).
func (t Type) IsAgent() bool { return t >= AgentLoggedIn && t <= AgentLoggedOut }

// Types returns every valid event type in the order of their codes (v1's
// in contract order, then revision 1.2's).
func Types() []Type {
	out := make([]Type, 0, numTypes-1)
	for t := CallArrived; t < numTypes; t++ {
		out = append(out, t)
	}
	return out
}

// Tri is a boolean that may be unset, for optional JSON booleans.
type Tri uint8

// Values of Tri.
const (
	Unset Tri = iota
	False
	True
)

// Event is one decoded, validated v1 event. Fields that do not belong to the
// event's type are zero. Times are Unix milliseconds. The caller's phone
// number is never held in clear: CallerHash carries its keyed hash, or is
// empty when the decoder has no key or the event has no caller.
type Event struct {
	ID       string
	Type     Type
	TS       int64 // event time, Unix milliseconds
	CenterID string
	CallID   string // call events; optional on ticket.created
	TicketID string
	V        int
	Attrs    []byte // the raw JSON object of "attrs", or nil

	Channel        Channel
	CallerHash     string
	Queue          string
	AgentID        string
	Team           string // call.answered: the agent's team or outsourced operator (外包), optional
	ToQueue        string
	ToAgentID      string
	ToDepartmentID string
	EndedBy        EndedBy
	Rating         Rating

	Category Category
	Urgency  Urgency
	Subject  string
	// Topic (诉求分类: a code of the centre's topic table) and Area (行政区划)
	// of ticket.created (revision 1.2), optional.
	Topic, Area  string
	DepartmentID string
	Deadline     int64 // explicit deadline, Unix milliseconds; 0 when absent
	TimeLimit    Limit // explicit time limit; zero when absent
	Reason       string
	Reached      Tri
	Resolved     Tri

	// Quality inspection (质检: call.evaluated, ticket.evaluated; revision
	// 1.2). A later evaluation with the same EvaluationID is its review.
	EvaluationID string
	Form         string
	Score        float64
	MaxScore     float64
	Passed       Tri
	AutoFail     Tri
	Evaluator    string

	// Agents (agent.*; revision 1.2): AgentID and Team above, and the
	// state from this instant (its Reason above, for not_ready).
	State  AgentState
	Queues []string // agent.logged_in: the queues the agent serves, optional
}

// Evaluation reports whether t is a quality-inspection result.
func (t Type) Evaluation() bool { return t == CallEvaluated || t == TicketEvaluated }

// Origin says where a message came from: its Kafka topic, partition and
// offset, or for a file the file name as Topic and the line number as Offset
// (partition -1).
type Origin struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Record is an accepted event with its origin.
type Record struct {
	Event
	Origin Origin
}

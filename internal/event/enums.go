package event

// Channel is the contact channel of a call or ticket.
type Channel uint8

// Channels of the v1 contract. ChannelNone means the field was absent where
// it has no default.
const (
	ChannelNone Channel = iota
	ChannelVoice
	ChannelSMS
	ChannelWeb
	ChannelWeChat
	ChannelApp
	ChannelEmail
	ChannelOther
)

var channelNames = []string{"", "voice", "sms", "web", "wechat", "app", "email", "other"}

// String returns the wire name of c.
func (c Channel) String() string { return name(channelNames, uint8(c)) }

// Written reports whether c is a written channel with a response limit
// (sms, web, wechat, app, email).
func (c Channel) Written() bool { return c >= ChannelSMS && c <= ChannelEmail }

// Category is the category of a ticket.
type Category uint8

// Ticket categories. CategoryNone means the ticket gave none.
const (
	CategoryNone Category = iota
	CategoryConsultation
	CategoryHelp
	CategoryComplaint
	CategoryReport
	CategorySuggestion
	CategoryPraise
)

var categoryNames = []string{"", "consultation", "help", "complaint", "report", "suggestion", "praise"}

// String returns the wire name of c.
func (c Category) String() string { return name(categoryNames, uint8(c)) }

// Urgency is the urgency of a ticket.
type Urgency uint8

// Urgencies; a ticket without one is normal.
const (
	UrgencyNormal Urgency = iota + 1
	UrgencyUrgent
)

var urgencyNames = []string{"", "normal", "urgent"}

// String returns the wire name of u.
func (u Urgency) String() string { return name(urgencyNames, uint8(u)) }

// Rating is a satisfaction rating on the five-point scale.
type Rating uint8

// Ratings, best first. RatingNone means no rating was given.
const (
	RatingNone Rating = iota
	RatingVerySatisfied
	RatingSatisfied
	RatingBasicallySatisfied
	RatingDissatisfied
	RatingVeryDissatisfied
)

var ratingNames = []string{"", "very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"}

// String returns the wire name of r.
func (r Rating) String() string { return name(ratingNames, uint8(r)) }

// ParseRating returns the rating named s.
func ParseRating(s string) (Rating, bool) {
	v, ok := lookup(ratingNames, s)
	return Rating(v), ok
}

// EndedBy says who ended a conversation.
type EndedBy uint8

// Parties that can end a call. EndedByNone means the event did not say.
const (
	EndedByNone EndedBy = iota
	EndedByCaller
	EndedByAgent
	EndedBySystem
)

var endedByNames = []string{"", "caller", "agent", "system"}

// String returns the wire name of e.
func (e EndedBy) String() string { return name(endedByNames, uint8(e)) }

func name(names []string, v uint8) string {
	if int(v) >= len(names) {
		return ""
	}
	return names[v]
}

// lookup finds s among names, skipping the empty zero name.
func lookup(names []string, s string) (uint8, bool) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// TypeOf returns the event type named s, TypeInvalid when none.
func TypeOf(s string) Type {
	for t := CallArrived; t < numTypes; t++ {
		if typeNames[t] == s {
			return t
		}
	}
	return TypeInvalid
}

// ChannelOf returns the channel named s, ChannelNone when none.
func ChannelOf(s string) Channel { v, _ := lookup(channelNames, s); return Channel(v) }

// CategoryOf returns the category named s, CategoryNone when none.
func CategoryOf(s string) Category { v, _ := lookup(categoryNames, s); return Category(v) }

// UrgencyOf returns the urgency named s; unknown names are normal.
func UrgencyOf(s string) Urgency {
	if v, ok := lookup(urgencyNames, s); ok {
		return Urgency(v)
	}
	return UrgencyNormal
}

// EndedByOf returns the party named s, EndedByNone when none.
func EndedByOf(s string) EndedBy { v, _ := lookup(endedByNames, s); return EndedBy(v) }

// AgentState is an agent's state (revision 1.2).
type AgentState uint8

// Agent states. AgentStateNone means the field was absent.
const (
	AgentStateNone AgentState = iota
	AgentReady                // 示闲: waiting for a call
	AgentBusy                 // 通话中: on a call, ringing or held included
	AgentWrapup               // 话后处理
	AgentNotReady             // 示忙: breaks, meals, training, meetings, admin
	NumAgentStates
)

var agentStateNames = []string{"", "ready", "busy", "wrapup", "not_ready"}

// String returns the wire name of s.
func (s AgentState) String() string { return name(agentStateNames, uint8(s)) }

// ParseAgentState returns the state named s.
func ParseAgentState(s string) (AgentState, bool) {
	for i := 1; i < len(agentStateNames); i++ {
		if agentStateNames[i] == s {
			return AgentState(i), true
		}
	}
	return AgentStateNone, false
}

// Staffed reports whether an agent in state s counts as staffed (ready,
// busy or wrap-up: agents_staffed).
func (s AgentState) Staffed() bool { return s >= AgentReady && s <= AgentWrapup }

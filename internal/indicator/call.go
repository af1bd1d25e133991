package indicator

import (
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Dimensions of call indicators, in tuple order.
var callDims = []string{"center_id", "queue", "channel", "agent_id", "team"}

// cev is the part of a call event the indicators need.
type cev struct {
	eid     string // event_id, to recognise duplicates
	h       uint64 // contentHash, to recognise conflicting duplicates
	ts      int64
	typ     event.Type
	s       string // queue (queued, abandoned) or agent (answered)
	team    string // answered: the agent's team or operator
	channel event.Channel
	rating  event.Rating
	ev      *evaluation // call.evaluated
}

// less orders call events by time, then by content, so that the order
// they arrived in never matters.
func (a *cev) less(b *cev) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.typ != b.typ {
		return a.typ < b.typ
	}
	if a.s != b.s {
		return a.s < b.s
	}
	if a.team != b.team {
		return a.team < b.team
	}
	if a.channel != b.channel {
		return a.channel < b.channel
	}
	return a.rating < b.rating
}

// call is one call's state: its events, in arrival order.
type call struct {
	center, id string
	part       int32 // the source partition of its events (see ApplyRecord)
	evs        []cev
	contribs   []contrib
	dirty      bool
	changed    bool   // evaluated since the last Changes
	reported   uint64 // the Changes call that last reported it (see Reported)
	anchor     int64  // window attribution time of the last evaluation
	prior      prior  // where the reported state contributed (TrackChanges)
	defects    defects
	conflicts  uint16 // conflicting duplicates seen
	// The call's contact (repeat calls, needs.go) as of its last
	// evaluation: its caller's hash ("" when none or not arrived), its
	// arrival and its dims tuple.
	caller    string
	arrivedTS int64
	dims      uint32
	hasDims   bool
}

// add takes e into the call (see addResult).
func (c *call) add(e *event.Event) addResult {
	v := cev{eid: e.ID, h: contentHash(e), ts: e.TS, typ: e.Type, channel: e.Channel, rating: e.Rating, ev: evaluationOf(e)}
	switch e.Type {
	case event.CallQueued, event.CallAbandoned:
		v.s = e.Queue
	case event.CallAnswered:
		v.s, v.team = e.AgentID, e.Team
	case event.CallArrived:
		v.s = e.CallerHash // the caller's keyed hash (repeat calls)
	}
	for i := range c.evs {
		o := &c.evs[i]
		if o.eid != v.eid {
			continue
		}
		if o.h == v.h {
			return duplicate
		}
		c.conflicts++
		if replaces(v.ts, o.ts, func() ([]byte, []byte) { return v.canonical(c.center, c.id), o.canonical(c.center, c.id) }) {
			*o = v
			return conflictWins
		}
		return conflictLoses
	}
	c.evs = append(c.evs, v)
	return added
}

// callFact is what a call's events say, independent of arrival order.
type callFact struct {
	offered, answered, abandoned, ended, wrapped bool
	offerTS, answerTS, abandonTS, endTS, wrapTS  int64
	anchor                                       int64 // window attribution time
	queue, agent, team                           string
	channel                                      event.Channel
	holdMs                                       int64
	rating                                       event.Rating
	ratingTS                                     int64
	arrived                                      bool
	arrivedTS                                    int64
	caller                                       string // of the first call.arrived
	none                                         bool   // no event at or before the cutoff
	qa                                           qaFact
}

// fact derives the call's fact from its events at or before cutoff. Ties
// in time keep the earliest event for starts (offer, answer, abandon) and
// the latest for ends (ended, wrap-up, rating).
func (c *call) fact(cutoff int64) callFact {
	inOrder(c.evs, (*cev).less)
	f := callFact{channel: event.ChannelVoice}
	var arrived, first int64 = -1, -1
	var holdStart int64 = -1
	upto := 0 // the events at or before the cutoff: the first ones of evs
	for _, v := range c.evs {
		if v.ts > cutoff {
			break
		}
		upto++
		if first < 0 {
			first = v.ts
		}
		switch v.typ {
		case event.CallArrived:
			if arrived < 0 {
				arrived, f.channel, f.caller = v.ts, v.channel, v.s
			}
		case event.CallQueued:
			if !f.offered {
				f.offered, f.offerTS, f.queue = true, v.ts, v.s
			}
		case event.CallAnswered:
			if !f.answered {
				f.answered, f.answerTS, f.agent, f.team = true, v.ts, v.s, v.team
			}
		case event.CallAbandoned:
			if !f.abandoned {
				f.abandoned, f.abandonTS = true, v.ts
			}
		case event.CallHeld:
			if holdStart < 0 {
				holdStart = v.ts
			}
		case event.CallRetrieved:
			if holdStart >= 0 {
				f.holdMs += v.ts - holdStart
				holdStart = -1
			}
		case event.CallEnded:
			f.ended, f.endTS = true, v.ts
		case event.CallWrapupEnded:
			f.wrapped, f.wrapTS = true, v.ts
		case event.CallRated:
			f.rating, f.ratingTS = v.rating, v.ts
		case event.CallEvaluated:
			f.qa.standing = -1 // marks: evaluations to read below
		}
	}
	if f.qa.standing < 0 {
		f.qa = qaOf(c.evs[:upto], func(v *cev) (int64, *evaluation) { return v.ts, v.ev },
			func(v *cev) []byte { return v.canonical(c.center, c.id) })
	}
	f.arrived = arrived >= 0
	f.arrivedTS = arrived
	if holdStart >= 0 && f.ended && f.endTS > holdStart {
		f.holdMs += f.endTS - holdStart // on hold when the call ended
	}
	if f.answered {
		f.abandoned = false // abandoned means never answered
	}
	switch {
	case first < 0:
		f.none = true // every event is after the cutoff
	case f.offered:
		f.anchor = f.offerTS
	case arrived >= 0:
		f.anchor = arrived
	default:
		f.anchor = first
	}
	return f
}

// callContribs turns a call fact into aggregate contributions: the view
// applies the profile's rules once, then each call indicator of the
// catalogue yields its contribution.
func (e *Engine) callContribs(c *call, f callFact, out []contrib) []contrib {
	if f.none {
		c.caller, c.hasDims = "", false
		return out
	}
	dims := e.dimsID(profile.Calls, c.center, f.queue, f.channel.String(), f.agent, f.team)
	c.caller, c.arrivedTS, c.dims, c.hasDims = "", 0, dims, true
	if f.arrived {
		c.caller, c.arrivedTS = f.caller, f.arrivedTS
	}
	r := &e.rules
	v := &e.callView // reused: the catalogue's functions are called indirectly
	*v = callView{callFact: f}
	if f.offered {
		switch {
		case f.answered:
			v.wait = f.answerTS - f.offerTS
		case f.abandoned:
			v.wait = f.abandonTS - f.offerTS
		}
		short := f.abandoned && v.wait < r.shortAbandonMs
		v.counted = !(r.excludeShort && short)
		switch r.slDenominator {
		case denomAnswered:
			v.slDen = f.answered
		case denomOffered:
			v.slDen = v.counted
		case denomOfferedMinusShort:
			v.slDen = !short
		}
		v.withinSL = f.answered && v.wait <= r.slThresholdMs
	}
	v.satisfied = e.satisfied[f.rating]
	v.qaPasses = f.qa.passes(r.passPercent)
	for _, ind := range cat.calls {
		if num, den, ok := cat.defs[ind].call(v); ok {
			d := dims
			if cat.defs[ind].Entity == profile.Agents {
				if !e.agentsOn {
					continue
				}
				d = e.dimsID(profile.Agents, c.center, f.agent, f.team) // the answering agent's cell
			}
			out = e.put(out, ind, f.anchor, d, num, den)
		}
	}
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

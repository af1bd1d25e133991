package indicator

import (
	"fmt"
	"slices"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Def declares one indicator, once: what it is (id, 中文 name, kind,
// entity, unit, window anchor, default target) and the function that
// counts it. Everything else derives from the declaration: its engine id
// (its place in the catalogue), its dimensions (its entity's), its
// aggregate slots and stored contributions, the profile checks of its
// targets, its metric series, its dashboard unit and its export columns.
//
// A call or ticket function, or both (qa_reviews: calls' and tickets'), or
// a snapshot:
//   - call yields one call's contribution from the call's view; ok false
//     leaves the call out of the indicator.
//   - ticket adds one ticket's contributions (one per dispatch, callback,
//     ...) through the evaluation, which attributes each to the department
//     holding the ticket then and counts time limits once decided.
//   - snapshot says whether an open ticket counts as of the evaluation
//     time (overdue_open): it is counted at query time, not stored.
type Def struct {
	profile.Indicator
	call     func(v *callView) (num, den int64, ok bool)
	ticket   func(ev *ticketEval, ind id)
	snapshot func(s ticketSnap) bool
	// agent yields an agent's contribution to one bucket from its time in
	// each state there (ms); ok false leaves the bucket out.
	agent func(t *agentTime) (num, den int64, ok bool)
	// den is what the denominator holds when it is not a count.
	den denUnit
	// derived: computed at query time from other indicators' aggregates
	// (the staffing indicators, staffing.go), never stored.
	derived bool
	// sampled: the live metrics observe each call's amount once, as a
	// histogram sample (wait, handle time).
	sampled bool
	// always: a count shown, zero or not, for every window and dimensions
	// where its entity has any result (calls_offered, ..., tickets_created).
	always bool
	// dims, when set, are the only dimensions the indicator is grouped by
	// (a subset of its entity's); other groupings leave it out.
	dims []string
	// byAny, when set, shows the indicator only in groupings by one of
	// these (tickets_by_topic: by a topic level or the area; otherwise it
	// would repeat tickets_created).
	byAny []string
}

// denUnit is what an indicator's denominator holds.
type denUnit uint8

const (
	denCount   denUnit = iota // a count, shown as it is
	denSeconds                // milliseconds, shown in seconds (a rate of two durations: the numerator too)
	denHours                  // milliseconds, shown in hours
	denWindow                 // nothing stored: the window's length in seconds (agents_staffed)
)

// callView is what a call's indicators read: the call's fact with the
// profile's rules applied.
type callView struct {
	callFact
	wait      int64 // offer → answer or abandon, ms
	counted   bool  // offered and in the counts (not an excluded short abandon)
	withinSL  bool  // answered within the service-level threshold
	slDen     bool  // in the service level's denominator
	satisfied bool  // rated, in the satisfied set
	qaPasses  bool  // every standing evaluation passes
}

// ticketSnap is what a snapshot indicator reads of a ticket.
type ticketSnap struct {
	due, reply, asOf int64 // resolve deadline and first reply, 0 when none
}

func target(op string, v float64) *profile.Target { return &profile.Target{Op: op, Value: v} }

// catalogue is every indicator of the specification (docs/spec/indicators.md),
// in its order: the order of engine ids.
var catalogue = []Def{
	// Calls: anchored at the offer (first call.queued), else the arrival.
	{Indicator: profile.Indicator{ID: "calls_offered", Name: "人工服务请求量", Kind: profile.Count, Entity: profile.Calls, Unit: profile.Number, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.counted), 0, v.offered }, always: true},
	{Indicator: profile.Indicator{ID: "calls_answered", Name: "人工接通量", Kind: profile.Count, Entity: profile.Calls, Unit: profile.Number, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.answered), 0, v.offered }, always: true},
	{Indicator: profile.Indicator{ID: "calls_abandoned", Name: "放弃量", Kind: profile.Count, Entity: profile.Calls, Unit: profile.Number, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.abandoned && v.counted), 0, v.offered }, always: true},
	{Indicator: profile.Indicator{ID: "answer_rate", Name: "人工接通率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target(">=", 0.95)},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.answered), b2i(v.counted), v.offered }},
	{Indicator: profile.Indicator{ID: profile.ServiceLevelID, Name: "15秒接通率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target(">=", 0.80)},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.withinSL), b2i(v.slDen), v.offered }},
	{Indicator: profile.Indicator{ID: "abandon_rate", Name: "呼损率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target("<=", 0.05)},
		call: func(v *callView) (int64, int64, bool) {
			return b2i(v.abandoned && v.counted), b2i(v.counted), v.offered
		}},
	{Indicator: profile.Indicator{ID: "asa_seconds", Name: "平均应答时长", Kind: profile.Mean, Entity: profile.Calls, Unit: profile.Seconds, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) { return v.wait, 1, v.offered && v.answered }},
	{Indicator: profile.Indicator{ID: "avg_queue_seconds", Name: "平均排队时长", Kind: profile.Mean, Entity: profile.Calls, Unit: profile.Seconds, Anchor: "offer"},
		// an excluded short abandon leaves the call entirely
		call: func(v *callView) (int64, int64, bool) {
			return v.wait, 1, v.offered && (v.answered || v.abandoned && v.counted)
		}, sampled: true},
	{Indicator: profile.Indicator{ID: "avg_talk_seconds", Name: "平均通话时长", Kind: profile.Mean, Entity: profile.Calls, Unit: profile.Seconds, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) {
			return v.endTS - v.answerTS - v.holdMs, 1, v.answered && v.ended
		}},
	{Indicator: profile.Indicator{ID: "aht_seconds", Name: "平均处理时长", Kind: profile.Mean, Entity: profile.Calls, Unit: profile.Seconds, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) {
			return v.wrapTS - v.answerTS, 1, v.answered && v.ended && v.wrapped
		}, sampled: true},
	{Indicator: profile.Indicator{ID: "call_satisfaction_rate", Name: "满意率(通话)", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target(">=", 0.98)},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.satisfied), 1, v.rating != event.RatingNone }},

	// Tickets: each contribution goes to the department holding the
	// ticket at its anchor (a dispatch's: that dispatch's department).
	{Indicator: profile.Indicator{ID: "tickets_created", Name: "受理量", Kind: profile.Count, Entity: profile.Tickets, Unit: profile.Number, Anchor: "created"},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.created {
				ev.at(ind, ev.f.createdTS, 1, 0)
			}
		}, always: true},

	{Indicator: profile.Indicator{ID: "first_contact_resolution_rate", Name: "一次办结率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "created", Target: target(">=", 0.90)},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.created {
				ev.at(ind, ev.f.createdTS, b2i(ev.f.resolvedOnIntake != 0), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "dispatch_timeliness_rate", Name: "按时派单率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "first dispatch", Target: target(">=", 0.95)},
		ticket: (*ticketEval).dispatchTimeliness},
	{Indicator: profile.Indicator{ID: "acceptance_timeliness_rate", Name: "及时签收率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "dispatch", Target: target(">=", 0.95)},
		ticket: func(ev *ticketEval, ind id) {
			for i := range ev.f.dispatches {
				d := &ev.f.dispatches[i]
				// A return answers the dispatch: returned by the accept
				// limit, it was accepted on time (decision 2).
				ev.limit(ind, d.ts, ev.dims(d.dept), ev.e.addLimit(d.ts, ev.e.p.Deadlines.Accept.For(ev.f.urgency)), earliest(d.acceptTS, d.returnTS))
			}
		}},
	{Indicator: profile.Indicator{ID: "response_timeliness_rate", Name: "按时响应率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "dispatch", Target: target(">=", 0.95)},
		ticket: func(ev *ticketEval, ind id) {
			for i := range ev.f.dispatches {
				d := &ev.f.dispatches[i]
				if d.returnTS == 0 || (d.contactTS != 0 && d.contactTS <= d.returnTS) {
					// returned before any contact: not in the response rate
					ev.limit(ind, d.ts, ev.dims(d.dept), ev.e.addLimit(d.ts, ev.e.p.Deadlines.Contact.For(ev.f.urgency)), d.contactTS)
				}
			}
		}},
	{Indicator: profile.Indicator{ID: "written_response_timeliness_rate", Name: "书面渠道响应及时率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "created", Target: target(">=", 0.95)},
		ticket: func(ev *ticketEval, ind id) {
			f := ev.f
			if l, ok := ev.e.p.WrittenLimit(f.channel); ok && f.created && f.channel.Written() {
				ev.limit(ind, f.createdTS, ev.dims(f.holder(f.createdTS)), ev.e.addLimit(f.createdTS, l), f.respondedTS)
			}
		}},
	{Indicator: profile.Indicator{ID: "on_time_closure_rate", Name: "按时办结率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "deadline", Target: target(">=", 0.95)},
		ticket: (*ticketEval).onTimeClosure},
	{Indicator: profile.Indicator{ID: "overdue_open", Name: "超期未办结", Kind: profile.Count, Entity: profile.Tickets, Unit: profile.Number, Anchor: "now"},
		snapshot: func(s ticketSnap) bool { return s.due != 0 && s.due < s.asOf && !(s.reply != 0 && s.reply <= s.asOf) }},
	{Indicator: profile.Indicator{ID: "avg_resolve_workdays", Name: "平均办理时长(工作日)", Kind: profile.Mean, Entity: profile.Tickets, Unit: profile.WorkingDays, Anchor: "reply"},
		ticket: func(ev *ticketEval, ind id) {
			if f := ev.f; len(f.dispatches) > 0 && f.replyTS != 0 {
				ev.at(ind, f.replyTS, ev.e.cal.WorkingMillis(f.dispatches[f.clock].ts, f.replyTS), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "return_rate", Name: "退单率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "dispatch", Target: target("<=", 0.05)},
		ticket: func(ev *ticketEval, ind id) {
			for i := range ev.f.dispatches {
				d := &ev.f.dispatches[i]
				ev.out = ev.e.put(ev.out, ind, d.ts, ev.dims(d.dept), b2i(d.returnTS != 0), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "reopen_rate", Name: "重办率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "closed", Target: target("<=", 0.05)},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.closeTS != 0 {
				ev.at(ind, ev.f.closeTS, b2i(ev.f.reopened), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "callback_rate", Name: "回访率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "closed", Target: target(">=", 0.90)},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.closeTS != 0 {
				ev.at(ind, ev.f.closeTS, b2i(ev.f.reachedCallback), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "resolution_rate", Name: "解决率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "callback", Target: target(">=", 0.90)},
		ticket: func(ev *ticketEval, ind id) {
			for i := range ev.f.callbacks {
				if cb := &ev.f.callbacks[i]; cb.reached == event.True && cb.resolved != event.Unset {
					ev.at(ind, cb.ts, b2i(cb.resolved == event.True), 1)
				}
			}
		}},
	{Indicator: profile.Indicator{ID: "ticket_satisfaction_rate", Name: "满意率(回访)", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "callback", Target: target(">=", 0.98)},
		ticket: func(ev *ticketEval, ind id) {
			for i := range ev.f.callbacks {
				if cb := &ev.f.callbacks[i]; cb.rating != event.RatingNone {
					ev.at(ind, cb.ts, b2i(ev.e.satisfied[cb.rating]), 1)
				}
			}
		}},

	// Quality inspection (质检, revision 1.2): calls in the window of their
	// offer, tickets in that of their creation; the evaluations standing
	// at the evaluation time.
	{Indicator: profile.Indicator{ID: "call_qa_coverage_rate", Name: "话务质检覆盖率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target(">=", 0.03)},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.qa.standing > 0), 1, v.answered }},
	{Indicator: profile.Indicator{ID: "call_qa_pass_rate", Name: "话务质检合格率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "offer", Target: target(">=", 0.95)},
		call: func(v *callView) (int64, int64, bool) { return b2i(v.qaPasses), 1, v.qa.standing > 0 }},
	{Indicator: profile.Indicator{ID: "call_qa_avg_percent", Name: "话务质检平均得分", Kind: profile.Mean, Entity: profile.Calls, Unit: profile.Percent, Anchor: "offer"},
		call: func(v *callView) (int64, int64, bool) { return v.qa.percent, int64(v.qa.standing), v.qa.standing > 0 }},
	{Indicator: profile.Indicator{ID: "ticket_qa_coverage_rate", Name: "工单质检覆盖率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "created"},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.created {
				ev.at(ind, ev.f.createdTS, b2i(ev.f.qa.standing > 0), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "ticket_qa_pass_rate", Name: "工单质检合格率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "created", Target: target(">=", 0.95)},
		ticket: func(ev *ticketEval, ind id) {
			if f := ev.f; f.created && f.qa.standing > 0 {
				ev.at(ind, f.createdTS, b2i(f.qa.passes(ev.e.rules.passPercent)), 1)
			}
		}},
	{Indicator: profile.Indicator{ID: "ticket_qa_avg_percent", Name: "工单质检平均得分", Kind: profile.Mean, Entity: profile.Tickets, Unit: profile.Percent, Anchor: "created"},
		ticket: func(ev *ticketEval, ind id) {
			if f := ev.f; f.created && f.qa.standing > 0 {
				ev.at(ind, f.createdTS, f.qa.percent, int64(f.qa.standing))
			}
		}},
	// Agents (坐席, revision 1.2): each span of a session in the buckets
	// it overlaps, by the session's team.
	{Indicator: profile.Indicator{ID: "agent_online_seconds", Name: "签入时长", Kind: profile.Count, Entity: profile.Agents, Unit: profile.Seconds, Anchor: "span"},
		agent: func(t *agentTime) (int64, int64, bool) { n := online(t); return n, 0, n > 0 }},
	{Indicator: profile.Indicator{ID: "agent_not_ready_rate", Name: "示忙率", Kind: profile.Rate, Entity: profile.Agents, Unit: profile.Ratio, Anchor: "span"},
		agent: func(t *agentTime) (int64, int64, bool) { return t[event.AgentNotReady], online(t), true }, den: denSeconds},
	{Indicator: profile.Indicator{ID: "occupancy_rate", Name: "坐席利用率", Kind: profile.Rate, Entity: profile.Agents, Unit: profile.Ratio, Anchor: "span"},
		agent: func(t *agentTime) (int64, int64, bool) {
			return t[event.AgentBusy] + t[event.AgentWrapup], staffed(t), true
		}, den: denSeconds},
	{Indicator: profile.Indicator{ID: "agents_staffed", Name: "平均在岗坐席数", Kind: profile.Mean, Entity: profile.Agents, Unit: profile.Seconds, Anchor: "span"},
		agent: func(t *agentTime) (int64, int64, bool) { return staffed(t), 0, online(t) > 0 }, den: denWindow},
	// Calls answered (the call's window, its first answering agent and
	// team) over the logged-in hours of the same window and dimensions.
	{Indicator: profile.Indicator{ID: "calls_per_agent_hour", Name: "人均小时接听量", Kind: profile.Mean, Entity: profile.Agents, Unit: profile.Number, Anchor: "offer; span"},
		call:  func(v *callView) (int64, int64, bool) { return 1, 0, v.offered && v.answered },
		agent: func(t *agentTime) (int64, int64, bool) { n := online(t); return 0, n, n > 0 }, den: denHours},

	// Staffing (Erlang C) per staffing.interval window, by centre: derived
	// at query time from calls_offered, aht_seconds and agents_staffed.
	{Indicator: profile.Indicator{ID: "agents_required", Name: "应配坐席数", Kind: profile.Count, Entity: profile.Agents, Unit: profile.Number, Anchor: "staffing interval"}, derived: true},
	{Indicator: profile.Indicator{ID: "staffing_gap", Name: "缺员数", Kind: profile.Count, Entity: profile.Agents, Unit: profile.Number, Anchor: "staffing interval"}, derived: true},
	{Indicator: profile.Indicator{ID: "understaffed_intervals", Name: "缺员时段数", Kind: profile.Count, Entity: profile.Agents, Unit: profile.Number, Anchor: "staffing interval"}, derived: true},

	// Citizen needs (诉求): repeat contacts, derived at query time from
	// every contact with its caller (needs.go), and tickets by topic.
	{Indicator: profile.Indicator{ID: "repeat_call_rate", Name: "重复来电率", Kind: profile.Rate, Entity: profile.Calls, Unit: profile.Ratio, Anchor: "arrival"},
		derived: true, dims: []string{"center_id", "queue", "channel"}},
	{Indicator: profile.Indicator{ID: "repeat_request_rate", Name: "重复诉求率", Kind: profile.Rate, Entity: profile.Tickets, Unit: profile.Ratio, Anchor: "created"},
		derived: true, dims: []string{"center_id", "category", "topic_l1"}},
	{Indicator: profile.Indicator{ID: "tickets_by_topic", Name: "分类受理量", Kind: profile.Count, Entity: profile.Tickets, Unit: profile.Number, Anchor: "created"},
		ticket: func(ev *ticketEval, ind id) {
			if ev.f.created {
				ev.at(ind, ev.f.createdTS, 1, 0)
			}
		}, byAny: []string{"topic_l1", "topic_l2", "topic", "area"}},

	// Reviews of calls and of tickets, each in its own window and
	// dimensions; counted where something was evaluated.
	{Indicator: profile.Indicator{ID: "qa_reviews", Name: "复核量", Kind: profile.Count, Entity: profile.Calls, Unit: profile.Number, Anchor: "offer; created"},
		call: func(v *callView) (int64, int64, bool) { return int64(v.qa.reviews), 0, v.qa.standing > 0 },
		ticket: func(ev *ticketEval, ind id) {
			if f := ev.f; f.created && f.qa.standing > 0 {
				ev.at(ind, f.createdTS, int64(f.qa.reviews), 0)
			}
		}},
}

// entityDims are the dimensions of each entity's indicators, in tuple order.
var entityDims = map[profile.Entity][]string{profile.Calls: callDims, profile.Tickets: ticketDims, profile.Agents: agentDims}

// tables are what the engine reads of the catalogue, indexed by id.
type tables struct {
	defs                      []Def
	byName                    map[string]id
	calls, tickets, snapshots []id // indicators by counting function, in order
	agents                    []id
	presence                  map[profile.Entity][]id // counts shown, zero or not, wherever the entity has data
	marker                    map[profile.Entity]id   // the entity's first indicator: "the entity has data here"
}

// cat is the catalogue in the engine's form, built at start-up (the
// catalogue's functions read it, so it cannot be a variable's initializer).
var cat *tables

func newTables(ds []Def) *tables {
	t := &tables{byName: map[string]id{}, presence: map[profile.Entity][]id{}, marker: map[profile.Entity]id{}}
	for _, d := range ds {
		t.declare(d)
	}
	return t
}

func init() {
	cat = newTables(catalogue)
	profile.UseCatalogue(Lookup)
}

// declare adds d to the tables, as the next id.
func (t *tables) declare(d Def) {
	if _, dup := t.byName[d.ID]; dup {
		panic(fmt.Sprintf("indicator %s declared twice", d.ID))
	}
	if len(t.defs) == 1<<indBits {
		panic(fmt.Sprintf("indicator %s: the aggregate key holds %d indicators", d.ID, 1<<indBits))
	}
	if (d.call == nil && d.ticket == nil && d.agent == nil) == (d.snapshot == nil) && !d.derived {
		panic(fmt.Sprintf("indicator %s: want a call, ticket or agent function, or a snapshot", d.ID))
	}
	i := id(len(t.defs))
	t.byName[d.ID] = i
	t.defs = append(t.defs, d)
	if _, ok := t.marker[d.Entity]; !ok {
		t.marker[d.Entity] = i
	}
	if d.call != nil {
		t.calls = append(t.calls, i)
	}
	if d.ticket != nil {
		t.tickets = append(t.tickets, i)
	}
	if d.snapshot != nil {
		t.snapshots = append(t.snapshots, i)
	}
	if d.agent != nil {
		t.agents = append(t.agents, i)
	}
	if d.always {
		t.presence[d.Entity] = append(t.presence[d.Entity], i)
	}
}

// Catalogue returns every indicator, in catalogue order.
func Catalogue() []profile.Indicator {
	out := make([]profile.Indicator, len(cat.defs))
	for i, d := range cat.defs {
		out[i] = d.Indicator
	}
	return out
}

// Lookup returns the indicator with the given id.
func Lookup(name string) (profile.Indicator, bool) {
	i, ok := cat.byName[name]
	if !ok {
		return profile.Indicator{}, false
	}
	return cat.defs[i].Indicator, true
}

// Dims returns the dimensions of an indicator's aggregates, in tuple order.
func Dims(ind profile.Indicator) []string { return slices.Clone(entityDims[ind.Entity]) }

// idOf returns the engine id of an indicator.
func idOf(name string) (id, bool) {
	i, ok := cat.byName[name]
	return i, ok
}

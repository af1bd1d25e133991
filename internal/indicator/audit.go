package indicator

import (
	"sort"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Defect is a class of the records audit (docs/spec/assessment.md):
// a call or ticket whose history is incomplete or inconsistent.
type Defect uint8

// The defect classes, in report order.
const (
	DefectTicketWithoutCreated Defect = iota // replied, closed or called back without ticket.created
	DefectWorkWithoutDispatch                // accepted, contacted or replied, never dispatched
	DefectClosedWithoutReply                 // closed without a reply and without resolution on intake
	DefectEventsAfterClose                   // events after ticket.closed other than callback or reopen
	DefectOverdueWithoutReply                // open, past its resolve deadline, no reply, never suspended
	DefectCallWithoutQueue                   // answered, ended or rated without being queued or arriving
	DefectAnswerWithoutEnd                   // answered, no end a day later
	DefectImpossibleOrder                    // work before the first dispatch; an answer before the offer
	DefectConflicting                        // a duplicate event_id with other content
	DefectEvaluatedUnanswered                // a quality-inspection result of a call never answered (or unknown)
	DefectAgentOrphans                       // an agent's state change or sign-out outside any session (revision 1.2)
	DefectUnknownTopic                       // ticket.created with a topic not in the profile's code table (revision 1.2)
	numDefects
)

var defectNames = [numDefects][2]string{
	DefectTicketWithoutCreated: {"ticket_without_created", "工单无受理记录"},
	DefectWorkWithoutDispatch:  {"work_without_dispatch", "未派单即有承办记录"},
	DefectClosedWithoutReply:   {"closed_without_reply", "无答复即办结归档"},
	DefectEventsAfterClose:     {"events_after_close", "归档后仍有办理记录"},
	DefectOverdueWithoutReply:  {"overdue_without_reply", "超期未答复且未挂起"},
	DefectCallWithoutQueue:     {"call_without_queue", "通话无进线或排队记录"},
	DefectAnswerWithoutEnd:     {"answer_without_end", "接通后超过一天无挂机记录"},
	DefectImpossibleOrder:      {"impossible_order", "事件顺序不可能"},
	DefectConflicting:          {"conflicting_duplicates", "同一事件编号内容冲突"},
	DefectEvaluatedUnanswered:  {"evaluated_unanswered", "质检对象无接通记录"},
	DefectAgentOrphans:         {"agent_orphan_events", "坐席未签入即有状态记录"},
	DefectUnknownTopic:         {"unknown_topics", "诉求分类代码不在分类表中"},
}

// String returns the class id, e.g. "closed_without_reply".
func (d Defect) String() string { return defectNames[d][0] }

// Chinese returns the class name for reports.
func (d Defect) Chinese() string { return defectNames[d][1] }

// Defects returns every class in report order.
func Defects() []Defect {
	out := make([]Defect, numDefects)
	for i := range out {
		out[i] = Defect(i)
	}
	return out
}

// DefectOf returns the class with id s.
func DefectOf(s string) (Defect, bool) {
	for d := range numDefects {
		if defectNames[d][0] == s {
			return d, true
		}
	}
	return 0, false
}

// defects is a set of classes.
type defects uint16

func (s defects) has(d Defect) bool { return s&(1<<d) != 0 }

func (s *defects) add(d Defect, cond bool) {
	if cond {
		*s |= 1 << d
	}
}

// answerWithoutEnd is how long an answered call may go without an end.
const answerWithoutEnd = 24 * time.Hour

func (e *Engine) callDefects(c *call, f *callFact) defects {
	var d defects
	if f.none {
		return d
	}
	d.add(DefectCallWithoutQueue, (f.answered || f.ended || f.rating != event.RatingNone) && !f.offered && !f.arrived)
	d.add(DefectAnswerWithoutEnd, f.answered && !f.ended && e.asOf-f.answerTS > answerWithoutEnd.Milliseconds())
	d.add(DefectImpossibleOrder, f.offered && f.answered && f.answerTS < f.offerTS)
	d.add(DefectConflicting, c.conflicts > 0)
	d.add(DefectEvaluatedUnanswered, f.qa.standing > 0 && !f.answered)
	return d
}

// ticketDefects classifies a ticket from its fact (its events sorted by
// the fact, up to the cutoff) and its resolve deadline (0: not dispatched).
func (e *Engine) ticketDefects(t *ticket, f *ticketFact, due int64) defects {
	var d defects
	firstDisp := int64(0)
	if len(f.dispatches) > 0 {
		firstDisp = f.dispatches[0].ts
	}
	work, closed, early, afterClose := false, false, false, false
	for i := range t.evs {
		v := &t.evs[i]
		if v.ts > e.cutoff {
			break
		}
		switch v.typ {
		case event.TicketAccepted, event.TicketContacted, event.TicketReplied:
			work = true
			early = early || (firstDisp != 0 && v.ts < firstDisp)
		}
		switch v.typ {
		case event.TicketClosed:
			closed = true
		case event.TicketReopened:
			closed = false
		case event.TicketCallback:
		default:
			afterClose = afterClose || closed
		}
	}
	d.add(DefectTicketWithoutCreated, !f.created && (len(f.replies) > 0 || f.closeTS != 0 || len(f.callbacks) > 0 || f.qa.standing > 0))
	d.add(DefectWorkWithoutDispatch, work && firstDisp == 0)
	d.add(DefectClosedWithoutReply, f.closeTS != 0 && len(f.replies) == 0 && f.resolvedOnIntake == 0)
	d.add(DefectEventsAfterClose, afterClose)
	d.add(DefectOverdueWithoutReply, due != 0 && len(f.replies) == 0 && due < e.asOf && len(f.suspends) == 0 && !closed)
	d.add(DefectImpossibleOrder, early)
	d.add(DefectConflicting, t.conflicts > 0)
	d.add(DefectUnknownTopic, f.created && f.topic != "" && !e.p.TopicTable.Known(f.topic))
	return d
}

// defectKey counts the calls and tickets in memory with a class.
type defectKey struct {
	center string
	d      Defect
}

// noteDefects records an entity's classes (now; 0 when it leaves memory)
// and keeps the counts of DefectCounts.
func (e *Engine) noteDefects(center string, have *defects, now defects) {
	if changed := now ^ *have; changed != 0 {
		if e.defectN == nil {
			e.defectN = map[defectKey]int{}
		}
		for d := range numDefects {
			switch {
			case !changed.has(d):
			case now.has(d):
				e.defectN[defectKey{center, d}]++
			default:
				k := defectKey{center, d}
				if e.defectN[k]--; e.defectN[k] == 0 {
					delete(e.defectN, k)
				}
			}
		}
	}
	*have = now
}

// DefectCounts calls fn with the number of calls and tickets in memory of
// each centre that have each class, as of their last evaluation: a live
// records audit of what the engine holds (non-zero counts only).
func (e *Engine) DefectCounts(fn func(center string, d Defect, n int)) {
	for k, n := range e.defectN {
		fn(k.center, k.d, n)
	}
}

// AuditRow is one class of defect in one centre and month: how many calls
// or tickets have it, and the first of them by id.
type AuditRow struct {
	CenterID string
	Month    string // YYYY-MM of the call's offer (or first event) or the ticket's creation (or first event)
	Defect   Defect
	Count    int
	Examples []string // ids, in id order (the first few, or all)
}

// MaxAuditExamples is how many example ids an AuditRow lists by default.
const MaxAuditExamples = 5

// Audit returns the records audit of every call and ticket the engines
// hold, as of their last evaluation, sorted by centre, month and class.
// Each row lists up to examples ids; a negative examples lists them all.
func Audit(examples int, engines ...*Engine) []AuditRow {
	type key struct {
		center, month string
		d             Defect
	}
	rows := map[key]*AuditRow{}
	add := func(e *Engine, center, id string, anchor int64, have defects) {
		if have == 0 {
			return
		}
		month := time.UnixMilli(anchor).In(e.ps.of(center).loc).Format("2006-01")
		for d := range numDefects {
			if !have.has(d) {
				continue
			}
			k := key{center, month, d}
			r := rows[k]
			if r == nil {
				r = &AuditRow{CenterID: center, Month: month, Defect: d}
				rows[k] = r
			}
			r.Count++
			r.Examples = append(r.Examples, id)
		}
	}
	for _, e := range engines {
		for _, c := range e.calls {
			add(e, c.center, c.id, c.anchor, c.defects)
		}
		for _, t := range e.tickets {
			add(e, t.center, t.id, t.anchor, t.defects)
		}
		for _, a := range e.agents {
			add(e, a.center, a.id, a.orphanTS, a.defects)
		}
	}
	out := make([]AuditRow, 0, len(rows))
	for _, r := range rows {
		sort.Strings(r.Examples)
		if examples >= 0 {
			r.Examples = r.Examples[:min(len(r.Examples), examples)]
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.CenterID != b.CenterID {
			return a.CenterID < b.CenterID
		}
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		return a.Defect < b.Defect
	})
	return out
}

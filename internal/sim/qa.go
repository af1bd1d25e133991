package sim

import (
	"math"
	"time"
)

// Quality inspection (质检): inspectors score a share of the answered calls
// and closed tickets hours to days later, on a 100-point call form and
// a 10-point ticket form; a few calls fail outright (a critical item); an
// agent appeals some low scores and a review replaces them. Drawn from
// the simulation's own QA source, so it leaves the other events as they
// are.

// inspectCall scores a call after its end: always when the caller was
// dissatisfied, else with the centre's call share.
func (c *center) inspectCall(callID, agentID string, dissatisfied bool) {
	s := c.s
	if !dissatisfied && !(c.cfg.QA.CallShare > 0 && s.qa.Float64() < c.cfg.QA.CallShare) {
		return
	}
	id := c.qaID("v")
	score, autoFail := math.Round(2*(91+5*s.qa.NormFloat64()))/2, s.qa.Float64() < 0.015
	score = min(max(score, 40), 100)
	evaluator := "qa-" + itoa(uint64(1+s.qa.IntN(4)))
	s.at(s.now+c.qaDelay(), func() {
		w := wire{Type: "call.evaluated", CenterID: c.cfg.ID, CallID: callID, AgentID: agentID, EvaluationID: id,
			Form: "voice-2026", Score: ptr(score), MaxScore: ptr(100.0), Evaluator: evaluator}
		if autoFail {
			w.AutoFail = ptr(true)
		}
		c.emitQA(w)
		if score < 88 && !autoFail && s.qa.Float64() < 0.4 { // appealed: reviewed
			review := min(100, score+float64(5+s.qa.IntN(11)))
			s.at(s.now+c.qaDelay(), func() {
				w.Score = ptr(review)
				c.emitQA(w)
			})
		}
	})
}

// inspectTicket scores a closed ticket with the centre's ticket share.
func (c *center) inspectTicket(ticketID, dept string) {
	s := c.s
	if !(c.cfg.QA.TicketShare > 0 && s.qa.Float64() < c.cfg.QA.TicketShare) {
		return
	}
	id, score := c.qaID("u"), float64(8+s.qa.IntN(3))
	if s.qa.Float64() < 0.04 {
		score = float64(5 + s.qa.IntN(3))
	}
	s.at(s.now+c.qaDelay(), func() {
		c.emitQA(wire{Type: "ticket.evaluated", CenterID: c.cfg.ID, TicketID: ticketID, DepartmentID: dept, EvaluationID: id,
			Form: "ticket-2026", Score: ptr(score), MaxScore: ptr(10.0), Evaluator: "qa-" + itoa(uint64(1+s.qa.IntN(4)))})
	})
}

// qaDelay is two hours to three days: some inspections the same day, most
// on the following days.
func (c *center) qaDelay() int64 {
	return int64(2*time.Hour/time.Millisecond) + c.s.qa.Int64N(int64(70*time.Hour/time.Millisecond))
}

// qaID numbers evaluations apart from the other ids, which stay as they
// were without quality inspection.
func (c *center) qaID(prefix string) string {
	c.s.qaIDs++
	return prefix + itoa(c.s.cfg.Seed) + "-" + itoa(uint64(c.s.qaIDs))
}

// emitQA sends w now, under an event id of the QA series.
func (c *center) emitQA(w wire) {
	w.EventID = c.qaID("qa-")
	c.s.send(w, true)
}

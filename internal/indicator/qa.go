package indicator

import (
	"bytes"
	"math"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Quality inspection (质检, indicators.md revision 1.2): evaluations of a
// call or ticket, of which the latest of each evaluation_id stands.

// evaluation is what a call.evaluated or ticket.evaluated event says. Only
// those events carry one, so the other events pay a nil pointer.
type evaluation struct {
	id, form, agent, dept, evaluator string
	score, max                       float64
	passed, autoFail                 event.Tri
}

func evaluationOf(e *event.Event) *evaluation {
	if !e.Type.Evaluation() {
		return nil
	}
	return &evaluation{id: e.EvaluationID, form: e.Form, agent: e.AgentID, dept: e.DepartmentID, evaluator: e.Evaluator,
		score: e.Score, max: e.MaxScore, passed: e.Passed, autoFail: e.AutoFail}
}

// percent is 100 × score ÷ max_score, and 0 on an automatic fail.
func (v *evaluation) percent() float64 {
	if v.autoFail == event.True {
		return 0
	}
	return 100 * v.score / v.max
}

// percentUnit is the amount a percent is summed in: millionths of a
// percentage point, so that sums are exact integers (each evaluation's
// percent is rounded to it once).
const percentUnit = 1e6

// qaFact is what an entity's evaluations say as of the evaluation time.
type qaFact struct {
	standing int   // evaluations that stand (no later review)
	reviews  int   // evaluations replaced by a later review of their id
	percent  int64 // the standing ones' percents, summed in percentUnit
	// failed: a standing evaluation fails by passed:false, or by auto_fail
	// without passed; byPercent: some pass or fail by their percent, the
	// least of which is minPercent.
	failed     bool
	byPercent  bool
	minPercent float64
}

// passes reports whether every standing evaluation passes.
func (q *qaFact) passes(passPercent float64) bool {
	return !q.failed && (!q.byPercent || q.minPercent >= passPercent)
}

// qaOf derives the qaFact of a call's or ticket's events evs (those at or
// before the evaluation time): at gives an event's time and evaluation (nil
// for the others); canon its canonical JSON, asked only to order two
// evaluations of one id at the same instant (the smaller stands). A later
// one of the same id is a review: it replaces the earlier, which counts in
// reviews.
func qaOf[E any](evs []E, at0 func(*E) (int64, *evaluation), canon0 func(*E) []byte) qaFact {
	idx := make([]int, 0, 2)
	for i := range evs {
		if _, v := at0(&evs[i]); v != nil {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	at := func(i int) (int64, *evaluation) { return at0(&evs[idx[i]]) }
	canon := func(i int) []byte { return canon0(&evs[idx[i]]) }
	var q qaFact
	for i := range n {
		ts, v := at(i)
		standing, reviewed := true, false
		for j := range n {
			tj, w := at(j)
			if j == i || w.id != v.id {
				continue
			}
			switch {
			case tj > ts:
				standing, reviewed = false, true
			case tj == ts && bytes.Compare(canon(j), canon(i)) < 0:
				standing = false
			}
		}
		if reviewed {
			q.reviews++
		}
		if !standing {
			continue
		}
		q.standing++
		p := v.percent()
		q.percent += int64(math.Round(p * percentUnit))
		switch {
		case v.passed == event.True:
		case v.passed == event.False, v.autoFail == event.True:
			q.failed = true
		case !q.byPercent || p < q.minPercent:
			q.byPercent, q.minPercent = true, p
		}
	}
	return q
}

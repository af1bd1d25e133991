package indicator

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strings"

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

// Review is an evaluation that a later one of its evaluation_id replaced
// (复核), with what replaced it.
type Review struct {
	Ticket        bool
	CenterID, ID  string // the call or ticket
	EvaluationID  string
	Form          string
	Before, After Scored
}

// Scored is one version of an evaluation.
type Scored struct {
	EventID   string
	TS        int64
	Agent     string // the evaluation's agent_id (calls), if given
	Evaluator string
	Score     float64
	MaxScore  float64
	Percent   float64 // 100 × score ÷ max_score, 0 on an automatic fail
	Passed    bool    // by the evaluation's passed, auto_fail or passPercent
}

// Reviews lists the reviews among evaluation events (call.evaluated,
// ticket.evaluated; others are ignored) at or before cutoff: per call or
// ticket and evaluation_id, each version followed by a later one, paired
// with the next. A replay of an event counts once; of two versions of one
// event_id the rule of decision 12 keeps one; of two evaluations at the
// same instant the smaller canonical JSON stands and the other is no
// review. The events may come in any order; the list is sorted by centre,
// call or ticket, evaluation and time.
func Reviews(evs []event.Event, cutoff int64, passPercent func(center string) float64) []Review {
	type key struct {
		ticket          bool
		center, id, eid string
	}
	kept := map[key]*event.Event{} // by event_id: the version decision 12 keeps
	for i := range evs {
		e := &evs[i]
		if !e.Type.Evaluation() || e.TS > cutoff {
			continue
		}
		ref := RefOf(e)
		k := key{ref.Ticket, ref.CenterID, ref.ID, e.ID}
		if o, ok := kept[k]; ok && (SameEvent(o, e) ||
			!replaces(e.TS, o.TS, func() ([]byte, []byte) { return canonicalEvent(e), canonicalEvent(o) })) {
			continue
		}
		kept[k] = e
	}
	type group struct {
		ticket                 bool
		center, id, evaluation string
	}
	byID := map[group][]*event.Event{}
	for k, e := range kept {
		g := group{k.ticket, k.center, k.id, e.EvaluationID}
		byID[g] = append(byID[g], e)
	}
	var out []Review
	for g, list := range byID {
		slices.SortFunc(list, func(a, b *event.Event) int {
			return cmp.Or(cmp.Compare(a.TS, b.TS), bytes.Compare(canonicalEvent(a), canonicalEvent(b)))
		})
		// The standing version of each instant is its first (smallest).
		var standing []*event.Event
		for i, e := range list {
			if i == 0 || e.TS != list[i-1].TS {
				standing = append(standing, e)
			}
		}
		pass := passPercent(g.center)
		for i := 1; i < len(standing); i++ {
			b, a := standing[i-1], standing[i]
			out = append(out, Review{Ticket: g.ticket, CenterID: g.center, ID: g.id, EvaluationID: g.evaluation, Form: a.Form,
				Before: scored(b, pass), After: scored(a, pass)})
		}
	}
	slices.SortFunc(out, func(a, b Review) int {
		return cmp.Or(strings.Compare(a.CenterID, b.CenterID), cmpBool(a.Ticket, b.Ticket), strings.Compare(a.ID, b.ID),
			strings.Compare(a.EvaluationID, b.EvaluationID), cmp.Compare(a.Before.TS, b.Before.TS))
	})
	return out
}

func scored(e *event.Event, passPercent float64) Scored {
	v := evaluationOf(e)
	q := qaOf([]*evaluation{v}, func(v **evaluation) (int64, *evaluation) { return e.TS, *v }, nil)
	return Scored{EventID: e.ID, TS: e.TS, Agent: e.AgentID, Evaluator: e.Evaluator, Score: e.Score, MaxScore: e.MaxScore,
		Percent: v.percent(), Passed: q.passes(passPercent)}
}

// canonicalEvent is the canonical JSON of an evaluation event, as its call
// or ticket keeps it (see cev.canonical, tev.canonical).
func canonicalEvent(e *event.Event) []byte {
	ref := RefOf(e)
	if ref.Ticket {
		v := tev{eid: e.ID, ts: e.TS, typ: e.Type, dept: e.DepartmentID, ev: evaluationOf(e)}
		return v.canonical(ref.CenterID, ref.ID)
	}
	v := cev{eid: e.ID, ts: e.TS, typ: e.Type, ev: evaluationOf(e)}
	return v.canonical(ref.CenterID, ref.ID)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// Package qa is the sampling rule of quality inspection (质检抽检,
// docs/spec/indicators.md revision 1.2): which calls inspectors score, so
// that the sample is fair and an auditor can draw it again. Given the
// same calls and seed it gives the same sample, whatever order the calls
// come in.
package qa

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// Call is what the rule reads of a call.
type Call struct {
	Center, ID   string
	Agent, Team  string // the first answering agent and its team
	Queue        string
	OfferTS      int64 // Unix ms; 0 when never offered
	TalkMs       int64 // talk of an answered call that ended; 0 otherwise
	Dissatisfied bool  // rated dissatisfied or very_dissatisfied
}

// CallOf is the rule's view of a call's evaluated state.
func CallOf(s *indicator.EntityState) Call {
	f := &s.Call
	c := Call{Center: s.CenterID, ID: s.ID, Agent: f.Agent, Team: f.Team, Queue: f.Queue, TalkMs: f.TalkMs,
		Dissatisfied: f.Rating == "dissatisfied" || f.Rating == "very_dissatisfied"}
	if f.Offered {
		c.OfferTS = f.OfferTS
	}
	return c
}

// Why a call was chosen.
const (
	Random       = "random"
	Dissatisfied = "dissatisfied" // 差评必检
)

// Choice is a chosen call.
type Choice struct {
	Call
	Why string
}

// Rule is the sampling rule's parameters.
type Rule struct {
	From, To int64 // offers in [From, To), Unix ms
	PerAgent int
	MinTalk  time.Duration
	Seed     string
}

// Sample chooses, for each agent, the PerAgent calls offered in the period
// with the smallest HMAC-SHA-256(key = Seed, message = call id), compared
// as bytes, among those that ended after a talk of at least MinTalk; and
// every call of the period rated dissatisfied, listed once (as
// dissatisfied) when chosen both ways. The choices come sorted by centre,
// agent, offer time and call id.
func Sample(calls []Call, r Rule) []Choice {
	type keyed struct {
		c   *Call
		mac []byte
	}
	byAgent := map[[2]string][]keyed{}
	chosen := map[[2]string]string{} // centre, call id → why
	var out []Choice
	for i := range calls {
		c := &calls[i]
		if c.OfferTS == 0 || c.OfferTS < r.From || c.OfferTS >= r.To {
			continue
		}
		key := [2]string{c.Center, c.ID}
		if c.Dissatisfied && chosen[key] == "" {
			chosen[key] = Dissatisfied
			out = append(out, Choice{Call: *c, Why: Dissatisfied})
		}
		if c.Agent != "" && c.TalkMs > 0 && c.TalkMs >= r.MinTalk.Milliseconds() {
			a := [2]string{c.Center, c.Agent}
			byAgent[a] = append(byAgent[a], keyed{c, mac(r.Seed, c.ID)})
		}
	}
	for _, cs := range byAgent {
		slices.SortFunc(cs, func(a, b keyed) int {
			if d := bytes.Compare(a.mac, b.mac); d != 0 {
				return d
			}
			return strings.Compare(a.c.ID, b.c.ID) // one call id twice (two centres): any fixed order
		})
		for _, k := range cs[:min(r.PerAgent, len(cs))] {
			key := [2]string{k.c.Center, k.c.ID}
			if chosen[key] == "" {
				chosen[key] = Random
				out = append(out, Choice{Call: *k.c, Why: Random})
			}
		}
	}
	slices.SortFunc(out, func(a, b Choice) int {
		return cmp.Or(strings.Compare(a.Center, b.Center), strings.Compare(a.Agent, b.Agent),
			cmp.Compare(a.OfferTS, b.OfferTS), strings.Compare(a.ID, b.ID))
	})
	return out
}

// mac is HMAC-SHA-256 of msg under key seed.
func mac(seed, msg string) []byte {
	h := hmac.New(sha256.New, []byte(seed))
	h.Write([]byte(msg))
	return h.Sum(nil)
}

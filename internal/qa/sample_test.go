package qa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"
)

// calls makes a month of calls of five agents of two centres: some short,
// some unanswered or not ended, some dissatisfied, some outside the period.
func calls(seed uint64) []Call {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var out []Call
	for i := range 600 {
		c := Call{Center: fmt.Sprintf("c%d", i%2), ID: fmt.Sprintf("k%d", i), Queue: "q",
			OfferTS: start + rng.Int64N(40*86_400_000) - 5*86_400_000}
		switch r := rng.IntN(10); {
		case r == 0: // abandoned
		case r == 1: // answered, not ended
			c.Agent = fmt.Sprintf("a%d", rng.IntN(5))
		default:
			c.Agent = fmt.Sprintf("a%d", rng.IntN(5))
			c.TalkMs = rng.Int64N(300_000)
		}
		if c.Agent == "a4" && c.Center == "c1" && i%4 != 0 { // an agent with few calls
			c.Agent = "a3"
		}
		c.Dissatisfied = rng.IntN(25) == 0
		c.Team = "t-" + c.Agent
		out = append(out, c)
	}
	return out
}

var rule = Rule{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
	To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), PerAgent: 8, MinTalk: 30 * time.Second, Seed: "2026-10 抽检"}

// The sample is the rule computed independently: per agent, the eligible
// calls sorted by the hex of their HMAC, the first eight; and every
// dissatisfied call of the period.
func TestSampleIsTheRule(t *testing.T) {
	cs := calls(1)
	want := map[string]string{}
	eligible := map[string][]string{} // agent → hex HMAC + " " + call key
	for _, c := range cs {
		if c.OfferTS < rule.From || c.OfferTS >= rule.To {
			continue
		}
		key := c.Center + "/" + c.ID
		if c.Agent != "" && c.TalkMs >= 30_000 {
			h := hmac.New(sha256.New, []byte(rule.Seed))
			h.Write([]byte(c.ID))
			eligible[c.Center+"/"+c.Agent] = append(eligible[c.Center+"/"+c.Agent], hex.EncodeToString(h.Sum(nil))+" "+key)
		}
		if c.Dissatisfied {
			want[key] = Dissatisfied
		}
	}
	full := 0
	for _, list := range eligible {
		sort.Strings(list)
		if len(list) >= rule.PerAgent {
			full++
		}
		for _, l := range list[:min(len(list), rule.PerAgent)] {
			key := l[65:]
			if want[key] == "" {
				want[key] = Random
			}
		}
	}
	got := map[string]string{}
	perAgent := map[string]int{}
	for _, c := range Sample(cs, rule) {
		key := c.Center + "/" + c.ID
		if _, dup := got[key]; dup {
			t.Errorf("%s listed twice", key)
		}
		got[key] = c.Why
		if c.TalkMs >= 30_000 && c.Agent != "" {
			perAgent[c.Center+"/"+c.Agent]++
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sample of %d, the rule gives %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	// Exactly eight per agent who has eight eligible calls or more (some of
	// those eight may be listed as dissatisfied, and dissatisfied calls may
	// add to them).
	for a, list := range eligible {
		if n := min(len(list), rule.PerAgent); perAgent[a] < n {
			t.Errorf("%s: %d of its eligible calls chosen, want at least %d", a, perAgent[a], n)
		}
	}
	if full < 5 || len(eligible) < 8 {
		t.Fatalf("the calls do not exercise the rule: %d agents, %d with eight calls", len(eligible), full)
	}
	t.Logf("%d calls chosen from %d; %d agents, %d with eight eligible calls", len(got), len(cs), len(eligible), full)
}

// The same calls in another order, and with the seed changed, a different
// but equally reproducible sample.
func TestSampleIgnoresOrder(t *testing.T) {
	cs := calls(2)
	a := Sample(cs, rule)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	if b := Sample(cs, rule); !reflect.DeepEqual(a, b) {
		t.Error("shuffled calls gave another sample")
	}
	other := rule
	other.Seed = "another seed"
	if reflect.DeepEqual(a, Sample(cs, other)) {
		t.Error("another seed gave the same sample")
	}
}

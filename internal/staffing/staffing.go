// Package staffing is the Erlang C model of docs/spec/indicators.md
// ("Agents and staffing"): from the calls offered in an interval, their
// mean handle time and a service-level objective, the agents an interval
// needs, and what a given staffing achieves. It is pure arithmetic, exact
// for any number of agents: the wait probability comes from the Erlang B
// recursion, which stays within [0, 1] at every step, so neither a
// factorial nor a power of the traffic is ever formed.
package staffing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Demand is an interval's traffic and the objective it is held to.
type Demand struct {
	Calls     float64       // calls offered in the interval
	Interval  time.Duration // its length
	AHT       time.Duration // mean handle time
	Threshold time.Duration // answer within (the service level's T)
	Target    float64       // service level to reach, in (0, 1)
	// MaxOccupancy, when in (0, 1], also bounds A/N of the required agents.
	MaxOccupancy float64
}

// Validate reports what makes the demand unusable.
func (d Demand) Validate() error {
	var errs []error
	switch {
	case d.Calls < 0 || math.IsNaN(d.Calls) || math.IsInf(d.Calls, 0):
		errs = append(errs, fmt.Errorf("calls %v: want a number ≥ 0", d.Calls))
	case d.Interval <= 0:
		errs = append(errs, fmt.Errorf("interval %v: want > 0", d.Interval))
	}
	if d.Calls > 0 && d.AHT <= 0 {
		errs = append(errs, fmt.Errorf("aht %v: want > 0", d.AHT))
	}
	if d.Threshold < 0 {
		errs = append(errs, fmt.Errorf("threshold %v: want ≥ 0", d.Threshold))
	}
	if !(d.Target > 0 && d.Target < 1) {
		errs = append(errs, fmt.Errorf("target %v: want a service level in (0, 1)", d.Target))
	}
	if d.MaxOccupancy != 0 && !(d.MaxOccupancy > 0 && d.MaxOccupancy <= 1) {
		errs = append(errs, fmt.Errorf("max occupancy %v: want (0, 1]", d.MaxOccupancy))
	}
	return errors.Join(errs...)
}

// Traffic is the offered load A = λ·AHT in erlangs.
func (d Demand) Traffic() float64 {
	return d.Calls * d.AHT.Seconds() / d.Interval.Seconds()
}

// Result is what N agents achieve against a demand.
type Result struct {
	Traffic         float64 `json:"traffic_erlangs"`
	Agents          int     `json:"agents"`
	ServiceLevel    float64 `json:"service_level"`
	WaitProbability float64 `json:"wait_probability"`
	ASASeconds      float64 `json:"asa_seconds"`
	Occupancy       float64 `json:"occupancy"`
	// Positions are the agents to roster when a share of paid time is
	// not spent on calls (shrinkage): ⌈agents ÷ (1 − shrinkage)⌉; 0 when
	// no shrinkage was given.
	Positions int `json:"positions,omitempty"`
}

// Evaluate returns what n agents achieve. With n ≤ A the queue grows
// without bound: every call waits, the service level is 0 and the ASA
// infinite (reported as +Inf).
func Evaluate(d Demand, n int) Result {
	a := d.Traffic()
	r := Result{Traffic: a, Agents: n}
	switch {
	case a == 0:
		r.ServiceLevel = 1
		return r
	case n <= 0:
		r.WaitProbability, r.ASASeconds = 1, math.Inf(1)
		return r
	}
	b := 1.0 // Erlang B(0, A)
	for k := 1; k <= n; k++ {
		b = erlangB(b, k, a)
	}
	return result(d, a, n, b)
}

// Required returns the smallest staffing N > A whose service level reaches
// the target (and whose occupancy stays within MaxOccupancy when set), and
// what it achieves. An interval without calls requires 0 agents.
func Required(d Demand) Result {
	a := d.Traffic()
	if a == 0 {
		return Result{ServiceLevel: 1}
	}
	b := 1.0
	for n := 1; ; n++ {
		b = erlangB(b, n, a)
		if float64(n) <= a {
			continue
		}
		r := result(d, a, n, b)
		if r.ServiceLevel >= d.Target && (d.MaxOccupancy == 0 || r.Occupancy <= d.MaxOccupancy) {
			return r
		}
	}
}

// WithShrinkage sets the positions to roster for n agents when share s of
// paid time is lost to breaks, training, absence (0 ≤ s < 1).
func (r Result) WithShrinkage(s float64) Result {
	if s > 0 {
		r.Positions = int(math.Ceil(float64(r.Agents)/(1-s) - 1e-9))
	}
	return r
}

// erlangB steps the Erlang B recursion from n−1 to n agents:
// B(n) = A·B(n−1) ÷ (n + A·B(n−1)).
func erlangB(prev float64, n int, a float64) float64 {
	x := a * prev
	return x / (float64(n) + x)
}

// result derives the Erlang C figures for n > 0 agents from B(n, A).
func result(d Demand, a float64, n int, b float64) Result {
	r := Result{Traffic: a, Agents: n, Occupancy: a / float64(n)}
	if float64(n) <= a {
		r.WaitProbability, r.ASASeconds, r.Occupancy = 1, math.Inf(1), 1
		return r
	}
	// Erlang C from Erlang B: C = N·B ÷ (N − A·(1 − B)).
	c := float64(n) * b / (float64(n) - a*(1-b))
	aht := d.AHT.Seconds()
	r.WaitProbability = c
	r.ServiceLevel = 1 - c*math.Exp(-(float64(n)-a)*d.Threshold.Seconds()/aht)
	r.ASASeconds = c * aht / (float64(n) - a)
	return r
}

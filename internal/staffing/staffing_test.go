package staffing

import (
	"math"
	"math/big"
	"testing"
	"time"
)

// The published Erlang C example (Call Centre Helper's calculator, used in
// most workforce-management primers): 100 calls in 30 minutes, 180-s
// handle time, 80 % answered within 20 s: 10 erlangs, 14 agents, service
// level 88.8 %, occupancy 71.4 %; 20 positions with 30 % shrinkage.
func TestPublishedExample(t *testing.T) {
	d := Demand{Calls: 100, Interval: 30 * time.Minute, AHT: 180 * time.Second, Threshold: 20 * time.Second, Target: 0.8}
	r := Required(d).WithShrinkage(0.3)
	if r.Traffic != 10 || r.Agents != 14 || r.Positions != 20 {
		t.Fatalf("got %+v", r)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"service level", r.ServiceLevel, 0.888}, {"occupancy", r.Occupancy, 0.714}, {"wait probability", r.WaitProbability, 0.174}} {
		if math.Abs(c.got-c.want) > 0.0005 {
			t.Errorf("%s %.4f, want %.3f", c.name, c.got, c.want)
		}
	}
	if math.Abs(r.ASASeconds-7.8) > 0.05 {
		t.Errorf("ASA %.2f s, want 7.8", r.ASASeconds)
	}
	// 13 agents miss the target; evaluating 14 gives what Required found.
	if r13 := Evaluate(d, 13); r13.ServiceLevel >= 0.8 {
		t.Errorf("13 agents reach %.4f", r13.ServiceLevel)
	}
	if e := Evaluate(d, 14); e != (Result{Traffic: 10, Agents: 14, ServiceLevel: r.ServiceLevel, WaitProbability: r.WaitProbability,
		ASASeconds: r.ASASeconds, Occupancy: r.Occupancy}) {
		t.Errorf("Evaluate(14) %+v, Required %+v", e, r)
	}
	t.Logf("%+v", r)
}

// An occupancy cap can require more agents than the service level does.
func TestMaxOccupancy(t *testing.T) {
	d := Demand{Calls: 100, Interval: 30 * time.Minute, AHT: 180 * time.Second, Threshold: 20 * time.Second, Target: 0.8, MaxOccupancy: 0.65}
	if r := Required(d); r.Agents != 16 || r.Occupancy > 0.65 {
		t.Errorf("got %+v; 10/16 = 0.625 is the first occupancy ≤ 0.65", r)
	}
}

// No calls, no agents; too few agents: every call waits.
func TestEdges(t *testing.T) {
	d := Demand{Interval: 30 * time.Minute, AHT: 180 * time.Second, Threshold: 15 * time.Second, Target: 0.8}
	if r := Required(d); r.Agents != 0 || r.ServiceLevel != 1 {
		t.Errorf("no calls: %+v", r)
	}
	d.Calls = 100
	if r := Evaluate(d, 10); r.WaitProbability != 1 || r.ServiceLevel != 0 || !math.IsInf(r.ASASeconds, 1) {
		t.Errorf("N = A: %+v", r)
	}
	if err := (Demand{Calls: -1, Interval: time.Minute, Target: 1.2}).Validate(); err == nil {
		t.Error("a bad demand validated")
	}
}

// A very large centre (A ≈ 12,000 erlangs) is computed without overflow
// and agrees with the same recursion carried out with 256-bit floats.
func TestVeryLargeTrafficIsExact(t *testing.T) {
	d := Demand{Calls: 240_000, Interval: time.Hour, AHT: 180 * time.Second, Threshold: 15 * time.Second, Target: 0.8}
	r := Required(d)
	if r.Traffic != 12_000 || r.Agents <= 12_000 || r.Agents > 12_200 {
		t.Fatalf("got %+v", r)
	}
	for _, n := range []int{r.Agents - 1, r.Agents} {
		got, want := Evaluate(d, n), reference(d, n)
		if math.Abs(got.WaitProbability-want.WaitProbability) > 1e-9 || math.Abs(got.ServiceLevel-want.ServiceLevel) > 1e-9 {
			t.Errorf("N=%d: float64 %+v, 256-bit %+v", n, got, want)
		}
	}
	if Evaluate(d, r.Agents-1).ServiceLevel >= 0.8 {
		t.Errorf("%d agents already reach the target", r.Agents-1)
	}
	t.Logf("A=%.0f: %d agents, service level %.4f, P(wait) %.4f, ASA %.2f s", r.Traffic, r.Agents, r.ServiceLevel, r.WaitProbability, r.ASASeconds)
}

// reference evaluates n agents with the Erlang B recursion in 256-bit
// floating point.
func reference(d Demand, n int) Result {
	const prec = 256
	a := new(big.Float).SetPrec(prec).SetFloat64(d.Traffic())
	b := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := 1; k <= n; k++ {
		x := new(big.Float).SetPrec(prec).Mul(a, b)
		den := new(big.Float).SetPrec(prec).Add(x, new(big.Float).SetInt64(int64(k)))
		b.Quo(x, den)
	}
	nf := new(big.Float).SetPrec(prec).SetInt64(int64(n))
	oneMinusB := new(big.Float).SetPrec(prec).Sub(new(big.Float).SetInt64(1), b)
	den := new(big.Float).SetPrec(prec).Sub(nf, new(big.Float).SetPrec(prec).Mul(a, oneMinusB))
	c, _ := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).Mul(nf, b), den).Float64()
	af, _ := a.Float64()
	return Result{Agents: n, WaitProbability: c,
		ServiceLevel: 1 - c*math.Exp(-(float64(n)-af)*d.Threshold.Seconds()/d.AHT.Seconds())}
}

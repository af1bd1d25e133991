package indicator_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Hot spots worked by hand (baseline 7 days, min_count 10, z 3, UTC, data
// from day 0, so days 7 on are judged):
//   - A: 9 a day, then 18 on day 7: μ 9, √9 = 3, 18 > 9 + 9 is false (just
//     missed); day 8: 20 against μ = (6×9 + 18)/7 = 10.2857, √μ = 3.2071,
//     threshold 19.907: hot (just met), score 3.0290.
//   - B: no history, 10 on day 7: μ 0, √max(0, 1) = 1: hot, score 10.
//   - C: no history, 9 on day 7: below min_count.
//   - D: 50 on day 3: before its baseline is covered, not judged.
//   - with day_type, A's day 8 (a rest day here) is compared with the rest
//     days of its baseline only: days 1 (9) and 7 (18) are rest days,
//     μ 13.5, √μ 3.674, threshold 24.52: not hot.
func TestHotspotsByHand(t *testing.T) {
	day := func(i int) int64 { return time.Date(2026, 9, 1+i, 0, 0, 0, 0, time.UTC).UnixMilli() }
	var counts []indicator.DayCount
	for i := range 7 {
		counts = append(counts, indicator.DayCount{Day: day(i), Group: "A", Count: 9})
	}
	counts = append(counts, indicator.DayCount{Day: day(7), Group: "A", Count: 18}, indicator.DayCount{Day: day(8), Group: "A", Count: 20},
		indicator.DayCount{Day: day(7), Group: "B", Count: 10}, indicator.DayCount{Day: day(7), Group: "C", Count: 9},
		indicator.DayCount{Day: day(3), Group: "D", Count: 50})
	h := profile.Hotspot{BaselineDays: 7, MinCount: 10, Z: 3, Level: 2, BaselineBy: profile.BaselineAllDays}
	rest := func(d int64) bool { return d != day(1) && d != day(7) && d != day(8) } // workday
	got := indicator.Hotspots(h, time.UTC, rest, day(0), counts, day(0), day(30))
	want := []indicator.Hotspot{{Day: day(8), Group: "A", Count: 20, Mean: 72.0 / 7, Score: 3.0290}, {Day: day(7), Group: "B", Count: 10, Mean: 0, Score: 10}}
	if len(got) != len(want) {
		t.Fatalf("hot spots %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Day != w.Day || g.Group != w.Group || g.Count != w.Count || math.Abs(g.Mean-w.Mean) > 1e-9 || math.Abs(g.Score-w.Score) > 5e-5 {
			t.Errorf("%d: %+v, want %+v", i, g, w)
		}
	}
	if got := indicator.Hotspots(h, time.UTC, rest, day(0), counts, day(8), day(9)); len(got) != 1 || got[0].Group != "A" {
		t.Errorf("day 8 only: %+v", got)
	}
	h.BaselineBy = profile.BaselineDayType
	if got := indicator.Hotspots(h, time.UTC, rest, day(0), counts, day(8), day(9)); len(got) != 0 {
		t.Errorf("day_type: %+v, want none (μ 13.5 of the rest days)", got)
	}
}

// BenchmarkRepeats is the query-time look-back of a large centre's month:
// 60,000 calls a day for the month and the 7 days before (2.2 M contacts),
// a sixth of them from a caller of the days before.
func BenchmarkRepeats(b *testing.B) {
	p := profile.Default()
	cal, _ := p.NewCalendar()
	ps := indicator.Single(p, cal)
	const perDay, days = 60_000, 37
	start := time.Date(2026, 9, 24, 0, 0, 0, 0, time.UTC).UnixMilli()
	cs := make([]indicator.Contact, 0, perDay*days)
	dims := []string{"c1", "general", "voice", "", ""}
	next := 0
	for i := range perDay * days {
		caller := next
		if i%6 == 0 && next > 1000 {
			caller = next - 1 - (i*7919)%min(next-1, 300_000) // someone who called before
		} else {
			next++
		}
		cs = append(cs, indicator.Contact{Center: "c1", Caller: fmt.Sprintf("%064x", caller), TS: start + int64(i)*(86_400_000/perDay), Dims: dims})
	}
	b.ResetTimer()
	var repeats int
	for range b.N {
		r, _ := indicator.Repeats(ps, cs)
		repeats = 0
		for _, x := range r {
			if x {
				repeats++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(cs)), "ns/contact")
	b.ReportMetric(float64(repeats)/float64(len(cs)), "repeat-share")
}

package report

import (
	"math"
	"sort"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Grade returns the grade of a score: 优秀 ≥ 90, 良好 80–89.99, 合格 60–79.99,
// 不合格 < 60.
func Grade(score float64) string {
	switch {
	case score >= 90:
		return "优秀"
	case score >= 80:
		return "良好"
	case score >= 60:
		return "合格"
	}
	return "不合格"
}

// scoreItem applies one scoring rule to a department's value.
//
//   - linear_below_target: full points at or better than the target, minus
//     step points per percentage point worse, not below floor;
//   - threshold: full points if the target is met, else 0;
//   - penalty_per_count: penalty points per counted event, deducted from the
//     total, at most the item's points.
//
// An item whose indicator has no data for the department scores full
// points (nothing to hold against it) and is marked as such.
func scoreItem(it profile.ScoreItem, value *float64, target *profile.Target) ItemScore {
	ind, _ := indicator.Lookup(it.Indicator)
	s := ItemScore{Indicator: it.Indicator, Name: ind.Name, Rule: it.Rule, Value: value, Target: target, Max: it.Points}
	if it.Rule == profile.PenaltyPerCount {
		if value != nil {
			s.Points = math.Min(it.Points, it.Penalty*(*value))
		}
		return s
	}
	if value == nil || target == nil {
		s.Points, s.NoData = it.Points, true
		return s
	}
	if it.Rule == profile.Threshold {
		if target.Met(*value) {
			s.Points = it.Points
		}
		return s
	}
	shortfall := (target.Value - *value) * 100 // percentage points worse than the target
	if target.Op == "<=" {
		shortfall = -shortfall
	}
	s.Points = it.Points
	if shortfall > 0 {
		s.Points = math.Max(it.Floor, it.Points-it.Step*shortfall)
	}
	s.Points = Round2(s.Points)
	return s
}

// score totals a department's items: earned points minus penalties, not
// below zero.
func score(items []ItemScore) float64 {
	var total float64
	for _, it := range items {
		if it.Rule == profile.PenaltyPerCount {
			total -= it.Points
		} else {
			total += it.Points
		}
	}
	return Round2(math.Max(0, total))
}

// Round2 rounds to the cent, half away from zero, as scores are shown.
func Round2(v float64) float64 { return math.Round(v*100) / 100 }

// rank orders departments by score, best first (ties by department id) and
// gives equal scores the same rank (1, 2, 2, 4).
func rank(ds []DeptScore) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Score != ds[j].Score {
			return ds[i].Score > ds[j].Score
		}
		return ds[i].Department < ds[j].Department
	})
	for i := range ds {
		ds[i].Rank = i + 1
		if i > 0 && ds[i].Score == ds[i-1].Score {
			ds[i].Rank = ds[i-1].Rank
		}
	}
}

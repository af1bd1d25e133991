package event

import (
	"fmt"
	"strconv"
	"strings"
)

// LimitUnit is the unit of a time limit.
type LimitUnit uint8

// Units of a time limit: working days, clock hours, clock minutes.
const (
	UnitNone LimitUnit = iota
	UnitWorkdays
	UnitHours
	UnitMinutes
)

var unitNames = []string{"", "wd", "h", "m"}

// String returns the suffix of u ("wd", "h" or "m").
func (u LimitUnit) String() string { return name(unitNames, uint8(u)) }

// Limit is a time limit such as 5 working days ("5wd"), 24 hours ("24h") or
// 30 minutes ("30m"). The zero Limit means no limit was given.
type Limit struct {
	Amount int
	Unit   LimitUnit
}

// IsZero reports whether l is the absent limit.
func (l Limit) IsZero() bool { return l.Unit == UnitNone }

// String returns l in its wire form, for example "5wd", or "" when zero.
func (l Limit) String() string {
	if l.IsZero() {
		return ""
	}
	return strconv.Itoa(l.Amount) + l.Unit.String()
}

// maxLimitAmount bounds a limit to about three years in any unit, far beyond
// any service rule, so that arithmetic on it cannot overflow.
const maxLimitAmount = 1_000_000

// ParseLimit parses "<positive integer><unit>" with unit wd, h or m.
func ParseLimit(s string) (Limit, error) {
	var unit LimitUnit
	var digits string
	switch {
	case strings.HasSuffix(s, "wd"):
		unit, digits = UnitWorkdays, s[:len(s)-2]
	case strings.HasSuffix(s, "h"):
		unit, digits = UnitHours, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		unit, digits = UnitMinutes, s[:len(s)-1]
	default:
		return Limit{}, fmt.Errorf("time limit %q: want <number>wd, <number>h or <number>m", s)
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 || n > maxLimitAmount || digits[0] == '+' {
		return Limit{}, fmt.Errorf("time limit %q: amount must be a whole number from 1 to %d", s, maxLimitAmount)
	}
	return Limit{Amount: n, Unit: unit}, nil
}

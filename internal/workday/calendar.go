// Package workday is the working-day calendar of a hotline centre and the
// deadline arithmetic of the Civil Code (民法典 arts. 201, 203): statutory
// holidays and make-up working days from github.com/6tail/lunar-go, which a
// centre can override or extend.
package workday

import (
	"fmt"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Day is a civil date in the calendar's time zone, counted in days since
// 1970-01-01.
type Day int

const msPerDay = 24 * 60 * 60 * 1000

// Date returns the civil date of d.
func (d Day) Date() (int, time.Month, int) {
	return time.UnixMilli(int64(d) * msPerDay).UTC().Date()
}

// String returns d as YYYY-MM-DD.
func (d Day) String() string {
	y, m, dd := d.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
}

// DayOf returns the Day of a civil date.
func DayOf(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDay parses YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DayOf(t.Date()), nil
}

// Calendar tells working days from days off in one time zone. It is safe
// for concurrent use.
type Calendar struct {
	loc       *time.Location
	overrides map[Day]bool // true: working day, false: day off

	mu    sync.RWMutex
	cache map[Day]bool
}

// New returns a calendar for loc. overrides fixes single days: true makes a
// day a working day, false a day off, whatever the statutory calendar says.
func New(loc *time.Location, overrides map[Day]bool) *Calendar {
	o := make(map[Day]bool, len(overrides))
	for d, w := range overrides {
		o[d] = w
	}
	return &Calendar{loc: loc, overrides: o, cache: map[Day]bool{}}
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether d is a working day: an override if there is
// one; else a make-up working day (调休上班) or a statutory holiday as the
// maintained calendar says; else Monday to Friday.
func (c *Calendar) IsWorkday(d Day) bool {
	c.mu.RLock()
	w, ok := c.cache[d]
	c.mu.RUnlock()
	if ok {
		return w
	}
	w = c.lookup(d)
	c.mu.Lock()
	c.cache[d] = w
	c.mu.Unlock()
	return w
}

func (c *Calendar) lookup(d Day) bool {
	if w, ok := c.overrides[d]; ok {
		return w
	}
	y, m, dd := d.Date()
	if h := HolidayUtil.GetHolidayByYmd(y, int(m), dd); h != nil {
		return h.IsWork()
	}
	wd := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// DayAt returns the civil day of the instant ms (Unix milliseconds).
func (c *Calendar) DayAt(ms int64) Day {
	return DayOf(time.UnixMilli(ms).In(c.loc).Date())
}

// Start returns the instant 00:00:00.000 of d.
func (c *Calendar) Start(d Day) int64 {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, c.loc).UnixMilli()
}

// End returns the instant 23:59:59.999 of d, which stands for 24:00.
func (c *Calendar) End(d Day) int64 { return c.Start(d+1) - 1 }

// NthWorkdayAfter returns the n-th working day after d (d itself not
// counted); n ≥ 1.
func (c *Calendar) NthWorkdayAfter(d Day, n int) Day {
	for n > 0 {
		d++
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// AddWorkdays returns the deadline of an n-working-day limit started at
// instant ms: the start day is not counted, and the limit ends at 24:00
// (23:59:59.999) of the n-th working day after it.
func (c *Calendar) AddWorkdays(ms int64, n int) int64 {
	return c.End(c.NthWorkdayAfter(c.DayAt(ms), n))
}

// WorkdaysBetween counts the working days d with from < d ≤ to.
func (c *Calendar) WorkdaysBetween(from, to Day) int {
	n := 0
	for d := from + 1; d <= to; d++ {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// WorkingMillis returns how much of [a, b) falls on working days, in
// milliseconds; 0 when b ≤ a.
func (c *Calendar) WorkingMillis(a, b int64) int64 {
	if b <= a {
		return 0
	}
	var total int64
	for d := c.DayAt(a); ; d++ {
		s, e := c.Start(d), c.Start(d+1)
		if s >= b {
			break
		}
		if c.IsWorkday(d) {
			total += min(e, b) - max(s, a)
		}
	}
	return total
}

// AddWorkingMillis returns the instant at which ms milliseconds of working
// time have passed after start: the inverse of WorkingMillis.
func (c *Calendar) AddWorkingMillis(start, ms int64) int64 {
	t := start
	for d := c.DayAt(start); ms > 0; d++ {
		s, e := c.Start(d), c.Start(d+1)
		if t < s {
			t = s
		}
		if !c.IsWorkday(d) {
			continue
		}
		left := e - t
		if ms <= left {
			return t + ms
		}
		ms -= left
		t = e
	}
	return t
}

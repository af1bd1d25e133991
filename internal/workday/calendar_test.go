package workday_test

import (
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/workday"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func at(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func day(s string) workday.Day {
	d, err := workday.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestIsWorkday(t *testing.T) {
	cal := workday.New(shanghai, nil)
	cases := map[string]bool{
		"2026-09-25": false, // 中秋节 (Fri)
		"2026-09-27": false, // 中秋节 (Sun)
		"2026-09-28": true,  // Mon
		"2026-09-30": true,  // Wed, eve of National Day
		"2026-10-01": false, // 国庆节
		"2026-10-07": false, // 国庆节 (Wed)
		"2026-10-08": true,  // Thu
		"2026-10-10": true,  // Sat, make-up working day (调休)
		"2026-10-11": false, // Sun
		"2026-02-14": true,  // Sat, make-up working day before 春节
		"2026-02-17": false, // 春节
		"2026-11-28": false, // ordinary Saturday
		"2026-11-30": true,  // ordinary Monday
		"2027-01-01": false, // 元旦 2027
		"2027-10-01": false, // 国庆节 2027
	}
	for d, want := range cases {
		if got := cal.IsWorkday(day(d)); got != want {
			t.Errorf("IsWorkday(%s) = %v, want %v", d, got, want)
		}
	}
}

func TestOverrides(t *testing.T) {
	cal := workday.New(shanghai, map[workday.Day]bool{day("2026-11-30"): false, day("2026-11-28"): true})
	if cal.IsWorkday(day("2026-11-30")) || !cal.IsWorkday(day("2026-11-28")) {
		t.Error("overrides not applied")
	}
}

func TestAddWorkdays(t *testing.T) {
	cal := workday.New(shanghai, nil)
	cases := []struct {
		start string
		n     int
		want  string
	}{
		// The specification's example: 10-08, 10-09, 10-10 (make-up), 10-12, 10-13.
		{"2026-09-30T10:00:00+08:00", 5, "2026-10-13T23:59:59.999+08:00"},
		// Across 中秋节 (09-25..27): start Thu 09-24, next working days 09-28, 09-29.
		{"2026-09-24T16:00:00+08:00", 2, "2026-09-29T23:59:59.999+08:00"},
		// Started on a holiday: counting begins the next day anyway.
		{"2026-10-03T09:00:00+08:00", 1, "2026-10-08T23:59:59.999+08:00"},
		// A make-up Saturday counts: Fri 10-09 + 1wd = Sat 10-10.
		{"2026-10-09T23:00:00+08:00", 1, "2026-10-10T23:59:59.999+08:00"},
		// An ordinary weekend does not: Fri 11-27 + 1wd = Mon 11-30.
		{"2026-11-27T08:00:00+08:00", 1, "2026-11-30T23:59:59.999+08:00"},
		// A UTC instant late in the day is already the next local day.
		{"2026-11-26T17:00:00Z", 1, "2026-11-30T23:59:59.999+08:00"},
	}
	for _, c := range cases {
		if got := cal.AddWorkdays(at(c.start), c.n); got != at(c.want) {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", c.start, c.n, time.UnixMilli(got).In(shanghai).Format(time.RFC3339Nano), c.want)
		}
	}
}

func TestWorkdaysBetweenAndWorkingMillis(t *testing.T) {
	cal := workday.New(shanghai, nil)
	// Suspended 09-30, resumed 10-09: working days d with 09-30 < d ≤ 10-09 are 10-08 and 10-09.
	if n := cal.WorkdaysBetween(day("2026-09-30"), day("2026-10-09")); n != 2 {
		t.Errorf("WorkdaysBetween = %d, want 2", n)
	}
	// Fri 10-09 12:00 → Mon 10-12 12:00 covers 12h Fri + 24h Sat (make-up) + 0 Sun + 12h Mon = 48h.
	if ms := cal.WorkingMillis(at("2026-10-09T12:00:00+08:00"), at("2026-10-12T12:00:00+08:00")); ms != 48*3600*1000 {
		t.Errorf("WorkingMillis = %dh, want 48h", ms/3600000)
	}
	if ms := cal.WorkingMillis(at("2026-10-02T00:00:00+08:00"), at("2026-10-04T00:00:00+08:00")); ms != 0 {
		t.Errorf("WorkingMillis over a holiday = %d", ms)
	}
}

func TestAddWorkingMillisInvertsWorkingMillis(t *testing.T) {
	cal := workday.New(shanghai, nil)
	start := at("2026-09-30T10:00:00+08:00")
	for _, h := range []int64{1, 14, 15, 38, 100, 128} {
		end := cal.AddWorkingMillis(start, h*3600_000)
		if got := cal.WorkingMillis(start, end); got != h*3600_000 {
			t.Errorf("%dh: WorkingMillis(start, AddWorkingMillis) = %dh", h, got/3600_000)
		}
	}
	// 14h finish the working day 09-30; one more hour skips the holiday to 10-08 01:00.
	if got := cal.AddWorkingMillis(start, 15*3600_000); got != at("2026-10-08T01:00:00+08:00") {
		t.Errorf("AddWorkingMillis 15h = %s", time.UnixMilli(got).In(shanghai))
	}
}

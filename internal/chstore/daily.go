package chstore

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// Table names of the daily aggregates (see Settler).
const (
	// ContribDaysTable holds each call's and ticket's contributions by day:
	// one row per entity and day, the latest version winning, empty when
	// the entity no longer contributes to that day.
	ContribDaysTable = "contrib_days"
	// DailyTable holds the sums of those contributions: one row per centre
	// and day, recomputed whole from contrib_days (see Settler).
	DailyTable = "daily_indicators"
)

// contribDaysTable renders contrib_days: ordered by centre and day, so that
// a day's contributions are read without reading any other day.
func (d ddl) contribDaysTable() []string {
	return d.create(table{name: ContribDaysTable, engine: "ReplacingMergeTree", params: "version", cols: []string{
		"center_id " + d.dim(), "day Date", "ticket UInt8", "id String", "version UInt64",
		"written_at DateTime DEFAULT now()",
		"c_ind Array(String)", "c_department Array(String)", "c_num Array(Int64)", "c_den Array(Int64)",
	}, suffix: "PARTITION BY toYYYYMM(day)\nORDER BY (center_id, day, ticket, id)", shardBy: "cityHash64(id)"})
}

// dailyTable renders daily_indicators: per centre and day, the sums by
// indicator and department (empty for calls), and the server time the sums
// were read at as version.
func (d ddl) dailyTable() []string {
	return d.create(table{name: DailyTable, engine: "ReplacingMergeTree", params: "version", cols: []string{
		"center_id " + d.dim(), "day Date", "version UInt64", "computed_at DateTime",
		"ind Array(String)", "department Array(String)", "num Array(Int64)", "den Array(Int64)",
	}, suffix: "PARTITION BY toYYYYMM(day)\nORDER BY (center_id, day)", shardBy: "cityHash64(center_id)"})
}

const contribDaysColumns = "center_id, day, ticket, id, version, c_ind, c_department, c_num, c_den"

// dayCols are the columns of contrib_days, kept between inserts.
type dayCols struct {
	center, id []string
	day        []time.Time
	ticket     []uint8
	version    []uint64
	ind, dept  arrays[string]
	num, den   arrays[int64]

	days     days
	cur, old []dayCell // scratch: one state's cells now and before
}

// dayCell is one indicator and department's sum within an entity's day
// (key: the day's start, Unix ms, for comparing days cheaply).
type dayCell struct {
	key       int64
	day       time.Time
	ind, dept string
	num, den  int64
}

func cmpCell(x, y dayCell) int {
	if x.key != y.key {
		return cmp.Compare(x.key, y.key)
	}
	if c := strings.Compare(x.ind, y.ind); c != 0 {
		return c
	}
	return strings.Compare(x.dept, y.dept)
}

func sameCell(x, y dayCell) bool { return cmpCell(x, y) == 0 && x.num == y.num && x.den == y.den }

// fill turns states into day rows: per state, a row for each day whose
// contributions differ from those of its previous state (summed by
// indicator and department), empty for a day it no longer contributes
// to. A state restored from stored events (its previous state unknown)
// writes every day it contributes to, and clears every other day of the
// span its stored state may have reached.
func (b *dayCols) fill(rows []stored.StateRow) []any {
	b.center, b.id, b.day = reuse(b.center), reuse(b.id), reuse(b.day)
	b.ticket, b.version = reuse(b.ticket), reuse(b.version)
	for _, a := range []*arrays[string]{&b.ind, &b.dept} {
		a.reset()
	}
	b.num.reset()
	b.den.reset()
	for i := range rows {
		r := &rows[i]
		if !r.Restored && sameContribs(r.Contribs, r.Prior, r.Ticket) {
			continue // every day's sums as before: no row
		}
		b.cur = b.cells(b.cur[:0], r.Contribs, r.Ticket)
		b.old = b.cells(b.old[:0], r.Prior, r.Ticket)
		cur, old := b.cur, b.old
		for len(cur) > 0 || len(old) > 0 {
			day := nextDay(cur, old)
			nc, no := dayLen(cur, day), dayLen(old, day)
			if r.Restored || !slices.EqualFunc(cur[:nc], old[:no], sameCell) {
				b.row(r, day.day, cur[:nc])
			}
			cur, old = cur[nc:], old[no:]
		}
		if r.Restored {
			last := b.days.of(r.RestoredSpan[1])
			for d := b.days.of(r.RestoredSpan[0]); !d.After(last); d = d.AddDate(0, 0, 1) {
				if !slices.ContainsFunc(b.cur, func(c dayCell) bool { return c.day.Equal(d) }) {
					b.row(r, d, nil)
				}
			}
		}
	}
	return []any{b.center, b.day, b.ticket, b.id, b.version, &b.ind, &b.dept, &b.num, &b.den}
}

// sameContribs reports whether two lists of contributions, in the same
// order, are equal in all that makes a day's cells (bucket, indicator,
// department, sums): then no day's row changes. A list in another order
// compares unequal and takes the full comparison by day.
func sameContribs(a, b []indicator.Contribution, ticket bool) bool {
	return slices.EqualFunc(a, b, func(x, y indicator.Contribution) bool {
		return x.Bucket == y.Bucket && x.Num == y.Num && x.Den == y.Den && x.Indicator == y.Indicator &&
			(!ticket || dept(x) == dept(y))
	})
}

// dept is a ticket contribution's department (its tuple: center,
// department, ...).
func dept(c indicator.Contribution) string {
	if len(c.Dims) > 1 {
		return c.Dims[1]
	}
	return ""
}

// cells appends cs summed by day, indicator and department, sorted.
func (b *dayCols) cells(out []dayCell, cs []indicator.Contribution, ticket bool) []dayCell {
	start := len(out)
	for _, c := range cs {
		day := b.days.of(c.Bucket)
		x := dayCell{key: b.days.start, day: day, ind: c.Indicator, num: c.Num, den: c.Den}
		if ticket {
			x.dept = dept(c)
		}
		out = append(out, x)
	}
	slices.SortFunc(out[start:], cmpCell)
	// sum the cells of the same day, indicator and department
	w := start
	for i := start; i < len(out); i++ {
		if w > start && cmpCell(out[w-1], out[i]) == 0 {
			out[w-1].num, out[w-1].den = out[w-1].num+out[i].num, out[w-1].den+out[i].den
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// nextDay is a cell of the earliest day of two sorted cell lists, not
// both empty.
func nextDay(a, b []dayCell) dayCell {
	switch {
	case len(a) == 0:
		return b[0]
	case len(b) == 0 || a[0].key < b[0].key:
		return a[0]
	}
	return b[0]
}

// dayLen is how many cells at the start of cs are on day.
func dayLen(cs []dayCell, day dayCell) int {
	n := 0
	for n < len(cs) && cs[n].key == day.key {
		n++
	}
	return n
}

// row adds a row of r on day with cells.
func (b *dayCols) row(r *stored.StateRow, day time.Time, cells []dayCell) {
	for _, c := range cells {
		b.ind.flat, b.dept.flat = append(b.ind.flat, c.ind), append(b.dept.flat, c.dept)
		b.num.flat, b.den.flat = append(b.num.flat, c.num), append(b.den.flat, c.den)
	}
	b.center, b.id, b.day = append(b.center, r.CenterID), append(b.id, r.ID), append(b.day, day)
	b.ticket, b.version = append(b.ticket, b2u(r.Ticket)), append(b.version, r.Version)
	b.ind.endRow()
	b.dept.endRow()
	b.num.endRow()
	b.den.endRow()
}

// days maps instants to their civil day in a time zone, as UTC midnight
// (the driver writes a Date from the time's own zone), remembering the
// last day seen: most instants of a batch fall on a few days.
type days struct {
	loc        *time.Location
	start, end int64 // the last day seen, [start, end) in Unix ms
	day        time.Time
}

func (d *days) of(ms int64) time.Time {
	if ms >= d.start && ms < d.end {
		return d.day
	}
	t := time.UnixMilli(ms).In(d.loc)
	y, m, dd := t.Date()
	local := time.Date(y, m, dd, 0, 0, 0, 0, d.loc)
	d.start, d.end = local.UnixMilli(), local.AddDate(0, 0, 1).UnixMilli()
	d.day = time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	return d.day
}

// backfillDays fills contrib_days from the states stored before it
// existed (nothing on a new database): the rows the writer makes, with the
// states' versions, so that running it again changes nothing.
func (d ddl) backfillDays() []string {
	one := func(state, idCol string, ticket int, dept string) string {
		return fmt.Sprintf(`INSERT INTO %s.%s (%s)
SELECT center_id, day, %d, id, version, groupArray(ind), groupArray(dept), groupArray(n_), groupArray(d_)
FROM (
  SELECT center_id, %s AS id, version, toDate(bucket) AS day, ind, %s, sum(num) AS n_, sum(den) AS d_
  FROM %s.%s FINAL
  ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den%s
  GROUP BY center_id, id, version, day, ind, dept
)
GROUP BY center_id, day, id, version`, d.db, ContribDaysTable, contribDaysColumns, ticket, idCol, dept, d.db, state, map[bool]string{true: ", c_department AS dept"}[ticket == 1])
	}
	return []string{one(CallStateTable, "call_id", 0, "'' AS dept"), one(TicketStateTable, "ticket_id", 1, "dept")}
}

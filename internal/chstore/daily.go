package chstore

import (
	"fmt"
	"slices"
	"time"
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

	days   days
	cells  []dayCell
	onDays []time.Time // scratch: the days of one state's contributions
}

// dayCell is one indicator and department's sum within an entity's day.
type dayCell struct {
	day       time.Time
	ind, dept string
	num, den  int64
}

// fill turns states into day rows: per state, one row per day it
// contributes to (its contributions there summed by indicator and
// department) and an empty row for each day its previous state
// contributed to and it no longer does.
func (b *dayCols) fill(rows []StateRow) []any {
	b.center, b.id, b.day = reuse(b.center), reuse(b.id), reuse(b.day)
	b.ticket, b.version = reuse(b.ticket), reuse(b.version)
	for _, a := range []*arrays[string]{&b.ind, &b.dept} {
		a.reset()
	}
	b.num.reset()
	b.den.reset()
	for i := range rows {
		r := &rows[i]
		b.cells, b.onDays = b.cells[:0], b.onDays[:0]
		for _, c := range r.Contribs {
			day, dept := b.days.of(c.Bucket), ""
			if r.Ticket && len(c.Dims) > 1 {
				dept = c.Dims[1] // ticket tuple: center, department, ...
			}
			b.add(dayCell{day: day, ind: c.Indicator, dept: dept, num: c.Num, den: c.Den})
		}
		slices.SortFunc(b.cells, func(x, y dayCell) int { return x.day.Compare(y.day) })
		for j := 0; j < len(b.cells); {
			k := j
			for k < len(b.cells) && b.cells[k].day.Equal(b.cells[j].day) {
				b.ind.flat, b.dept.flat = append(b.ind.flat, b.cells[k].ind), append(b.dept.flat, b.cells[k].dept)
				b.num.flat, b.den.flat = append(b.num.flat, b.cells[k].num), append(b.den.flat, b.cells[k].den)
				k++
			}
			b.row(r, b.cells[j].day)
			b.onDays = append(b.onDays, b.cells[j].day)
			j = k
		}
		b.tombstones(r)
	}
	return []any{b.center, b.day, b.ticket, b.id, b.version, &b.ind, &b.dept, &b.num, &b.den}
}

// add sums c into the cell of its day, indicator and department.
func (b *dayCols) add(c dayCell) {
	for i := range b.cells {
		x := &b.cells[i]
		if x.day.Equal(c.day) && x.ind == c.ind && x.dept == c.dept {
			x.num, x.den = x.num+c.num, x.den+c.den
			return
		}
	}
	b.cells = append(b.cells, c)
}

// tombstones adds an empty row for every day the previous state of r
// contributed to (or, restored, may have) that r does not.
func (b *dayCols) tombstones(r *StateRow) {
	gone := func(day time.Time) {
		for _, d := range b.onDays {
			if d.Equal(day) {
				return
			}
		}
		b.onDays = append(b.onDays, day)
		b.row(r, day)
	}
	if !r.PriorSpan {
		for _, ms := range r.Prior {
			gone(b.days.of(ms))
		}
		return
	}
	if len(r.Prior) != 2 {
		return
	}
	last := b.days.of(r.Prior[1])
	for d := b.days.of(r.Prior[0]); !d.After(last); d = d.AddDate(0, 0, 1) {
		gone(d)
	}
}

// row closes a row of r on day with the elements added since the last.
func (b *dayCols) row(r *StateRow, day time.Time) {
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

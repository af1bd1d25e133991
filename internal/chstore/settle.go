package chstore

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Settler keeps daily_indicators equal to the sums of contrib_days, so
// that long-range panels read one row per centre and day instead of
// summing the contributions of every call and ticket.
//
// A pass recomputes, whole, every day whose contributions were written
// since its sums were read. Each sum row carries as version the server's
// time read before its contributions were: a recomputation that missed a
// write started before that write became visible, so it carries an older
// version than one made after, and the newest sums win (ReplacingMergeTree).
// A day is recomputed while any of its rows was written within the margin
// (the longest an insert takes to become visible) before its sums' version.
// Passes keep no state but where to look from: any number of instances may
// run them, a pass interrupted is simply run again, and a restarted
// instance's first pass looks at every day.
type Settler struct {
	r      *Reader
	margin time.Duration
	since  uint32 // written_at from which the next pass looks (0: every day)
	log    *slog.Logger
}

// SettleMargin bounds how long an insert into contrib_days takes to become
// visible after the server stamped its rows.
const SettleMargin = 30 * time.Second

// NewSettler returns a settler of database db.
func NewSettler(conn driver.Conn, db string, log *slog.Logger) *Settler {
	return &Settler{r: NewReader(conn, db), margin: SettleMargin, log: log}
}

// DayKey names one centre's day.
type DayKey struct {
	Center string
	Day    string // YYYY-MM-DD
}

// Settle runs one pass and returns the days it recomputed.
func (s *Settler) Settle(ctx context.Context) ([]DayKey, error) {
	var now time.Time
	if err := s.r.conn.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
		return nil, fmt.Errorf("settle: read the server time: %w", err)
	}
	version := uint64(now.Unix())
	written := map[DayKey]uint64{}
	q := fmt.Sprintf(`SELECT center_id, toString(day), toUInt64(max(written_at)) FROM %s.%s
WHERE written_at >= toDateTime(%d) GROUP BY center_id, day`, s.r.db, ContribDaysTable, s.since)
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var k DayKey
		var w uint64
		err := rows.Scan(&k.Center, &k.Day, &w)
		written[k] = w
		return err
	})
	if err != nil || len(written) == 0 {
		s.advance(version, err)
		return nil, err
	}
	keys := make([]DayKey, 0, len(written))
	for k := range written {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].Center < keys[j].Center || keys[i].Center == keys[j].Center && keys[i].Day < keys[j].Day
	})
	summed := map[DayKey]uint64{}
	q = fmt.Sprintf(`SELECT center_id, toString(day), max(version) FROM %s.%s
WHERE day >= toDate('%s') AND day <= toDate('%s') GROUP BY center_id, day`, s.r.db, DailyTable, minDay(keys), maxDay(keys))
	if err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var k DayKey
		var v uint64
		err := rows.Scan(&k.Center, &k.Day, &v)
		summed[k] = v
		return err
	}); err != nil {
		return nil, err
	}
	margin := uint64(s.margin / time.Second)
	var stale []DayKey
	for _, k := range keys {
		if v, ok := summed[k]; !ok || written[k]+margin >= v {
			stale = append(stale, k)
		}
	}
	const chunk = 64 // days per read
	for i := 0; i < len(stale); i += chunk {
		if err := s.recompute(ctx, stale[i:min(i+chunk, len(stale))], version, now); err != nil {
			return stale[:i], err
		}
	}
	s.advance(version, nil)
	return stale, nil
}

// advance moves where the next pass looks from: writes older than the
// margin before this pass's version were visible to it.
func (s *Settler) advance(version uint64, err error) {
	if err == nil {
		s.since = uint32(version - min(version, uint64(s.margin/time.Second)))
	}
}

func minDay(keys []DayKey) string {
	m := keys[0].Day
	for _, k := range keys {
		m = min(m, k.Day)
	}
	return m
}

func maxDay(keys []DayKey) string {
	m := keys[0].Day
	for _, k := range keys {
		m = max(m, k.Day)
	}
	return m
}

// dailyCols are the columns of daily_indicators.
const dailyColumns = "center_id, day, version, computed_at, ind, department, num, den"

// recompute reads the sums of days and stores them with version; a day
// without contributions left gets an empty row.
func (s *Settler) recompute(ctx context.Context, days []DayKey, version uint64, now time.Time) error {
	tuples := make([]string, len(days))
	for i, k := range days {
		tuples[i] = fmt.Sprintf("(%s, toDate('%s'))", quote(k.Center), k.Day)
	}
	type sums struct {
		ind, dept []string
		num, den  []int64
	}
	byDay := make(map[DayKey]*sums, len(days))
	for _, k := range days {
		byDay[k] = &sums{ind: []string{}, dept: []string{}, num: []int64{}, den: []int64{}}
	}
	q := fmt.Sprintf(`SELECT center_id, toString(day), ind, dept, sum(num), sum(den)
FROM %s.%s FINAL
ARRAY JOIN c_ind AS ind, c_department AS dept, c_num AS num, c_den AS den
WHERE (center_id, day) IN (%s)
GROUP BY center_id, day, ind, dept
ORDER BY center_id, day, ind, dept`, s.r.db, ContribDaysTable, strings.Join(tuples, ", "))
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var k DayKey
		var ind, dept string
		var num, den int64
		if err := rows.Scan(&k.Center, &k.Day, &ind, &dept, &num, &den); err != nil {
			return err
		}
		if x := byDay[k]; x != nil {
			x.ind, x.dept, x.num, x.den = append(x.ind, ind), append(x.dept, dept), append(x.num, num), append(x.den, den)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle: sum %d days: %w", len(days), err)
	}
	var centers []string
	var dates, stamps []time.Time
	var versions []uint64
	var ind, dept [][]string
	var num, den [][]int64
	for _, k := range days {
		d, err := time.Parse(time.DateOnly, k.Day)
		if err != nil {
			return fmt.Errorf("settle: day %q: %w", k.Day, err)
		}
		x := byDay[k]
		centers, dates, versions, stamps = append(centers, k.Center), append(dates, d), append(versions, version), append(stamps, now)
		ind, dept, num, den = append(ind, x.ind), append(dept, x.dept), append(num, x.num), append(den, x.den)
	}
	return insertColumns(ctx, s.r.conn, s.r.db, DailyTable, dailyColumns, centers, dates, versions, stamps, ind, dept, num, den)
}

// quote renders s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Run settles every interval until ctx ends; a failed pass is logged and
// tried again at the next.
func (s *Settler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		days, err := s.Settle(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("daily aggregates not settled; trying again", "err", err)
		case len(days) > 0:
			s.log.Debug("daily aggregates settled", "days", len(days), "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Command history measures the long-range ClickHouse panels on a quarter
// of a large centre: it stores a simulated working day of the large preset
// (about 57,000 calls and their tickets, evaluated by the product's engine)
// once for every day of the quarter, through the product's state writer,
// settles the daily aggregates, and times side by side, on the same rows,
// the sums read at query time from one row per call and ticket and the
// sums read from the daily aggregates, checking that they are equal, then
// every panel of the 月度考核 dashboard over the quarter.
//
//	bench/history.sh   (a private ClickHouse; see there)
package main

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/dashboards"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/stored"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19400", "ClickHouse native address")
	db := flag.String("database", "history", "database")
	days := flag.Int("days", 92, "days stored (a quarter: July to September)")
	runs := flag.Int("runs", 5, "runs of each query (the median is shown)")
	boards := flag.String("dashboards", "dashboards", "directory of the committed dashboards")
	flag.Parse()
	if err := run(*addr, *db, *days, *runs, *boards); err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(1)
	}
}

func run(addr, db string, days, runs int, boards string) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := chstore.DefaultConfig()
	cfg.Addr, cfg.Database = []string{addr}, db
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := chstore.Migrate(ctx, conn, cfg, log); err != nil {
		return err
	}
	p := profile.Default()
	loc := p.Location()
	start := time.Date(2026, 7, 1, 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, days)

	states, gauges, err := simulatedDay(ctx, p, start)
	if err != nil {
		return err
	}
	calls, tickets := 0, 0
	for _, s := range states {
		if s.Ticket {
			tickets++
		} else {
			calls++
		}
	}
	fmt.Printf("one simulated working day of the large centre: %d calls, %d tickets\n", calls, tickets)

	t0 := time.Now()
	w := chstore.NewStateWriter(conn, cfg)
	for d := range days {
		if err := w.WriteStates(ctx, shifted(states, d, 1)); err != nil {
			return err
		}
	}
	fmt.Printf("stored %d days: %d calls, %d tickets (states and contributions by day) in %.1f s\n",
		days, days*calls, days*tickets, time.Since(t0).Seconds())
	// The open tickets' counts, as the stream stores them every few
	// seconds: the latest of many per partition.
	const counts = 300
	for i := range counts {
		b := &stored.Backlog{Topic: "bench", AsOf: end.UnixMilli() + int64(i)*2000, Partitions: []int32{0, 1, 2, 3, 4, 5}}
		for _, g := range gauges {
			b.Rows = append(b.Rows, stored.BacklogRow{Partition: g.Partition, Center: g.CenterID, Department: g.Department,
				Open: g.Open, Overdue: g.Overdue, Due4h: g.Due4h, Due24h: g.Due24h, Awaiting: g.AwaitingDispatch})
		}
		if err := w.WriteBacklog(ctx, b); err != nil {
			return err
		}
	}

	settler := chstore.NewSettler(conn, db, log)
	t0 = time.Now()
	settled, err := settler.Settle(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("settle, first pass (every day): %d days in %.2f s\n", len(settled), time.Since(t0).Seconds())
	// A day written again, as the stream does all day: the next pass
	// recomputes the days written within the margin of their sums.
	if err := w.WriteStates(ctx, shifted(states, days-1, 2)); err != nil {
		return err
	}
	t0 = time.Now()
	if settled, err = settler.Settle(ctx); err != nil {
		return err
	}
	fmt.Printf("settle, a pass after one day rewritten: %d days in %.2f s\n", len(settled), time.Since(t0).Seconds())

	// The same sums, read at query time and from the daily aggregates.
	rng := fmt.Sprintf("toDateTime(%d) AND toDateTime(%d)", start.Unix(), end.Unix()-1)
	dayRng := fmt.Sprintf("toDate('%s') AND toDate('%s')", start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly))
	readTime := fmt.Sprintf(`SELECT dept, ind, sum(num), sum(den) FROM (
  SELECT '' AS dept, ind, num, den FROM %[1]s.call_state FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den
  WHERE center_id = 'c12345' AND bucket BETWEEN %[2]s
  UNION ALL
  SELECT dept, ind, num, den FROM %[1]s.ticket_state FINAL ARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_department AS dept, c_num AS num, c_den AS den
  WHERE center_id = 'c12345' AND bucket BETWEEN %[2]s
) GROUP BY dept, ind ORDER BY dept, ind`, db, rng)
	daily := fmt.Sprintf(`SELECT dept, ind, sum(num), sum(den)
FROM %s.daily_indicators FINAL ARRAY JOIN ind, department AS dept, num, den
WHERE center_id = 'c12345' AND day BETWEEN %s
GROUP BY dept, ind ORDER BY dept, ind`, db, dayRng)
	tRead, a, err := timed(ctx, conn, readTime, runs)
	if err != nil {
		return err
	}
	tDaily, b, err := timed(ctx, conn, daily, runs)
	if err != nil {
		return err
	}
	equal := reflect.DeepEqual(a, b)
	fmt.Printf("\nthe quarter's sums by department and indicator (%d cells), median of %d runs:\n", len(a), runs)
	fmt.Printf("  %-48s %8.3f s\n", "summed at query time (one row per call, ticket)", tRead.Seconds())
	fmt.Printf("  %-48s %8.3f s   (%.0f× faster)\n", "from the daily aggregates", tDaily.Seconds(), tRead.Seconds()/tDaily.Seconds())
	fmt.Printf("  equal to the count: %v\n", equal)
	if !equal {
		return fmt.Errorf("the daily aggregates differ from the states' sums:\n%v\n%v", a, b)
	}

	// Every panel of the evaluation dashboard over the quarter.
	all, err := dashboards.Load(boards)
	if err != nil {
		return err
	}
	qs, err := dashboards.Queries(all["hotlineqc-evaluation.json"])
	if err != nil {
		return err
	}
	fmt.Printf("\n月度考核 panels over the quarter (%s to %s), median of %d runs:\n", start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly), runs)
	worst := time.Duration(0)
	for _, q := range qs {
		if q.SQL == "" {
			continue
		}
		sql := dashboards.ExpandSQL(q.SQL, db, map[string][]string{"center": {"c12345"}}, start, end.Add(-time.Second))
		d, rows, err := timed(ctx, conn, sql, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Panel, err)
		}
		worst = max(worst, d)
		fmt.Printf("  %-40s %8.3f s  %d rows\n", q.Panel, d.Seconds(), len(rows))
	}
	fmt.Printf("slowest panel: %.3f s (target: under 1 s)\n", worst.Seconds())
	fmt.Printf("\nmachine: %d CPUs, %s/%s, ClickHouse at %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, addr)
	return nil
}

// simulatedDay evaluates one working day of the large preset over six
// partitions, every deadline passed, and returns the states the stream
// would store and the count of open tickets at the end of the day.
func simulatedDay(ctx context.Context, p *profile.Profile, start time.Time) ([]indicator.EntityState, []indicator.TicketGauge, error) {
	cal, err := p.NewCalendar()
	if err != nil {
		return nil, nil, err
	}
	s, err := sim.New(sim.Large(start, 24*time.Hour, 7), p, cal)
	if err != nil {
		return nil, nil, err
	}
	eng := indicator.New(indicator.Single(p, cal))
	eng.WithoutAggregates()
	eng.TrackChanges()
	var d event.Decoder
	if _, err := s.Run(ctx, func(e sim.Event) error {
		ev, err := d.Decode(e.JSON)
		if err != nil {
			return err
		}
		h := fnv.New32a()
		h.Write([]byte(e.Key))
		eng.ApplyRecord(&event.Record{Event: ev, Origin: event.Origin{Partition: int32(h.Sum32() % 6)}})
		return nil
	}, nil); err != nil {
		return nil, nil, err
	}
	dayEnd := start.AddDate(0, 0, 1).UnixMilli()
	eng.Advance(dayEnd)
	gauges := eng.TicketGauges(dayEnd)
	eng.Advance(start.AddDate(0, 2, 0).UnixMilli())
	return eng.Changes(), gauges, nil
}

// shifted copies states to day d of the quarter: ids made unique, every
// instant d days later, versions from n.
func shifted(states []indicator.EntityState, d int, n uint64) []stored.StateRow {
	ms := int64(d) * 24 * 3600 * 1000
	at := func(ts int64) int64 {
		if ts == 0 {
			return 0
		}
		return ts + ms
	}
	rows := make([]stored.StateRow, len(states))
	for i, s := range states {
		s.ID = fmt.Sprintf("%s-d%02d", s.ID, d)
		s.Contribs = slices.Clone(s.Contribs)
		for j := range s.Contribs {
			s.Contribs[j].Bucket += ms
		}
		s.Prior = nil
		s.LastTS, s.Wake = at(s.LastTS), at(s.Wake)
		s.Call.OfferTS = at(s.Call.OfferTS)
		t := &s.Tick
		t.CreatedTS, t.FirstDispatchTS, t.DueTS, t.ReplyTS, t.CloseTS = at(t.CreatedTS), at(t.FirstDispatchTS), at(t.DueTS), at(t.ReplyTS), at(t.CloseTS)
		rows[i] = stored.StateRow{EntityState: s, Version: n, AsOf: at(s.LastTS), Topic: "bench", Partition: int32(i % 6)}
	}
	return rows
}

// timed runs q runs times and returns the median time and the rows of the
// last run, as strings.
func timed(ctx context.Context, conn driver.Conn, q string, runs int) (time.Duration, [][]string, error) {
	var times []time.Duration
	var out [][]string
	for range max(runs, 1) {
		out = out[:0]
		t0 := time.Now()
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return 0, nil, fmt.Errorf("%w\n%s", err, q)
		}
		cols := rows.ColumnTypes()
		for rows.Next() {
			vals := make([]any, len(cols))
			for i, c := range cols {
				vals[i] = reflect.New(c.ScanType()).Interface()
			}
			if err := rows.Scan(vals...); err != nil {
				rows.Close()
				return 0, nil, err
			}
			row := make([]string, len(vals))
			for i, v := range vals {
				row[i] = fmt.Sprint(reflect.ValueOf(v).Elem().Interface())
			}
			out = append(out, row)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, nil, err
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return times[len(times)/2], out, nil
}

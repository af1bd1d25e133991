package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/ledger"
)

// Table names of the tamper evidence (internal/ledger).
const (
	DigestTable = "event_digests"
	MarkTable   = "late_arrivals"
	IntentTable = "seal_intents"
)

// digestTable is the append-only log of day digests: a plain MergeTree,
// so that every record ever appended stays, duplicates included.
func (d ddl) digestTable() []string {
	return d.create(table{name: DigestTable, engine: "MergeTree", cols: []string{
		"center_id " + d.dim(), "day Date", "seq UInt32", "version UInt32",
		"events Int64", "added Int64", "covered Array(String)", "pending Array(String)",
		"digest String", "prev String", "chain String", "sealed_at DateTime",
	}, suffix: "ORDER BY (center_id, seq)", shardBy: "cityHash64(center_id)"})
}

// intentTable announces the days about to be sealed; the server stamps
// them.
func (d ddl) intentTable() []string {
	return d.create(table{name: IntentTable, engine: "MergeTree", cols: []string{
		"center_id " + d.dim(), "day Date", "at DateTime DEFAULT now()",
	}, suffix: "ORDER BY (center_id, day)", shardBy: "cityHash64(center_id)"})
}

// markTable holds the marks of late arrivals; the server stamps them.
func (d ddl) markTable() []string {
	return d.create(table{name: MarkTable, engine: "MergeTree", cols: []string{
		"center_id " + d.dim(), "day Date", "event_id String", "hash String", "prior String",
		"marked_at DateTime DEFAULT now()",
	}, suffix: "ORDER BY (center_id, day, event_id)", shardBy: "cityHash64(center_id)"})
}

// LedgerStore is the ledger's store in ClickHouse.
type LedgerStore struct {
	r *Reader
}

// NewLedgerStore returns the ledger's store in database db.
func NewLedgerStore(conn driver.Conn, db string) *LedgerStore {
	return &LedgerStore{r: NewReader(conn, db)}
}

var _ ledger.Store = (*LedgerStore)(nil)

// Now returns the server's time.
func (s *LedgerStore) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := s.r.conn.QueryRow(ctx, "SELECT now()").Scan(&t); err != nil {
		return t, fmt.Errorf("server time: %w", err)
	}
	return t, nil
}

// Records returns the log, in centre and seq order.
func (s *LedgerStore) Records(ctx context.Context, center string) ([]ledger.Record, error) {
	q := fmt.Sprintf(`SELECT center_id, toString(day), seq, version, events, added, covered, pending, digest, prev, chain, sealed_at
FROM %s.%s WHERE (? = '' OR center_id = ?) ORDER BY center_id, seq`, s.r.db, DigestTable)
	var out []ledger.Record
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var r ledger.Record
		var digest, prev, chain string
		if err := rows.Scan(&r.Center, &r.Day, &r.Seq, &r.Version, &r.Events, &r.Added, &r.Covered, &r.Pending,
			&digest, &prev, &chain, &r.SealedAt); err != nil {
			return err
		}
		r.Digest, r.Prev, r.Chain = parseHash(digest), parseHash(prev), parseHash(chain)
		out = append(out, r)
		return nil
	}, center, center)
	return out, err
}

// parseHash reads a stored hash; a damaged one reads as another hash, which
// the chain check then reports.
func parseHash(s string) ledger.Hash {
	h, ok := ledger.ParseHash(s)
	if !ok && s != "" {
		h[0] = 0xff // not the zero hash: a damaged value must not pass as "none"
	}
	return h
}

func hashString(h ledger.Hash) string {
	if h == (ledger.Hash{}) {
		return ""
	}
	return h.String()
}

// Append stores records.
func (s *LedgerStore) Append(ctx context.Context, recs []ledger.Record) error {
	n := len(recs)
	center, day := make([]string, n), make([]time.Time, n)
	seq, version := make([]uint32, n), make([]uint32, n)
	events, added := make([]int64, n), make([]int64, n)
	covered, pending := make([][]string, n), make([][]string, n)
	digest, prev, chain := make([]string, n), make([]string, n), make([]string, n)
	sealed := make([]time.Time, n)
	for i, r := range recs {
		d, err := time.Parse("2006-01-02", r.Day)
		if err != nil {
			return fmt.Errorf("record day %q: %w", r.Day, err)
		}
		center[i], day[i], seq[i], version[i] = r.Center, d, r.Seq, r.Version
		events[i], added[i] = r.Events, r.Added
		covered[i], pending[i] = nonNil(r.Covered), nonNil(r.Pending)
		digest[i], prev[i], chain[i], sealed[i] = hashString(r.Digest), hashString(r.Prev), hashString(r.Chain), r.SealedAt
	}
	return insertColumns(ctx, s.r.conn, s.r.db, DigestTable,
		"center_id, day, seq, version, events, added, covered, pending, digest, prev, chain, sealed_at",
		center, day, seq, version, events, added, covered, pending, digest, prev, chain, sealed)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Days returns the centre-days with stored events that f selects, in zone
// loc, with the last time one was stored.
func (s *LedgerStore) Days(ctx context.Context, f ledger.DayFilter, loc *time.Location) ([]ledger.DayCount, error) {
	days := map[[2]string]*ledger.DayCount{}
	since := f.Since.Truncate(time.Second)
	if since.Before(time.Unix(0, 0)) {
		since = time.Unix(0, 0)
	}
	for _, table := range []string{RawCallTable, RawTicketTable, RawAgentTable} {
		q := fmt.Sprintf(`SELECT center_id, toString(toDate(ts, '%[3]s')) AS d, count(), max(ingested_at) FROM %[1]s.%[2]s
WHERE (? = '' OR center_id = ?) AND (? = '' OR d >= ?) AND (? = '' OR d <= ?) AND ingested_at >= ?
GROUP BY center_id, d`, s.r.db, table, loc.String())
		err := s.r.each(ctx, q, func(rows driver.Rows) error {
			var c, d string
			var n uint64
			var last time.Time
			if err := rows.Scan(&c, &d, &n, &last); err != nil {
				return err
			}
			k := [2]string{c, d}
			if days[k] == nil {
				days[k] = &ledger.DayCount{Center: c, Day: d}
			}
			days[k].Events += int64(n)
			if last.After(days[k].LastIngested) {
				days[k].LastIngested = last
			}
			return nil
		}, f.Center, f.Center, f.From, f.From, f.To, f.To, since)
		if err != nil {
			return nil, err
		}
	}
	out := make([]ledger.DayCount, 0, len(days))
	for _, d := range days {
		out = append(out, *d)
	}
	return out, nil
}

// Entries returns the stored events of a centre in [from, to), read FINAL.
func (s *LedgerStore) Entries(ctx context.Context, center string, from, to int64) ([]ledger.Entry, error) {
	var out []ledger.Entry
	for _, t := range []struct {
		table, cols string
		scan        func(driver.Rows) (event.Record, error)
	}{{RawCallTable, rawCallColumns, scanCall}, {RawTicketTable, rawTicketColumns, scanTicket}, {RawAgentTable, rawAgentColumns, scanAgent}} {
		q := fmt.Sprintf("SELECT %s FROM %s.%s FINAL WHERE center_id = ? AND ts >= ? AND ts <= ? AND ts_ms >= ? AND ts_ms < ?",
			t.cols, s.r.db, t.table)
		err := s.r.each(ctx, q, func(rows driver.Rows) error {
			rec, err := t.scan(rows)
			if err == nil {
				out = append(out, ledger.Entry{ID: rec.ID, Hash: ledger.EventHash(&rec.Event)})
			}
			return err
		}, center, time.UnixMilli(from).Truncate(time.Second), time.UnixMilli(to), from, to)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Stored returns the content hash of the stored events among recs.
func (s *LedgerStore) Stored(ctx context.Context, recs []*event.Record) (map[string]ledger.Hash, error) {
	var calls, tickets, agents []string
	for _, r := range recs {
		switch {
		case r.Type.IsCall():
			calls = append(calls, r.ID)
		case r.Type.IsAgent():
			agents = append(agents, r.ID)
		default:
			tickets = append(tickets, r.ID)
		}
	}
	out := map[string]ledger.Hash{}
	for _, t := range []struct {
		table, cols string
		ids         []string
		scan        func(driver.Rows) (event.Record, error)
	}{{RawCallTable, rawCallColumns, calls, scanCall}, {RawTicketTable, rawTicketColumns, tickets, scanTicket},
		{RawAgentTable, rawAgentColumns, agents, scanAgent}} {
		q := fmt.Sprintf("SELECT %s FROM %s.%s FINAL WHERE event_id IN ?", t.cols, s.r.db, t.table)
		for ids := t.ids; len(ids) > 0; {
			chunk := ids[:min(len(ids), LoadChunk)]
			ids = ids[len(chunk):]
			err := s.r.each(ctx, q, func(rows driver.Rows) error {
				rec, err := t.scan(rows)
				if err == nil {
					out[rec.ID] = ledger.EventHash(&rec.Event)
				}
				return err
			}, set(chunk))
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Marks returns the marks of a centre's day, oldest first; a mark stored
// twice (a retried write) counts from its first time.
func (s *LedgerStore) Marks(ctx context.Context, center, day string) ([]ledger.Mark, error) {
	q := fmt.Sprintf(`SELECT event_id, hash, prior, min(marked_at) AS at FROM %s.%s
WHERE center_id = ? AND day = toDate(?) GROUP BY event_id, hash, prior ORDER BY at, event_id`, s.r.db, MarkTable)
	var out []ledger.Mark
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		m := ledger.Mark{Center: center, Day: day}
		var h, p string
		if err := rows.Scan(&m.EventID, &h, &p, &m.MarkedAt); err != nil {
			return err
		}
		m.Hash, m.Prior = parseHash(h), parseHash(p)
		out = append(out, m)
		return nil
	}, center, day)
	return out, err
}

// MarkedDays returns the centre-days with marks made since.
func (s *LedgerStore) MarkedDays(ctx context.Context, since time.Time) ([]ledger.DayCount, error) {
	q := fmt.Sprintf(`SELECT center_id, toString(day), count() FROM %s.%s WHERE marked_at >= ? GROUP BY center_id, day`,
		s.r.db, MarkTable)
	var out []ledger.DayCount
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var d ledger.DayCount
		var n uint64
		if err := rows.Scan(&d.Center, &d.Day, &n); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	}, since)
	return out, err
}

// WriteMarks stores marks; the server stamps them.
func (s *LedgerStore) WriteMarks(ctx context.Context, marks []ledger.Mark) error {
	n := len(marks)
	center, day, id, hash, prior := make([]string, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	for i, m := range marks {
		d, err := time.Parse("2006-01-02", m.Day)
		if err != nil {
			return fmt.Errorf("mark day %q: %w", m.Day, err)
		}
		center[i], day[i], id[i], hash[i], prior[i] = m.Center, d, m.EventID, hashString(m.Hash), hashString(m.Prior)
	}
	return insertColumns(ctx, s.r.conn, s.r.db, MarkTable, "center_id, day, event_id, hash, prior", center, day, id, hash, prior)
}

// Intents returns every seal intent, each centre-day once (its first).
func (s *LedgerStore) Intents(ctx context.Context) ([]ledger.Intent, error) {
	q := fmt.Sprintf(`SELECT center_id, toString(day), min(at) FROM %s.%s GROUP BY center_id, day`, s.r.db, IntentTable)
	var out []ledger.Intent
	err := s.r.each(ctx, q, func(rows driver.Rows) error {
		var in ledger.Intent
		if err := rows.Scan(&in.Center, &in.Day, &in.At); err != nil {
			return err
		}
		out = append(out, in)
		return nil
	})
	return out, err
}

// WriteIntents stores seal intents; the server stamps them.
func (s *LedgerStore) WriteIntents(ctx context.Context, intents []ledger.Intent) error {
	n := len(intents)
	center, day := make([]string, n), make([]time.Time, n)
	for i, in := range intents {
		d, err := time.Parse("2006-01-02", in.Day)
		if err != nil {
			return fmt.Errorf("intent day %q: %w", in.Day, err)
		}
		center[i], day[i] = in.Center, d
	}
	return insertColumns(ctx, s.r.conn, s.r.db, IntentTable, "center_id, day", center, day)
}

// ChainHeads returns the last record of each centre's digest log, by
// centre: a report that states them lets an auditor check later that the
// log only grew.
func (r *Reader) ChainHeads(ctx context.Context) (map[string]ledger.Record, error) {
	recs, err := (&LedgerStore{r: r}).Records(ctx, "")
	if err != nil {
		return nil, err
	}
	heads := map[string]ledger.Record{}
	for _, rec := range recs { // in centre and seq order
		heads[rec.Center] = rec
	}
	return heads, nil
}

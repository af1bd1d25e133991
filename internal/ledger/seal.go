package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Mark records a late arrival: an event stored through the pipeline for a
// day that is (or is about to be) sealed, with the content it replaced
// (Prior: zero when the event was new).
type Mark struct {
	Center, Day string
	EventID     string
	Hash, Prior Hash
	MarkedAt    time.Time // the server's time, seconds
}

func (m *Mark) key() string { return m.EventID + ":" + m.Hash.String() }

// DayCount is a centre's day with stored events.
type DayCount struct {
	Center, Day string
	Events      int64
	// LastIngested is when the pipeline last stored an event of the day
	// (the writer's clock).
	LastIngested time.Time
}

// DayFilter selects centre-days: Center "" is every centre, From and To
// (YYYY-MM-DD, inclusive) "" are unbounded, and a non-zero Since keeps
// only the events stored at or after it.
type DayFilter struct {
	Center, From, To string
	Since            time.Time
}

// Intent announces that a centre's day is about to be sealed: from the
// moment the pipeline sees it, it marks the day's arrivals.
type Intent struct {
	Center, Day string
	At          time.Time // the server's time, seconds
}

// Store is what the ledger reads and writes.
type Store interface {
	// Now is the server's time.
	Now(ctx context.Context) (time.Time, error)
	// Records returns the log of one centre ("" every centre), in centre
	// and Seq order.
	Records(ctx context.Context, center string) ([]Record, error)
	// Append stores records.
	Append(ctx context.Context, recs []Record) error
	// Days returns the centre-days (in time zone loc) with stored events
	// that f selects.
	Days(ctx context.Context, f DayFilter, loc *time.Location) ([]DayCount, error)
	// Entries returns the stored events of a centre with ts in [from, to)
	// (Unix ms), each once, as the raw tables read FINAL hold it.
	Entries(ctx context.Context, center string, from, to int64) ([]Entry, error)
	// Stored returns the content hash of the stored events among recs, by
	// event id.
	Stored(ctx context.Context, recs []*event.Record) (map[string]Hash, error)
	// Marks returns the marks of a centre's day, oldest first.
	Marks(ctx context.Context, center, day string) ([]Mark, error)
	// MarkedDays returns the centre-days with marks made at or after since.
	MarkedDays(ctx context.Context, since time.Time) ([]DayCount, error)
	// WriteMarks stores marks; the server sets MarkedAt.
	WriteMarks(ctx context.Context, marks []Mark) error
	// Intents returns every intent, each centre-day once (its first).
	Intents(ctx context.Context) ([]Intent, error)
	// WriteIntents stores intents; the server sets At.
	WriteIntents(ctx context.Context, intents []Intent) error
}

// Config says when a day is sealed.
type Config struct {
	// Grace is how long after the end of a day it may be sealed.
	Grace time.Duration `yaml:"grace"`
	// Settle is how long a day must have had no new events before it is
	// sealed, and how long after its intent is written: every instance
	// reads the intents four times in that span, so it must exceed the
	// longest raw write. A backfill of old days is not marked as late.
	Settle time.Duration `yaml:"settle"`
	// Every is how often the pipeline seals.
	Every time.Duration `yaml:"every"`
	// Check is how often the pipeline verifies the last CheckDays days
	// against their digests (hotline_ledger_unexplained_digests).
	Check time.Duration `yaml:"check"`
}

// CheckDays is how many past days the pipeline's periodic check covers:
// an evaluation month and the weeks it is reviewed in.
const CheckDays = 40

// DefaultConfig seals a day two hours after its end once it has been
// quiet for two minutes, checking every ten minutes.
func DefaultConfig() Config {
	return Config{Grace: 2 * time.Hour, Settle: 2 * time.Minute, Every: 10 * time.Minute, Check: 6 * time.Hour}
}

// Validate reports settings the ledger cannot work with.
func (c Config) Validate() error {
	if c.Grace < 0 || c.Settle <= 0 || c.Every <= 0 || c.Check <= 0 {
		return fmt.Errorf("ledger: grace must not be negative, settle, every and check must be positive (grace %s, settle %s, every %s, check %s)",
			c.Grace, c.Settle, c.Every, c.Check)
	}
	return nil
}

// scanMargin is how far before the previous sealing the next one looks
// for stored events: the writers' clocks stamp them.
const scanMargin = 10 * time.Minute

// dayBounds returns a day's [start, end) in Unix ms.
func dayBounds(day string, loc *time.Location) (int64, int64, error) {
	d, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return 0, 0, err
	}
	return d.UnixMilli(), d.AddDate(0, 0, 1).UnixMilli(), nil
}

// Ledger seals days and verifies them against the raw tables.
type Ledger struct {
	store Store
	loc   *time.Location
	cfg   Config
	log   *slog.Logger
	// The sealer's memory between sealings: when it last looked for
	// stored events (zero: never, look at all), and the unsealed days it
	// found, with their last stored event.
	scanned time.Time
	waiting map[[2]string]time.Time
}

// New returns a ledger over store; days are in loc (the profile's zone).
func New(store Store, loc *time.Location, cfg Config, log *slog.Logger) *Ledger {
	return &Ledger{store: store, loc: loc, cfg: cfg, log: log, waiting: map[[2]string]time.Time{}}
}

// dayOf returns the day of a time in Unix ms.
func (l *Ledger) dayOf(ms int64) string { return time.UnixMilli(ms).In(l.loc).Format("2006-01-02") }

// latest returns the last record of each centre-day, and the last record
// of each centre.
func latest(recs []Record) (byDay map[[2]string]*Record, byCenter map[string]*Record) {
	byDay, byCenter = map[[2]string]*Record{}, map[string]*Record{}
	for i := range recs {
		r := &recs[i]
		k := [2]string{r.Center, r.Day}
		if o := byDay[k]; o == nil || r.Version > o.Version {
			byDay[k] = r
		}
		if o := byCenter[r.Center]; o == nil || r.Seq > o.Seq {
			byCenter[r.Center] = r
		}
	}
	return byDay, byCenter
}

// SealReport says what a sealing did.
type SealReport struct {
	Sealed      []Record // records appended
	Unexplained []DayCount
}

// Seal seals the centre-days that are due and appends a version for each
// sealed day whose late arrivals are all stored. A day is due once it has
// been over for Grace and quiet (no new event) for Settle: the sealing
// then writes its intent, and seals it at the first sealing Settle after,
// when every instance of the pipeline marks the day's arrivals. A day
// whose stored events differ from its digest in a way that no mark
// explains gets no version: Verify reports it.
func (l *Ledger) Seal(ctx context.Context) (SealReport, error) {
	var rep SealReport
	now, err := l.store.Now(ctx)
	if err != nil {
		return rep, err
	}
	recs, err := l.store.Records(ctx, "")
	if err != nil {
		return rep, err
	}
	byDay, byCenter := latest(recs)
	ready, err := l.ready(ctx, now, byDay)
	if err != nil {
		return rep, err
	}
	// Sealed days with late arrivals: new marks, or marks left pending.
	since := now.Add(-l.cfg.Every - time.Hour)
	for _, r := range byCenter {
		since = minTime(since, r.SealedAt)
	}
	days, err := l.store.MarkedDays(ctx, since)
	if err != nil {
		return rep, err
	}
	days = append(days, ready...)
	for k, r := range byDay {
		if len(r.Pending) > 0 { // arrivals marked but not stored when it was sealed
			days = append(days, DayCount{Center: k[0], Day: k[1]})
		}
	}
	sort.Slice(days, func(i, j int) bool {
		if days[i].Center != days[j].Center {
			return days[i].Center < days[j].Center
		}
		return days[i].Day < days[j].Day
	})
	isReady := map[[2]string]bool{}
	for _, d := range ready {
		isReady[[2]string{d.Center, d.Day}] = true
	}
	seen := map[[2]string]bool{}
	for _, d := range days {
		k := [2]string{d.Center, d.Day}
		if seen[k] || (byDay[k] == nil && !isReady[k]) {
			continue // an unsealed day is sealed only when ready
		}
		seen[k] = true
		start, end, err := dayBounds(d.Day, l.loc)
		if err != nil {
			return rep, err
		}
		if time.UnixMilli(end).Add(l.cfg.Grace).After(now) {
			continue // not over long enough
		}
		r, ok, err := l.sealDay(ctx, d.Center, d.Day, start, end, byDay[k], now)
		if err != nil {
			return rep, err
		}
		if !ok {
			rep.Unexplained = append(rep.Unexplained, d)
			l.log.Warn("stored events differ from the sealed digest without late arrivals to explain it",
				"center", d.Center, "day", d.Day)
			continue
		}
		if r == nil {
			continue
		}
		r.chainTo(byCenter[d.Center])
		if err := l.store.Append(ctx, []Record{*r}); err != nil {
			return rep, err
		}
		rec := *r
		byCenter[d.Center], byDay[k] = &rec, &rec
		rep.Sealed = append(rep.Sealed, rec)
		delete(l.waiting, k)
	}
	return rep, nil
}

// ready returns the unsealed days to seal now. It first takes in the days
// of the events stored since the last look, then writes the intent of each
// day that is over and quiet; a day is ready Settle after its intent.
func (l *Ledger) ready(ctx context.Context, now time.Time, byDay map[[2]string]*Record) ([]DayCount, error) {
	var f DayFilter
	if !l.scanned.IsZero() {
		f.Since = l.scanned.Add(-scanMargin)
	}
	days, err := l.store.Days(ctx, f, l.loc)
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		k := [2]string{d.Center, d.Day}
		if last, ok := l.waiting[k]; byDay[k] == nil && (!ok || d.LastIngested.After(last)) {
			l.waiting[k] = d.LastIngested
		}
	}
	l.scanned = now
	intended, err := l.intended(ctx)
	if err != nil {
		return nil, err
	}
	var out []DayCount
	var write []Intent
	for k, last := range l.waiting {
		if byDay[k] != nil {
			delete(l.waiting, k)
			continue
		}
		_, end, err := dayBounds(k[1], l.loc)
		if err != nil {
			return nil, err
		}
		if time.UnixMilli(end).Add(l.cfg.Grace).After(now) {
			continue
		}
		at, ok := intended[k]
		switch {
		case !ok && !last.Add(l.cfg.Settle).After(now):
			write = append(write, Intent{Center: k[0], Day: k[1]})
		case ok && !at.Add(l.cfg.Settle).After(now):
			out = append(out, DayCount{Center: k[0], Day: k[1], LastIngested: last})
		}
	}
	if len(write) > 0 {
		if err := l.store.WriteIntents(ctx, write); err != nil {
			return nil, fmt.Errorf("write %d seal intents: %w", len(write), err)
		}
		l.log.Info("days to seal announced", "days", len(write))
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// dayState is what the store holds of a day now, set against its latest
// version.
type dayState struct {
	entries []Entry
	digest  Hash
	// explained: the entries without the late arrivals made since the
	// latest version equal it; late: those arrivals (stored ones).
	explained bool
	late      int
	// reverted is the count of entries with the late arrivals taken back.
	reverted int64
	marks    []Mark
}

// examine reads a day's entries and marks and sets them against v (nil:
// not sealed).
func (l *Ledger) examine(ctx context.Context, center, day string, start, end int64, v *Record) (*dayState, error) {
	entries, err := l.store.Entries(ctx, center, start, end)
	if err != nil {
		return nil, err
	}
	marks, err := l.store.Marks(ctx, center, day)
	if err != nil {
		return nil, err
	}
	st := &dayState{entries: entries, digest: Digest(entries), marks: marks}
	if v == nil {
		return st, nil
	}
	if st.digest == v.Digest {
		st.explained = true
		return st, nil
	}
	// The late arrivals since v: marks from its sealing second on that it
	// did not cover, and those it left pending.
	covered, pending := set(v.Covered), set(v.Pending)
	var cands []*Mark
	for i := len(marks) - 1; i >= 0; i-- { // newest first: take back the latest change first
		m := &marks[i]
		if (!m.MarkedAt.Before(v.SealedAt) && !covered[m.key()]) || pending[m.key()] {
			cands = append(cands, m)
		}
	}
	cur := make(map[string]Hash, len(entries))
	for _, e := range entries {
		cur[e.ID] = e.Hash
	}
	for _, m := range cands {
		if h, ok := cur[m.EventID]; ok && h == m.Hash {
			st.late++
			if m.Prior == (Hash{}) {
				delete(cur, m.EventID)
			} else {
				cur[m.EventID] = m.Prior
			}
		}
	}
	back := make([]Entry, 0, len(cur))
	for id, h := range cur {
		back = append(back, Entry{ID: id, Hash: h})
	}
	st.reverted = int64(len(back))
	st.explained = st.late > 0 && Digest(back) == v.Digest
	return st, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// sealDay returns the next version of a day (nil: none needed), or ok
// false when the stored events differ from v unexplained.
func (l *Ledger) sealDay(ctx context.Context, center, day string, start, end int64, v *Record, now time.Time) (*Record, bool, error) {
	st, err := l.examine(ctx, center, day, start, end, v)
	if err != nil {
		return nil, false, err
	}
	if v != nil && !st.explained {
		return nil, false, nil
	}
	if v != nil && st.digest == v.Digest {
		return nil, true, nil
	}
	r := &Record{Center: center, Day: day, Version: 1, Events: int64(len(st.entries)), Added: int64(len(st.entries)),
		Digest: st.digest, SealedAt: now}
	if v != nil {
		r.Version, r.Added = v.Version+1, r.Events-v.Events
	}
	stored := make(map[string]bool, len(st.entries))
	for _, e := range st.entries {
		stored[e.ID+":"+e.Hash.String()] = true
	}
	for i := range st.marks {
		m := &st.marks[i]
		switch k := m.key(); {
		case !m.MarkedAt.Before(now.Truncate(time.Second)) && stored[k]:
			r.Covered = append(r.Covered, k)
		case !stored[k] && (v == nil || !m.MarkedAt.Before(v.SealedAt) || set(v.Pending)[k]):
			r.Pending = append(r.Pending, k)
		}
	}
	return r, true, nil
}

// Status of a day in a verification.
type Status string

const (
	StatusOK       Status = "ok"       // the stored events match the latest version
	StatusPending  Status = "pending"  // late arrivals through the pipeline, not yet sealed
	StatusUnsealed Status = "unsealed" // events, but no digest yet
	StatusAdded    Status = "added"    // more events than sealed, unexplained
	StatusRemoved  Status = "removed"  // fewer events than sealed
	StatusChanged  Status = "changed"  // as many events as sealed, other content
)

// Chinese names a status for reports.
func (s Status) Chinese() string {
	switch s {
	case StatusOK:
		return "一致"
	case StatusPending:
		return "有待封存的迟到事件"
	case StatusUnsealed:
		return "尚未封存"
	case StatusAdded:
		return "封存后被新增记录"
	case StatusRemoved:
		return "封存后被删除记录"
	case StatusChanged:
		return "封存后记录被改动"
	}
	return string(s)
}

// Tampered reports whether the status means a change made outside the
// pipeline.
func (s Status) Tampered() bool {
	return s == StatusAdded || s == StatusRemoved || s == StatusChanged
}

// DayResult is the verification of one centre's day.
type DayResult struct {
	Center, Day string
	Status      Status
	Version     uint32 // latest version, 0 when unsealed
	Sealed      int64  // events the latest version covers
	Stored      int64  // events stored now
	Late        int    // late arrivals not yet sealed
}

// Verification is the result of Verify.
type Verification struct {
	Days   []DayResult
	Breaks []Break
	// Heads is the chain hash of each centre's last record: an auditor who
	// kept an earlier head can check that the log only grew since.
	Heads map[string]Hash
}

// Tampered counts the days changed outside the pipeline and the breaks of
// the logs.
func (v *Verification) Tampered() int {
	n := len(v.Breaks)
	for _, d := range v.Days {
		if d.Status.Tampered() {
			n++
		}
	}
	return n
}

// Verify recomputes the digests of the days from to to (YYYY-MM-DD,
// inclusive) of one centre ("" all) from the raw tables and checks them and
// the log's chain.
func (l *Ledger) Verify(ctx context.Context, center, from, to string) (*Verification, error) {
	recs, err := l.store.Records(ctx, center)
	if err != nil {
		return nil, err
	}
	out := &Verification{Heads: map[string]Hash{}}
	byCenter := map[string][]Record{}
	for _, r := range recs {
		byCenter[r.Center] = append(byCenter[r.Center], r)
	}
	for c, rs := range byCenter {
		out.Breaks = append(out.Breaks, CheckChain(rs)...)
		out.Heads[c] = rs[len(rs)-1].Chain
	}
	byDay, _ := latest(recs)
	days, err := l.store.Days(ctx, DayFilter{Center: center, From: from, To: to}, l.loc)
	if err != nil {
		return nil, err
	}
	want := map[[2]string]bool{}
	for _, d := range days {
		want[[2]string{d.Center, d.Day}] = true
	}
	for k := range byDay {
		if (from == "" || k[1] >= from) && (to == "" || k[1] <= to) {
			want[k] = true // sealed, perhaps with every event removed since
		}
	}
	keys := make([][2]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		start, end, err := dayBounds(k[1], l.loc)
		if err != nil {
			return nil, err
		}
		v := byDay[k]
		st, err := l.examine(ctx, k[0], k[1], start, end, v)
		if err != nil {
			return nil, err
		}
		res := DayResult{Center: k[0], Day: k[1], Stored: int64(len(st.entries))}
		switch {
		case v == nil:
			res.Status = StatusUnsealed
		case st.digest == v.Digest:
			res.Status = StatusOK
		case st.explained:
			res.Status, res.Late = StatusPending, st.late
		case st.reverted > v.Events:
			res.Status = StatusAdded
		case st.reverted < v.Events:
			res.Status = StatusRemoved
		default:
			res.Status = StatusChanged
		}
		if v != nil {
			res.Version, res.Sealed = v.Version, v.Events
		}
		out.Days = append(out.Days, res)
	}
	sort.Slice(out.Breaks, func(i, j int) bool {
		if out.Breaks[i].Center != out.Breaks[j].Center {
			return out.Breaks[i].Center < out.Breaks[j].Center
		}
		return out.Breaks[i].Seq < out.Breaks[j].Seq
	})
	return out, nil
}

// String summarises a result for logs.
func (d DayResult) String() string {
	return fmt.Sprintf("%s %s %s (version %d: %d sealed, %d stored)", d.Center, d.Day, d.Status, d.Version, d.Sealed, d.Stored)
}

// Metrics are the ledger's series.
type Metrics struct {
	sealed      prometheus.Counter
	unexplained prometheus.Gauge
	failures    prometheus.Counter
}

// NewMetrics registers the ledger's series.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sealed: prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_ledger_versions_sealed_total",
			Help: "Day digests appended to the tamper-evidence log (first seals and late-arrival versions)."}),
		unexplained: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotline_ledger_unexplained_digests",
			Help: "Sealed day digests (one per centre and day, the last 40 days) whose stored events differ with no late arrival to explain it, and breaks of the digest log, at the last check: records changed outside the pipeline."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_ledger_seal_failures_total",
			Help: "Sealings that failed (retried at the next interval)."}),
	}
	reg.MustRegister(m.sealed, m.unexplained, m.failures)
	return m
}

// Run seals every cfg.Every while owner reports true (one process of a
// consumer group seals: the owner of one partition), and verifies the last
// CheckDays days every cfg.Check, until ctx ends.
func (l *Ledger) Run(ctx context.Context, owner func() bool, m *Metrics) error {
	t := time.NewTicker(l.cfg.Every)
	defer t.Stop()
	var checked time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !owner() {
			// Another process seals meanwhile; look at everything again
			// when this one is the owner again.
			l.scanned, checked = time.Time{}, time.Time{}
			continue
		}
		rep, err := l.Seal(ctx)
		if err == nil {
			m.sealed.Add(float64(len(rep.Sealed)))
			if len(rep.Sealed) > 0 {
				l.log.Info("days sealed", "versions", len(rep.Sealed))
			}
			if time.Since(checked) >= l.cfg.Check {
				err = l.check(ctx, m)
				if err == nil {
					checked = time.Now()
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.failures.Inc()
			l.log.Warn("sealing failed; retried at the next interval", "err", err)
		}
	}
}

// check verifies the last CheckDays days and sets the gauge.
func (l *Ledger) check(ctx context.Context, m *Metrics) error {
	now, err := l.store.Now(ctx)
	if err != nil {
		return err
	}
	v, err := l.Verify(ctx, "", now.In(l.loc).AddDate(0, 0, -CheckDays).Format("2006-01-02"), "")
	if err != nil {
		return err
	}
	m.unexplained.Set(float64(v.Tampered()))
	for _, d := range v.Days {
		if d.Status.Tampered() {
			l.log.Warn("stored events differ from the sealed digest", "day", d.String())
		}
	}
	for _, b := range v.Breaks {
		l.log.Warn("tamper-evidence log broken", "center", b.Center, "seq", b.Seq, "why", b.Why)
	}
	return nil
}

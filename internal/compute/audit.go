package compute

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// AuditOutput is the records audit (docs/spec/assessment.md) in the
// JSON shape of `hotlineqc audit --format json`.
type AuditOutput struct {
	Profile string           `json:"profile"`
	AsOf    string           `json:"as_of"`
	From    string           `json:"from,omitempty"` // first month audited, YYYY-MM
	To      string           `json:"to,omitempty"`   // last month audited
	Events  indicator.Counts `json:"events"`
	// Rejected counts rejected messages by reason: the input's bad lines
	// and the records of the dead-letter files given.
	Rejected map[string]int64 `json:"rejected"`
	Classes  []AuditClass     `json:"classes"`
}

// AuditClass is one class of defect in one centre and month.
type AuditClass struct {
	CenterID string   `json:"center_id"`
	Month    string   `json:"month"`
	Class    string   `json:"class"`
	Name     string   `json:"name"`
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

// AuditScope limits an audit to centre and months [From, To] (YYYY-MM,
// inclusive; empty: unbounded).
type AuditScope struct {
	Center   string
	From, To string
	// Examples is how many ids each class lists (the first by id);
	// negative lists all of them.
	Examples int
}

func (s AuditScope) keep(r *indicator.AuditRow) bool {
	return (s.Center == "" || r.CenterID == s.Center) && (s.From == "" || r.Month >= s.From) && (s.To == "" || r.Month <= s.To)
}

// auditGrain keeps the fewest aggregates: the audit reads the calls and
// tickets, not the indicators.
var auditGrain = indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}

// Audit runs the records audit on event files; deadLetters are NDJSON
// dead-letter files (of `compute --dead-letter`, or the same shape) whose
// records count as rejected by their reason.
func Audit(ctx context.Context, o Options, scope AuditScope, deadLetters []string) (*AuditOutput, error) {
	ps, err := indicator.NewProfiles(o.Profiles, o.Calendar...)
	if err != nil {
		return nil, err
	}
	eng := indicator.NewSharded(ps, indicator.Grain(auditGrain), runtime.GOMAXPROCS(0))
	rejected := map[string]int64{}
	asOf, err := Feed(ctx, eng, o.Files, o.MaxBytes, o.AsOf, nil, func(r Reject) {
		rejected[string(r.Reason)]++
		if o.OnReject != nil {
			o.OnReject(r)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := CountDeadLetters(deadLetters, rejected); err != nil {
		return nil, err
	}
	return NewAuditOutput(o.Profiles.Default, asOf, eng.Counts(), rejected, eng.Audit(scope.Examples), scope), nil
}

// AuditSlack is how far before the first audited month the events of the
// store are read, so that a ticket created earlier and still worked on in
// the period is seen with its creation.
const AuditSlack = 92 * 24 * time.Hour

// AuditStore runs the records audit on the raw events stored in ClickHouse
// from AuditSlack before scope.From up to asOf (zero: now). Rejected
// messages are not in the store: give the dead-letter files to count them.
func AuditStore(ctx context.Context, r *chstore.Reader, set *profile.Set, scope AuditScope, asOf time.Time,
	deadLetters []string) (*AuditOutput, error) {
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		return nil, err
	}
	p := set.Default
	if asOf.IsZero() {
		asOf = time.Now()
	}
	from := time.Time{}
	if scope.From != "" {
		m, err := time.ParseInLocation("2006-01", scope.From, p.Location())
		if err != nil {
			return nil, fmt.Errorf("from %q: want YYYY-MM", scope.From)
		}
		from = m.Add(-AuditSlack)
	}
	eng := indicator.NewSharded(ps, indicator.Grain(auditGrain), runtime.GOMAXPROCS(0))
	batch := make([]event.Event, 0, 10_000)
	err = r.EachEvent(ctx, scope.Center, from.UnixMilli(), asOf.UnixMilli()+1, func(rec event.Record) {
		if batch = append(batch, rec.Event); len(batch) == cap(batch) {
			eng.ApplyAll(batch)
			batch = batch[:0]
		}
	})
	if err != nil {
		return nil, err
	}
	eng.ApplyAll(batch)
	at := asOf.UnixMilli()
	eng.IgnoreAfter(at)
	eng.Advance(at)
	rejected := map[string]int64{}
	if err := CountDeadLetters(deadLetters, rejected); err != nil {
		return nil, err
	}
	// Events read back include stored replays: they are not input counts.
	counts := eng.Counts()
	counts.Duplicates, counts.Conflicting = 0, 0
	return NewAuditOutput(p, at, counts, rejected, eng.Audit(scope.Examples), scope), nil
}

// NewAuditOutput assembles an audit from an engine's audit rows, kept to
// scope; rejected counts rejected messages by reason.
func NewAuditOutput(p *profile.Profile, asOf int64, counts indicator.Counts, rejected map[string]int64,
	rows []indicator.AuditRow, scope AuditScope) *AuditOutput {
	out := &AuditOutput{Profile: p.ID, AsOf: FormatTime(asOf, p.Location()), From: scope.From, To: scope.To,
		Events: counts, Rejected: rejected, Classes: []AuditClass{}}
	for i := range rows {
		r := &rows[i]
		if !scope.keep(r) {
			continue
		}
		out.Classes = append(out.Classes, AuditClass{CenterID: r.CenterID, Month: r.Month, Class: r.Defect.String(),
			Name: r.Defect.Chinese(), Count: r.Count, Examples: r.Examples})
	}
	return out
}

// CountDeadLetters adds the records of NDJSON dead-letter files to
// rejected, by their "reason".
func CountDeadLetters(files []string, rejected map[string]int64) error {
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			if len(sc.Bytes()) == 0 {
				continue
			}
			var rec struct {
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Reason == "" {
				f.Close()
				return fmt.Errorf("%s:%d: not a dead-letter record (want a JSON object with a reason)", name, line)
			}
			rejected[rec.Reason]++
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// WriteAudit writes an audit in the named format: json, table or csv.
func WriteAudit(w io.Writer, format string, out *AuditOutput) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "table":
		fmt.Fprintf(w, "记录完整性核查 records audit   口径 profile: %s   评估时间 as of: %s   期间 period: %s – %s\n",
			out.Profile, out.AsOf, orAll(out.From), orAll(out.To))
		fmt.Fprintf(w, "事件 events: accepted %d, duplicates %d (conflicting %d)   拒收 rejected: %s\n\n",
			out.Events.Accepted, out.Events.Duplicates, out.Events.Conflicting, reasons(out.Rejected))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "热线中心 center\t月份 month\t类别 class\t名称\t数量 count\t示例 examples")
		for _, c := range out.Classes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.CenterID, c.Month, c.Class, c.Name, c.Count, strings.Join(c.Examples, " "))
		}
		if len(out.Classes) == 0 {
			fmt.Fprintln(tw, "(无 none)")
		}
		return tw.Flush()
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"center_id", "month", "class", "name", "count", "examples"})
		for _, c := range out.Classes {
			_ = cw.Write([]string{c.CenterID, c.Month, c.Class, c.Name, strconv.Itoa(c.Count), strings.Join(c.Examples, " ")})
		}
		for _, r := range sortedReasons(out.Rejected) {
			_ = cw.Write([]string{"", "", "rejected:" + r, "拒收消息", strconv.FormatInt(out.Rejected[r], 10), ""})
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("format %q: want json, table or csv", format)
}

func orAll(s string) string {
	if s == "" {
		return "…"
	}
	return s
}

func sortedReasons(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func reasons(m map[string]int64) string {
	if len(m) == 0 {
		return "0"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedReasons(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

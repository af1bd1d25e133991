package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/hotlineqc/hotlineqc/internal/app"
	"github.com/hotlineqc/hotlineqc/internal/assess"
	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/config"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
	"github.com/hotlineqc/hotlineqc/internal/sim"
	"github.com/hotlineqc/hotlineqc/internal/stored"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// streamScenario is simulated traffic, shuffled, with replays and bad lines,
// as Kafka messages, and the same lines as a file for compute.
type streamScenario struct {
	calls, tickets []kafka.Message
	agents         []kafka.Message // agent.* events (revision 1.2), keyed by agent_id
	file           string
	asOf           time.Time
	span           time.Duration // of simulated traffic
}

func newStreamScenario(t *testing.T, span time.Duration, seed uint64) streamScenario {
	t.Helper()
	return newStreamScenarioN(t, 1, span, seed)
}

// halves splits the scenario's messages in two, to produce apart (the
// file is the whole scenario).
func (sc streamScenario) halves() (streamScenario, streamScenario) {
	a, b := sc, sc
	a.calls, b.calls = sc.calls[:len(sc.calls)/2], sc.calls[len(sc.calls)/2:]
	a.tickets, b.tickets = sc.tickets[:len(sc.tickets)/2], sc.tickets[len(sc.tickets)/2:]
	a.agents, b.agents = sc.agents[:len(sc.agents)/2], sc.agents[len(sc.agents)/2:]
	return a, b
}

// newStreamScenarioN is newStreamScenario with the given number of centres.
func newStreamScenarioN(t *testing.T, centers int, span time.Duration, seed uint64) streamScenario {
	t.Helper()
	start := time.Date(2026, 10, 12, 6, 0, 0, 0, shanghai)
	p := profile.Default()
	cal, _ := p.NewCalendar()
	cfg := sim.Strained(centers, start, span, seed)
	// One centre's agents (sign-ins, breaks, busy and wrap-up) stream with
	// its calls and tickets; the scenarios of several centres (profiles by
	// centre) keep to calls and tickets, within the bounds of a CI machine.
	cfg.Agents = centers == 1
	s, err := sim.New(cfg, p, cal)
	if err != nil {
		t.Fatal(err)
	}
	var evs []sim.Event
	if _, err := s.Run(context.Background(), func(e sim.Event) error { evs = append(evs, e); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	n := len(evs)
	for i := range n / 20 { // replays
		evs = append(evs, evs[rng.IntN(n-i)])
	}
	for range n / 200 { // conflicting duplicates: the same event_id, another ts
		evs = append(evs, conflicting(t, evs[rng.IntN(n)], time.Duration(rng.IntN(240)-120)*time.Second))
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	sc := streamScenario{asOf: start.Add(span + 48*time.Hour), span: span}
	var file bytes.Buffer
	for i, e := range evs {
		m := kafka.Message{Key: []byte(e.Key), Value: e.JSON}
		switch {
		case i%500 == 0: // a bad message now and then, on any topic
			m.Value = []byte(`{"event_id":"bad` + fmt.Sprint(i) + `","type":"call.queued"}`)
		case e.Agent && i%500 == 250: // an agent's state change without its state
			m.Value = []byte(`{"event_id":"bad` + fmt.Sprint(i) + `","type":"agent.state_changed","ts":"2026-10-12T09:00:00+08:00","center_id":"c12345","agent_id":"` + e.Key + `"}`)
		}
		file.Write(m.Value)
		file.WriteByte('\n')
		switch {
		case e.Ticket:
			sc.tickets = append(sc.tickets, m)
		case e.Agent:
			sc.agents = append(sc.agents, m)
		default:
			sc.calls = append(sc.calls, m)
		}
	}
	sc.file = filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(sc.file, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return sc
}

// conflicting returns e with its ts moved by d: a duplicate with other
// content, which the earlier of the two wins (indicators.md v1.1, 12).
func conflicting(t *testing.T, e sim.Event, d time.Duration) sim.Event {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.JSON, &m); err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339Nano, m["ts"].(string))
	if err != nil {
		t.Fatal(err)
	}
	m["ts"] = ts.Add(d).Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e.JSON = b
	return e
}

// streamConfig is a pipeline configuration on fresh topics of three
// partitions and a fresh database.
func streamConfig(t *testing.T) config.Config {
	t.Helper()
	return streamConfigN(t, 3)
}

// streamConfigN is streamConfig with topics of the given partitions.
func streamConfigN(t *testing.T, partitions int) config.Config {
	t.Helper()
	return streamConfigOn(t, testenv.Kafka(t), partitions)
}

// streamConfigOn is streamConfigN on another broker (a private one).
func streamConfigOn(t *testing.T, broker string, partitions int) config.Config {
	return testenv.PipelineConfig(t, broker, partitions)
}

var streamQueries = []indicator.Query{
	{Window: indicator.WindowDay, GroupBy: []string{"center_id"}},
	{Window: indicator.WindowHour, GroupBy: []string{"center_id", "queue"}},
	{Window: indicator.WindowMonth, GroupBy: []string{"department_id"}},
	{Window: indicator.Window15m, GroupBy: []string{"agent_id"}},
	{Window: indicator.WindowDay, GroupBy: []string{"team"}},
	{Window: indicator.WindowDay, GroupBy: []string{"center_id", "topic_l1"}},
}

// assertStreamEqualsCompute reads the stored aggregates back and compares
// them, for several queries, with compute over the same lines. It returns
// what it read.
func assertStreamEqualsCompute(t *testing.T, cfg config.Config, sc streamScenario) *stored.Aggregates {
	t.Helper()
	// A bound against a hang, not a speed test: on a busy two-core machine
	// the queries of a four-day scenario have taken over three minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stored, err := chstore.NewReader(conn, cfg.ClickHouse.Database).ReadStored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := cfg.ProfileSet()
	if err != nil {
		t.Fatal(err)
	}
	var qa qaCompared
	agentRows := 0               // the agents' time signed in, compared
	var repeatC, repeatT float64 // repeat calls and requests, compared
	// The files are decoded and evaluated once, at the finest grain, for
	// every query (the first query also through compute.Run at its own
	// grain, the command's path): under the race detector each pass over a
	// large scenario costs minutes.
	ps, err := indicator.NewProfiles(set)
	if err != nil {
		t.Fatal(err)
	}
	batch := indicator.NewSharded(ps, indicator.Finest(), runtime.GOMAXPROCS(0))
	asOf, err := compute.Feed(ctx, batch, []string{sc.file}, 0, sc.asOf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range streamQueries {
		want := &compute.Output{AsOf: compute.FormatTime(asOf, set.Default.Location()), Events: batch.Counts(), Results: batch.Results(q)}
		if i == 0 {
			run, err := compute.Run(ctx, compute.Options{Files: []string{sc.file}, Profiles: set, Query: q, AsOf: sc.asOf})
			if err != nil {
				t.Fatal(err)
			}
			if run.AsOf != want.AsOf || !reflect.DeepEqual(run.Results, want.Results) {
				t.Errorf("%+v: compute at the query's grain differs from the finest grain: %s", q, firstDiff(run.Results, want.Results))
			}
		}
		got, err := compute.FromStore(ctx, stored, set, q, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got.AsOf != want.AsOf || got.Events.Accepted != want.Events.Accepted {
			t.Errorf("%+v: as_of %s, events %d; compute: %s, %d", q, got.AsOf, got.Events.Accepted, want.AsOf, want.Events.Accepted)
		}
		if !reflect.DeepEqual(got.Results, want.Results) {
			t.Errorf("%+v: streaming gives %d results, compute %d; first difference: %s", q, len(got.Results), len(want.Results), firstDiff(got.Results, want.Results))
		}
		qa.add(want.Results)
		for _, r := range want.Results {
			if r.Indicator == "agent_online_seconds" && r.Value > 0 {
				agentRows++
			}
			if q.Window == indicator.WindowDay && len(q.GroupBy) == 1 && r.Numerator != nil {
				switch r.Indicator {
				case "repeat_call_rate":
					repeatC += *r.Numerator
				case "repeat_request_rate":
					repeatT += *r.Numerator
				}
			}
		}
	}
	qa.check(t, sc.span)
	// Callers who call again, on calls keyed by call id: their calls are
	// on different partitions (and instances), and the store's repeats
	// must be compute's.
	t.Logf("repeat calls %v, repeat requests %v compared", repeatC, repeatT)
	if repeatC == 0 || repeatT == 0 {
		t.Error("no repeat call or request in the comparison: the look-back across partitions was not compared")
	}
	if len(sc.agents) > 0 && agentRows == 0 {
		t.Error("no agent in the comparison: the simulated agents' events were not compared")
	}
	assertReportsEqual(t, conn, cfg, sc)
	return stored
}

// qaCompared checks that the comparison covered quality inspection:
// evaluations, which come hours to days after their call (so, in the
// stream, mostly after it left memory: read back from the store), and
// reviews, as the simulator makes them, in scenarios long enough for them.
// Queries by department hold the tickets' only (calls have no department),
// so the check is over all the queries.
type qaCompared struct{ evaluated, reviews float64 }

func (c *qaCompared) add(rs []indicator.Result) {
	for _, r := range rs {
		switch r.Indicator {
		case "call_qa_pass_rate", "ticket_qa_pass_rate":
			c.evaluated += *r.Denominator
		case "qa_reviews":
			c.reviews += r.Value
		}
	}
}

func (c *qaCompared) check(t *testing.T, span time.Duration) {
	t.Helper()
	if span >= 24*time.Hour && c.evaluated == 0 || span >= 48*time.Hour && c.reviews == 0 {
		t.Errorf("the comparisons held %v evaluated calls and tickets and %v reviews, too few for a %v scenario", c.evaluated, c.reviews, span)
	}
}

// assertReportsEqual builds the monthly report from the store and from the
// files: the same numbers either way.
func assertReportsEqual(t *testing.T, conn driver.Conn, cfg config.Config, sc streamScenario) {
	t.Helper()
	ctx := context.Background()
	set, err := cfg.ProfileSet()
	if err != nil {
		t.Fatal(err)
	}
	p := set.Default // of c12345
	fromStore, err := report.FromStore(ctx, chstore.NewReader(conn, cfg.ClickHouse.Database), set, time.Time{}, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	fromFiles, err := report.FromFiles(ctx, report.FileOptions{Files: []string{sc.file}, Profiles: set, AsOf: sc.asOf})
	if err != nil {
		t.Fatal(err)
	}
	a, err := report.Build(fromStore, p, "2026-10", "c12345")
	if err != nil {
		t.Fatal(err)
	}
	b, err := report.Build(fromFiles, p, "2026-10", "c12345")
	if err != nil {
		t.Fatal(err)
	}
	if a.AsOf != b.AsOf || a.Events.Accepted != b.Events.Accepted {
		t.Errorf("report basis differs: %s %d vs %s %d", a.AsOf, a.Events.Accepted, b.AsOf, b.Events.Accepted)
	}
	for _, part := range []struct {
		name string
		a, b any
	}{{"overall", a.Overall, b.Overall}, {"departments", a.Depts, b.Depts}, {"late tickets", a.Late, b.Late}, {"daily", a.Daily, b.Daily},
		{"质检 teams", a.QATeams, b.QATeams}, {"质检 agents", a.QAAgents, b.QAAgents}, {"质检 reviews", a.Reviews, b.Reviews}} {
		if !reflect.DeepEqual(part.a, part.b) {
			t.Errorf("report %s differs between ClickHouse and the files", part.name)
		}
	}
	if len(a.Depts) == 0 || len(a.Late) == 0 {
		t.Errorf("report too thin to compare: %d departments, %d late tickets", len(a.Depts), len(a.Late))
	}
	assertAssessmentsEqual(ctx, t, conn, set, cfg, sc, fromStore, fromFiles)
}

// assertAssessmentsEqual runs the self-assessment and the records audit on
// the store and on the files: the same requirements, hours and defects.
// Conflicting duplicates are the exception: the raw tables keep the winner
// of a conflict only, so the store's audit cannot count them.
func assertAssessmentsEqual(ctx context.Context, t *testing.T, conn driver.Conn, set *profile.Set, cfg config.Config, sc streamScenario, fromStore, fromFiles report.Source) {
	t.Helper()
	p := set.For("c12345")
	asOf := time.UnixMilli(fromStore.AsOf())
	scope := compute.AuditScope{From: "2026-10", To: "2026-10", Examples: -1}
	storeAudit, err := compute.AuditStore(ctx, chstore.NewReader(conn, cfg.ClickHouse.Database), set, scope, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	fileAudit, err := compute.Audit(ctx, compute.Options{Files: []string{sc.file}, Profiles: set, AsOf: asOf}, scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	withoutConflicts := func(cs []compute.AuditClass) []compute.AuditClass {
		var out []compute.AuditClass
		for _, c := range cs {
			if c.Class != "conflicting_duplicates" {
				out = append(out, c)
			}
		}
		return out
	}
	if a, b := withoutConflicts(storeAudit.Classes), withoutConflicts(fileAudit.Classes); !reflect.DeepEqual(a, b) || len(a) == 0 {
		t.Errorf("records audit: store %+v\nfiles %+v", a, b)
	}
	var as [2]*assess.Assessment
	for i, src := range []report.Source{fromStore, fromFiles} {
		if as[i], err = assess.Evaluate(src, p, nil, "c12345", "2026-10", "2026-10", true); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(as[0].Rows, as[1].Rows) || !reflect.DeepEqual(as[0].Service, as[1].Service) {
		t.Errorf("assessment differs between ClickHouse and the files")
	}
	if as[0].Service.Hours == 0 || as[0].Count(assess.NoData) == len(as[0].Rows) {
		t.Errorf("assessment too thin to compare: %+v", as[0].Rows)
	}
}

func firstDiff(a, b []indicator.Result) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("\n got %+v %v %v %v\nwant %+v %v %v %v", a[i], deref(a[i].Numerator), deref(a[i].Denominator), a[i].Value,
				b[i], deref(b[i].Numerator), deref(b[i].Denominator), b[i].Value)
		}
	}
	return "(one is a prefix of the other)"
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// Streaming results equal compute on the same events, duplicates, shuffles
// and bad lines included.
func TestStreamingEqualsCompute(t *testing.T) {
	cfg := streamConfig(t)
	sc := newStreamScenario(t, 30*time.Hour, 5)
	streamAndCompare(t, cfg, sc)
}

// With profiles by centre (indicators.md v1.1, decision 17), each centre's
// stored figures follow its own profile and still equal compute given the
// same profiles: the second centre evaluates in UTC, answers within 20 s,
// resolves in 3 working days and has other targets.
func TestStreamingEqualsComputeProfilesByCenter(t *testing.T) {
	cfg := streamConfig(t)
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte(`base: gbt33358-2016
id: other-centre
timezone: UTC
calls:
  service_level: {threshold_seconds: 20, denominator: offered}
deadlines:
  resolve: {normal: 3wd, urgent: 24h}
targets:
  answer_rate: {op: ">=", value: 0.9}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Profiles.ByCenter = map[string]string{"c12346": other}
	sc := newStreamScenarioN(t, 2, 30*time.Hour, 6)
	stored := streamAndCompare(t, cfg, sc)

	// The stored figures are those of each centre's profile: c12345's are
	// what the default gives, c12346's are not.
	ctx := context.Background()
	set, err := cfg.ProfileSet()
	if err != nil {
		t.Fatal(err)
	}
	q := indicator.Query{Window: indicator.WindowMonth, GroupBy: []string{"center_id"}}
	got, err := compute.FromStore(ctx, stored, set, q, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	allDefault, err := compute.Run(ctx, compute.Options{Files: []string{sc.file}, Profiles: profile.Single(profile.Default()), Query: q, AsOf: sc.asOf})
	if err != nil {
		t.Fatal(err)
	}
	of := func(rs []indicator.Result, center, ind string) *indicator.Result {
		for i := range rs {
			if rs[i].Dims["center_id"] == center && rs[i].Indicator == ind {
				return &rs[i]
			}
		}
		t.Fatalf("no %s of %s", ind, center)
		return nil
	}
	for _, ind := range []string{"answered_within_15s_rate", "on_time_closure_rate", "answer_rate"} {
		a, b := of(got.Results, "c12345", ind), of(allDefault.Results, "c12345", ind)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("c12345 %s: %v, the default profile gives %v", ind, a.Value, b.Value)
		}
		a, b = of(got.Results, "c12346", ind), of(allDefault.Results, "c12346", ind)
		if reflect.DeepEqual(a, b) {
			t.Errorf("c12346 %s: %v %v, as under the default profile", ind, a.Value, a.Target)
		}
	}
}

// streamAndCompare streams a scenario through `run` into the store and
// compares what it stored with compute, the reports and the commands; it
// returns the stored aggregates.
func streamAndCompare(t *testing.T, cfg config.Config, sc streamScenario) *stored.Aggregates {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Calls, sc.calls)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Tickets, sc.tickets)
	produce(ctx, t, cfg.Kafka.Brokers[0], cfg.Kafka.Topics.Agents, sc.agents)
	t.Logf("produced %d call, %d ticket and %d agent messages", len(sc.calls), len(sc.tickets), len(sc.agents))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- app.Run(runCtx, cfg, ln, app.NewRegistry(), quiet(), app.WithClock(func() time.Time { return sc.asOf }))
	}()
	waitFor(t, done, 6*time.Minute, func() bool { return committed(ctx, t, cfg.Kafka) })
	t.Logf("consumed and committed in %s", time.Since(start).Round(time.Millisecond))
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	stored := assertStreamEqualsCompute(t, cfg, sc)

	// The commands a centre runs on the store.
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", cfg.ClickHouse.Username, cfg.ClickHouse.Addr[0], cfg.ClickHouse.Database)
	out := t.TempDir()
	var profiles []string
	for c, f := range cfg.Profiles.ByCenter {
		profiles = append(profiles, "--profile-for", c+"="+f)
	}
	for _, args := range [][]string{
		{"assess", "--clickhouse", dsn, "--from", "2026-10", "--to", "2026-10", "--out", out},
		{"audit", "--clickhouse", dsn, "--month", "2026-10", "--as-of", sc.asOf.Format(time.RFC3339)},
	} {
		args = append(args, profiles...)
		b, err := exec.Command(binary(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("hotlineqc %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		if args[0] == "audit" && !strings.Contains(string(b), "记录完整性核查") {
			t.Errorf("audit output:\n%s", b)
		}
	}
	for _, f := range []string{"c12345-2026-10_2026-10-assessment.xlsx", "c12345-2026-10_2026-10-assessment.html", "c12345-2026-10_2026-10-assessment-conformity.csv"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() < 1000 {
			t.Errorf("assess wrote no %s: %v", f, err)
		}
	}
	return stored
}

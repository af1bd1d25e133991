package chstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/chstore"
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/stored"
	"github.com/hotlineqc/hotlineqc/internal/testenv"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// Agents on the real server: raw agent events round-trip every field; the
// rows of an agent's days are read back as cells with their team, as known
// agents (the latest day's open flag), and LoadAgents returns the latest
// day before the one asked, its carry and the events since.
func TestAgentRoundTripOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	day := func(d int) int64 { return time.Date(2026, 10, d, 0, 0, 0, 0, shanghai).UnixMilli() }
	rec := func(id string, typ event.Type, ts int64, f func(*event.Event)) event.Record {
		e := event.Event{ID: id, Type: typ, TS: ts, CenterID: "c1", AgentID: "a7", V: 1}
		if f != nil {
			f(&e)
		}
		return event.Record{Event: e, Origin: event.Origin{Topic: "agents", Partition: 2, Offset: int64(len(id))}}
	}
	recs := []event.Record{
		rec("x1", event.AgentLoggedIn, day(11)+20*3600_000, func(e *event.Event) {
			e.State, e.Team, e.Queues = event.AgentReady, "night", []string{"general", "tax"}
		}),
		rec("x2", event.AgentStateChanged, day(12)+3600_000, func(e *event.Event) { e.State, e.Reason = event.AgentNotReady, "meal" }),
		rec("x3", event.AgentLoggedOut, day(12)+8*3600_000, nil),
	}
	if err := chstore.NewRawWriter(conn, cfg.Database).WriteRaw(ctx, append(recs, recs[0])); err != nil {
		t.Fatal(err)
	}
	row := func(d int, events int, open bool, c indicator.AgentCarry, contribs ...indicator.Contribution) stored.StateRow {
		return stored.StateRow{EntityState: indicator.EntityState{Agent: true, CenterID: "c1", ID: "a7", Day: day(d), Events: events,
			Volatile: open, Carry: c, Contribs: contribs}, Version: stored.Version(events, day(13)), AsOf: day(13), Topic: "agents", Partition: 2}
	}
	c11 := indicator.Contribution{Indicator: "agent_online_seconds", Bucket: day(11) + 20*3600_000, Dims: []string{"c1", "a7", "night"}, Num: 900_000}
	c12 := indicator.Contribution{Indicator: "agent_online_seconds", Bucket: day(12) + 3600_000, Dims: []string{"c1", "a7", "night"}, Num: 900_000}
	carry12 := indicator.AgentCarry{Open: true, State: "ready", Team: "night", LastTS: day(11) + 20*3600_000}
	w := chstore.NewStateWriter(conn, cfg)
	if err := w.WriteStates(ctx, []stored.StateRow{row(11, 1, true, indicator.AgentCarry{}, c11), row(12, 2, false, carry12, c12)}); err != nil {
		t.Fatal(err)
	}
	r := chstore.NewReader(conn, cfg.Database)

	known := map[string]bool{}
	if err := r.KnownAgents(ctx, "agents", []int32{2}, func(p int32, center, id string, open bool) {
		known[center+"/"+id] = open
	}); err != nil {
		t.Fatal(err)
	}
	if len(known) != 1 || known["c1/a7"] {
		t.Errorf("known agents %v, want c1/a7, its latest day (10-12) closed", known)
	}

	got, err := r.LoadAgents(ctx, []stored.AgentLoad{{CenterID: "c1", ID: "a7", Before: day(13)}, {CenterID: "c1", ID: "a7x", Before: day(13)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a7" || got[0].FromDay != day(12) || got[0].Carry != carry12 || got[0].Partition != 2 {
		t.Fatalf("loaded %+v", got)
	}
	ids := []string{}
	for _, e := range got[0].Events {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"x2", "x3"}) {
		t.Errorf("events since 10-12: %v", ids)
	}
	if got[1].FromDay != indicator.MinDay || len(got[1].Events) != 0 {
		t.Errorf("unknown agent: %+v", got[1])
	}
	got, err = r.LoadAgents(ctx, []stored.AgentLoad{{CenterID: "c1", ID: "a7", Before: day(12)}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].FromDay != day(11) || len(got[0].Events) < 3 {
		t.Fatalf("from 10-11: %+v", got[0])
	}
	for _, e := range got[0].Events {
		if e.ID == "x1" && (e.Team != "night" || !slices.Equal(e.Queues, []string{"general", "tax"}) || e.State != event.AgentReady) {
			t.Errorf("x1 read back as %+v", e.Event)
		}
		if e.ID == "x2" && (e.Reason != "meal" || e.State != event.AgentNotReady) {
			t.Errorf("x2 read back as %+v", e.Event)
		}
	}

	st, err := r.ReadStored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cells []indicator.Cell
	for _, c := range st.Cells {
		if c.Entity == profile.Agents {
			cells = append(cells, c)
		}
	}
	if len(cells) != 2 || cells[0].Num != 900_000 || !slices.Equal(cells[0].Dims, []string{"c1", "a7", "night"}) || st.Events != 3 {
		t.Errorf("stored agent cells %+v, events %d", cells, st.Events)
	}
}

// StaffingCells reads the latest state of the calls changed since a time
// (a call's older version is not counted twice) and the agents' staffed
// time, by bucket: what the live staffing gauges are computed from.
func TestStaffingCellsOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) int64 { return time.Date(2026, 10, 12, h, m, 0, 0, shanghai).UnixMilli() }
	call := func(id string, events int, contribs ...indicator.Contribution) stored.StateRow {
		return stored.StateRow{EntityState: indicator.EntityState{CenterID: "c1", ID: id, Events: events, Contribs: contribs},
			Version: stored.Version(events, at(12, 0)), AsOf: at(12, 0), Topic: "calls"}
	}
	dims := []string{"c1", "q", "voice", "", ""}
	offered := func(b int64) indicator.Contribution {
		return indicator.Contribution{Indicator: "calls_offered", Bucket: b, Dims: dims, Num: 1}
	}
	aht := indicator.Contribution{Indicator: "aht_seconds", Bucket: at(9, 0), Dims: dims, Num: 200_000, Den: 1}
	staffed := indicator.Contribution{Indicator: "agents_staffed", Bucket: at(9, 0), Dims: []string{"c1", "a1", "t"}, Num: 900_000}
	w := chstore.NewStateWriter(conn, cfg)
	rows := []stored.StateRow{call("k1", 1, offered(at(9, 0))), call("k1", 3, offered(at(9, 0)), aht), call("k2", 1, offered(at(9, 15))),
		{EntityState: indicator.EntityState{Agent: true, CenterID: "c1", ID: "a1", Day: at(0, 0), Events: 2, Contribs: []indicator.Contribution{staffed}},
			Version: 1, AsOf: at(12, 0), Topic: "agents"}}
	if err := w.WriteStates(ctx, rows); err != nil {
		t.Fatal(err)
	}
	cells, err := chstore.NewReader(conn, cfg.Database).StaffingCells(ctx, time.Now().Add(-time.Hour), at(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]int64{}
	for _, c := range cells {
		sum[c.Indicator] += c.Num
	}
	if sum["calls_offered"] != 2 || sum["aht_seconds"] != 200_000 || sum["agents_staffed"] != 900_000 {
		t.Errorf("cells %+v", sum)
	}
}

// NeedsSince reads the latest state of the calls and tickets changed since
// an instant: contacts with a caller (a call's older version, without its
// caller yet, not counted), tickets by topic, area and bucket, and each
// centre's first call or ticket; the state round trip keeps the caller
// hash, arrival, topic and area (migration 8).
func TestNeedsSinceOnRealServer(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := chstore.Migrate(ctx, conn, cfg, quiet); err != nil {
		t.Fatal(err)
	}
	at := func(d, h int) int64 { return time.Date(2026, 10, d, h, 0, 0, 0, shanghai).UnixMilli() }
	row := func(ticket bool, id string, events int, f func(*indicator.EntityState)) stored.StateRow {
		r := stored.StateRow{EntityState: indicator.EntityState{Ticket: ticket, CenterID: "c1", ID: id, Events: events},
			Version: stored.Version(events, at(12, 12)), AsOf: at(12, 12), Topic: "t"}
		f(&r.EntityState)
		return r
	}
	w := chstore.NewStateWriter(conn, cfg)
	rows := []stored.StateRow{
		row(false, "k1", 1, func(s *indicator.EntityState) { s.Call.Queue = "general" }),
		row(false, "k1", 2, func(s *indicator.EntityState) {
			s.Call = indicator.CallFacts{Queue: "general", Channel: "voice", CallerHash: "h1", ArrivedTS: at(12, 9)}
		}),
		row(false, "k0", 1, func(s *indicator.EntityState) {
			s.Call = indicator.CallFacts{Queue: "general", Channel: "voice", CallerHash: "h1", ArrivedTS: at(1, 9)}
		}),
		row(true, "t1", 1, func(s *indicator.EntityState) {
			s.Tick = indicator.TicketFacts{CreatedTS: at(12, 10), CallerHash: "h1", Topic: "010101", Area: "东城区"}
		}),
		row(true, "t2", 1, func(s *indicator.EntityState) {
			s.Tick = indicator.TicketFacts{CreatedTS: at(12, 10) + 60_000, Topic: "010101", Area: "东城区"}
		}),
	}
	if err := w.WriteStates(ctx, rows); err != nil {
		t.Fatal(err)
	}
	got, err := chstore.NewReader(conn, cfg.Database).NeedsSince(ctx, at(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Contacts) != 1 || got.Contacts[0].Caller != "h1" || got.Contacts[0].TS != at(12, 9) || got.Contacts[0].Dims[1] != "general" {
		t.Errorf("contacts %+v, want k1's only (k0 arrived before)", got.Contacts)
	}
	if len(got.Cells) != 1 || got.Cells[0].Num != 2 || got.Cells[0].Dims[7] != "010101" || got.Cells[0].Dims[8] != "东城区" || got.Cells[0].Bucket != at(12, 10) {
		t.Errorf("cells %+v, want 2 tickets of 010101 at 10:00", got.Cells)
	}
	if got.First["c1"] != at(1, 9) {
		t.Errorf("first %v, want k0's arrival", got.First)
	}
	st, err := chstore.NewReader(conn, cfg.Database).ReadStored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range st.Contacts {
		if c.Ticket && (c.Caller != "h1" || c.Topic != "010101" || c.Dims[8] != "东城区") || !c.Ticket && c.Caller != "h1" {
			t.Errorf("stored contact %+v", c)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d stored contacts, want k0, k1 and t1", n)
	}
}

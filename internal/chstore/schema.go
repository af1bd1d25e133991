package chstore

import (
	"fmt"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/event"
)

// Table names of the raw events.
const (
	RawCallTable   = "raw_call_events"
	RawTicketTable = "raw_ticket_events"
	RawAgentTable  = "raw_agent_events" // revision 1.2
)

// ddl renders DDL for one database, time zone and feature set, on one
// server or on a cluster.
type ddl struct {
	db       string
	tz       string
	f        Features
	retainDs int
	cluster  string
}

// table is what a table needs, whatever the deployment.
type table struct {
	name    string
	cols    []string
	engine  string // e.g. "ReplacingMergeTree", without parameters
	params  string // the engine's parameters, e.g. "version"
	suffix  string // PARTITION BY, ORDER BY, TTL clauses
	shardBy string // sharding expression on a cluster: one entity, one shard
}

// create renders a table. On one server: the table itself. On a cluster:
// a Replicated table <name>_local on every node, and a Distributed table
// <name> over it that the pipeline writes to and reads from.
func (d ddl) create(t table) []string {
	cols := "(\n    " + strings.Join(t.cols, ",\n    ") + "\n)"
	if d.cluster == "" {
		return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s %s ENGINE = %s(%s)\n%s",
			d.db, t.name, cols, t.engine, t.params, t.suffix)}
	}
	params := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", d.db, t.name)
	if t.params != "" {
		params += ", " + t.params
	}
	local := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s_local ON CLUSTER %s %s ENGINE = Replicated%s(%s)\n%s",
		d.db, t.name, d.cluster, cols, t.engine, params, t.suffix)
	return []string{local, d.distributed(t.name, t.shardBy)}
}

// distributed renders the Distributed table name over name_local.
func (d ddl) distributed(name, shardBy string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s_local ENGINE = Distributed(%s, %s, %s_local, %s)",
		d.db, name, d.cluster, d.db, name, d.cluster, d.db, name, shardBy)
}

// onCluster is the ON CLUSTER clause of database-wide statements.
func (d ddl) onCluster() string {
	if d.cluster == "" {
		return ""
	}
	return " ON CLUSTER " + d.cluster
}

// dim is the column type of a bounded dimension (centre, queue, category...).
func (d ddl) dim() string {
	if d.f.LowCardinality {
		return "LowCardinality(String)"
	}
	return "String"
}

// codec returns a column codec clause, or "" on servers without codecs.
func (d ddl) codec(c string) string {
	if d.f.Codecs {
		return " CODEC(" + c + ")"
	}
	return ""
}

func (d ddl) ttl() string {
	if d.f.TTL && d.retainDs > 0 {
		return fmt.Sprintf("\nTTL ts + INTERVAL %d DAY", d.retainDs)
	}
	return ""
}

func (d ddl) dateTime() string { return fmt.Sprintf("DateTime('%s')", d.tz) }

// typeEnum is an Enum8 of the event types accepted by is.
func typeEnum(is func(event.Type) bool) string {
	var parts []string
	for _, t := range event.Types() {
		if is(t) {
			parts = append(parts, fmt.Sprintf("'%s' = %d", t, uint8(t)))
		}
	}
	return "Enum8(" + strings.Join(parts, ", ") + ")"
}

// RawGranularity is the raw tables' index granularity: rows per granule,
// the least ClickHouse reads of every column to find one entity's events.
// A call or ticket read back (LoadEvents) has a handful of events; at
// ClickHouse's default of 8,192 each read-back read 8,192 rows of every
// column per part. bench/readback.sh (2 M call events, merged, 200
// queries of 100 calls): 3.9 times fewer rows read and 43 % less of the
// server's CPU than at 8,192; the same on freshly written parts, where the
// ids of one query touch every granule of their centre either way. The
// primary index in memory grows eightfold (132 KiB per 2 M events).
const RawGranularity = 1024

// rawTable renders a raw-event table: the envelope, the type's own columns,
// then provenance. Replaying a message inserts the same event_id again;
// ReplacingMergeTree keyed by it keeps one row (read with FINAL).
func (d ddl) rawTable(name, idCol string, is func(event.Type) bool, own []string) []string {
	cols := []string{
		"event_id String",
		"type " + typeEnum(is),
		"ts " + d.dateTime() + d.codec("Delta, ZSTD"),
		"ts_ms Int64" + d.codec("Delta, ZSTD"),
		"center_id " + d.dim(),
		idCol + " String",
	}
	cols = append(cols, own...)
	cols = append(cols,
		"v UInt8",
		"attrs String"+d.codec("ZSTD"),
		"src_topic "+d.dim(),
		"src_partition Int32",
		"src_offset Int64",
		"ingested_at "+d.dateTime(),
	)
	return d.create(table{name: name, cols: cols, engine: "ReplacingMergeTree", params: "ingested_at",
		suffix: fmt.Sprintf("PARTITION BY toYYYYMM(ts)\nORDER BY (center_id, %s, event_id)%s\nSETTINGS index_granularity = %d",
			idCol, d.ttl(), RawGranularity),
		shardBy: "cityHash64(" + idCol + ")"})
}

func (d ddl) rawCallTable() []string {
	dim := d.dim()
	return d.rawTable(RawCallTable, "call_id", event.Type.IsCall, []string{
		"channel " + dim, "caller_hash String", "queue " + dim, "agent_id " + dim,
		"to_queue " + dim, "to_agent_id " + dim, "to_department_id " + dim,
		"ended_by " + dim, "rating " + dim,
	})
}

func (d ddl) rawTicketTable() []string {
	dim := d.dim()
	return d.rawTable(RawTicketTable, "ticket_id", event.Type.IsTicket, []string{
		"call_id String", "category " + dim, "urgency " + dim, "channel " + dim,
		"caller_hash String", "subject String", "department_id " + dim,
		"deadline_ms Int64", "time_limit " + dim, "reason String",
		"reached Nullable(UInt8)", "resolved Nullable(UInt8)", "rating " + dim,
	})
}

// Table names of the evaluated state of each call and ticket, and of each
// day of each agent.
const (
	CallStateTable   = "call_state"
	TicketStateTable = "ticket_state"
	AgentStateTable  = "agent_state" // revision 1.2
)

func (d ddl) rawAgentTable() []string {
	dim := d.dim()
	return d.rawTable(RawAgentTable, "agent_id", event.Type.IsAgent, []string{
		"state " + dim, "reason " + dim, "team " + dim, "queues Array(String)",
	})
}

// agentStateTable holds one row per agent and local day (day_ms, Unix ms
// of its start): the contributions of the spans its events start, with
// their team, and the agent's context before its first event (carry_*),
// from which the next days are evaluated when the agent is read back.
// open: a session was open at the evaluation (the agent is loaded when its
// partition is assigned, so that the session keeps growing or times out).
func (d ddl) agentStateTable() []string {
	dim := d.dim()
	cols := []string{
		"center_id " + dim,
		"agent_id String",
		"day_ms Int64",
		"version UInt64",
		"as_of_ms Int64",
		"updated_at " + d.dateTime(),
		"src_topic " + dim,
		"src_partition Int32",
		"events UInt32",
		"last_ts_ms Int64",
		"open UInt8",
		"carry_open UInt8",
		"carry_state " + dim,
		"carry_team " + dim,
		"carry_last_ms Int64",
		"c_ind Array(String)",
		"c_bucket Array(" + d.dateTime() + ")",
		"c_team Array(String)",
		"c_num Array(Int64)",
		"c_den Array(Int64)",
	}
	return d.create(table{name: AgentStateTable, cols: cols, engine: "ReplacingMergeTree", params: "version",
		suffix: "ORDER BY (center_id, agent_id, day_ms)", shardBy: "cityHash64(agent_id)"})
}

// stateTable renders a state table: one row per call or ticket, the latest
// version winning (ReplacingMergeTree). A row holds the entity's facts and
// its contributions to the aggregates as parallel arrays, so that the
// aggregates are exact sums over the latest rows (read with FINAL and
// ARRAY JOIN) and a changed entity replaces all its contributions at once.
func (d ddl) stateTable(name, idCol string, facts []string, perContribution []string) []string {
	cols := []string{
		"center_id " + d.dim(),
		idCol + " String",
		"version UInt64",
		"as_of_ms Int64",
		"updated_at " + d.dateTime(),
		"src_topic " + d.dim(),
		"src_partition Int32",
		"events UInt32",
		"last_ts_ms Int64",
	}
	cols = append(cols, facts...)
	cols = append(cols, "c_ind Array(String)", "c_bucket Array("+d.dateTime()+")")
	cols = append(cols, perContribution...)
	cols = append(cols, "c_num Array(Int64)", "c_den Array(Int64)")
	return d.create(table{name: name, cols: cols, engine: "ReplacingMergeTree", params: "version",
		suffix: "ORDER BY (center_id, " + idCol + ")", shardBy: "cityHash64(" + idCol + ")"})
}

func (d ddl) callStateTable() []string {
	dim := d.dim()
	return d.stateTable(CallStateTable, "call_id", []string{
		"queue " + dim, "channel " + dim, "agent_id " + dim,
		"offered UInt8", "answered UInt8", "abandoned UInt8",
		"offer_ts_ms Int64", "wait_ms Int64", "talk_ms Int64", "handle_ms Int64", "rating " + dim,
	}, nil)
}

func (d ddl) ticketStateTable() []string {
	dim := d.dim()
	return d.stateTable(TicketStateTable, "ticket_id", []string{
		"category " + dim, "channel " + dim, "urgency " + dim,
		"created_ms Int64", "first_dispatch_ms Int64", "due_ms Int64", "reply_ms Int64", "close_ms Int64",
		"holder_department " + dim, "dispatches UInt16", "reopened UInt8",
		"wake_ms Int64", "volatile UInt8",
	}, []string{"c_department Array(String)"})
}

// Migration is one versioned schema step. Its statements are idempotent,
// so a migration interrupted half way is simply run again.
type Migration struct {
	Version int
	Name    string
	ddl     func(ddl) []string
}

// Migrations lists every schema step in order. Append only: a released
// migration never changes.
var Migrations = []Migration{
	{1, "raw event tables", func(d ddl) []string {
		return append(d.rawCallTable(), d.rawTicketTable()...)
	}},
	{2, "call and ticket state", func(d ddl) []string {
		return append(d.callStateTable(), d.ticketStateTable()...)
	}},
	{3, "tamper evidence: day digests, seal intents and late arrivals", func(d ddl) []string {
		return append(append(d.digestTable(), d.intentTable()...), d.markTable()...)
	}},
	{4, "team of call.answered", func(d ddl) []string {
		col := "team " + d.dim() + " DEFAULT ''"
		return append(d.addColumn(RawCallTable, "cityHash64(call_id)", col, "rating"),
			d.addColumn(CallStateTable, "cityHash64(call_id)", col, "rating")...)
	}},
	{5, "daily aggregates: contributions by day, their sums by centre and day; the open-ticket backlog", func(d ddl) []string {
		return append(append(append(d.contribDaysTable(), d.dailyTable()...), d.backfillDays()...), d.backlogTable()...)
	}},
	{6, "quality inspection (revision 1.2): call.evaluated and ticket.evaluated in the raw tables", func(d ddl) []string {
		var out []string
		for _, t := range []struct{ name, id, after string }{{RawCallTable, "call_id", "team"}, {RawTicketTable, "ticket_id", "rating"}} {
			is := event.Type.IsCall
			if t.name == RawTicketTable {
				is = event.Type.IsTicket
			}
			shardBy := "cityHash64(" + t.id + ")"
			// Enum values only added: a metadata change, the stored codes stay.
			out = append(out, d.alter(t.name, shardBy, "MODIFY COLUMN type "+typeEnum(is))...)
			after := t.after
			for _, col := range []string{"evaluation_id String DEFAULT ''", "form " + d.dim() + " DEFAULT ''",
				"score Float64 DEFAULT 0", "max_score Float64 DEFAULT 0", "passed Nullable(UInt8)", "auto_fail Nullable(UInt8)",
				"evaluator " + d.dim() + " DEFAULT ''"} {
				out = append(out, d.alter(t.name, shardBy, "ADD COLUMN "+col+" AFTER "+after)...)
				after = strings.Fields(col)[0]
			}
		}
		return out
	}},
	{7, "agents (revision 1.2): raw agent events and the state of each agent's day", func(d ddl) []string {
		return append(d.rawAgentTable(), d.agentStateTable()...)
	}},
	{8, "citizen needs (revision 1.2): topic and area of ticket.created; the caller's keyed hash of calls and tickets, the arrival, topic and area in their state", func(d ddl) []string {
		var out []string
		add := func(table, id, after string, cols ...string) {
			for _, col := range cols {
				out = append(out, d.addColumn(table, "cityHash64("+id+")", col, after)...)
				after = strings.Fields(col)[0]
			}
		}
		dim := d.dim()
		add(RawTicketTable, "ticket_id", "rating", "topic "+dim+" DEFAULT ''", "area "+dim+" DEFAULT ''")
		add(CallStateTable, "call_id", "team", "caller_hash String DEFAULT ''", "arrived_ms Int64 DEFAULT 0")
		add(TicketStateTable, "ticket_id", "volatile", "caller_hash String DEFAULT ''", "topic "+dim+" DEFAULT ''", "area "+dim+" DEFAULT ''")
		return out
	}},
}

// addColumn renders ALTER TABLE … ADD COLUMN col AFTER after. On a
// cluster the local tables are altered ON CLUSTER and the Distributed
// table (no data of its own; 18.16 refuses ALTER ON CLUSTER of a table
// that is not replicated when the shards replicate internally) is created
// again over them. 18.16 has no IF NOT EXISTS: apply takes "already
// exists" as done, so a migration stopped half way is run again.
func (d ddl) addColumn(name, shardBy, col, after string) []string {
	return d.alter(name, shardBy, "ADD COLUMN "+col+" AFTER "+after)
}

// alter renders ALTER TABLE … clause, on a cluster as addColumn says.
func (d ddl) alter(name, shardBy, clause string) []string {
	if d.cluster == "" {
		return []string{fmt.Sprintf("ALTER TABLE %s.%s %s", d.db, name, clause)}
	}
	return []string{
		fmt.Sprintf("ALTER TABLE %s.%s_local ON CLUSTER %s %s", d.db, name, d.cluster, clause),
		fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", d.db, name, d.cluster),
		d.distributed(name, shardBy),
	}
}

// Statements renders the DDL of m for a database, time zone and features;
// exported for review and tests (`hotlineqc migrate --print`).
func (m Migration) Statements(c Config, f Features) []string {
	return m.ddl(ddl{db: c.Database, tz: c.Timezone, f: f, retainDs: c.RawRetentionDays, cluster: c.Cluster})
}

// Package stored holds what the pipeline's stages hand to its stores and
// read back from them: the evaluated state of a call or ticket as a row,
// a count of open tickets, and the aggregates read back. Plain values, no
// I/O: the ClickHouse edge (chstore) and the in-memory store (memstore)
// both implement them, and the stages (livestate, ingest) and readers
// (compute, report, demo) use them without depending on either store.
package stored

import (
	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
)

// StateRow is one call's or ticket's evaluated state as stored.
type StateRow struct {
	indicator.EntityState
	// Version orders the rows of one entity: the row with the highest wins.
	Version   uint64
	AsOf      int64 // evaluation time, Unix ms
	Topic     string
	Partition int32
}

// Version orders evaluations of one entity: more events win, then a
// later evaluation. A replayed or concurrent evaluation that knows fewer
// events can never replace one that knows more.
func Version(events int, asOf int64) uint64 {
	return uint64(events)<<33 | uint64(asOf/1000)&(1<<33-1)
}

// Backlog is a count of the open tickets of some partitions of a topic,
// as of an evaluation time.
type Backlog struct {
	Topic      string
	AsOf       int64   // Unix ms
	Partitions []int32 // every partition counted, open tickets or not
	Rows       []BacklogRow
}

// BacklogRow is one partition's open tickets of one centre held by one
// department (awaiting dispatch: department empty).
type BacklogRow struct {
	Partition                              int32
	Center, Department                     string
	Open, Overdue, Due4h, Due24h, Awaiting int
}

// Aggregates is the evaluated state read back from a store: aggregate
// cells, what overdue_open needs, the evaluation time and the event count.
type Aggregates struct {
	Cells   []indicator.Cell
	Tickets []indicator.StoredTicket
	AsOf    int64 // latest evaluation time
	Events  int64 // distinct events behind the state
	// Contacts are the calls' arrivals and tickets' creations with a
	// caller, from which the repeat rates are derived.
	Contacts []indicator.Contact
}

// AgentLoad asks for an agent's stored days from the latest stored day
// before Before (Unix ms; a day's start), with the agent's carry there.
type AgentLoad struct {
	CenterID, ID string
	Before       int64
}

// LoadedAgent is what a store holds of an agent from a day on: the day
// (indicator.MinDay when the store holds no day before Before: then every
// stored event), the agent's carry before it, and the stored events since.
type LoadedAgent struct {
	CenterID, ID string
	Partition    int32
	FromDay      int64
	Carry        indicator.AgentCarry
	Events       []event.Record
}

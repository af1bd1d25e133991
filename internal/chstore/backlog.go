package chstore

import (
	"context"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/stored"
)

// BacklogTable holds the open tickets of each ticket partition, by centre
// and department, as its owner last counted them: what a panel of
// overdue tickets reads instead of every ticket's latest state.
const BacklogTable = "ticket_backlog"

// backlogTable renders ticket_backlog: one row per partition, centre and
// department of a count, and one marker row (centre and department empty)
// per partition and count, so that a partition whose tickets are all
// answered still has a count. A count's rows share its version (the
// evaluation time, Unix ms); readers take each partition's latest.
func (d ddl) backlogTable() []string {
	return d.create(table{name: BacklogTable, engine: "ReplacingMergeTree", params: "version", cols: []string{
		"src_topic " + d.dim(), "src_partition Int32", "center_id " + d.dim(), "department " + d.dim(),
		"version UInt64", "counted_at " + d.dateTime(),
		"open UInt32", "overdue UInt32", "due_4h UInt32", "due_24h UInt32", "awaiting UInt32",
	}, suffix: "ORDER BY (src_topic, src_partition, center_id, department)", shardBy: "cityHash64(src_topic, src_partition)"})
}

const backlogColumns = "src_topic, src_partition, center_id, department, version, counted_at, open, overdue, due_4h, due_24h, awaiting"

// WriteBacklog stores a count; it returns once the server acknowledged it.
func (w *StateWriter) WriteBacklog(ctx context.Context, b *stored.Backlog) error {
	return w.backlog.insert(ctx, func() []any {
		var topic, center, dept []string
		var part []int32
		var version []uint64
		var at []time.Time
		var open, overdue, due4h, due24h, awaiting []uint32
		add := func(p int32, c, d string, n [5]int) {
			topic, part, center, dept = append(topic, b.Topic), append(part, p), append(center, c), append(dept, d)
			version, at = append(version, uint64(b.AsOf)), append(at, time.UnixMilli(b.AsOf))
			open, overdue, due4h = append(open, uint32(n[0])), append(overdue, uint32(n[1])), append(due4h, uint32(n[2]))
			due24h, awaiting = append(due24h, uint32(n[3])), append(awaiting, uint32(n[4]))
		}
		for _, p := range b.Partitions {
			add(p, "", "", [5]int{})
		}
		for _, r := range b.Rows {
			add(r.Partition, r.Center, r.Department, [5]int{r.Open, r.Overdue, r.Due4h, r.Due24h, r.Awaiting})
		}
		return []any{topic, part, center, dept, version, at, open, overdue, due4h, due24h, awaiting}
	})
}

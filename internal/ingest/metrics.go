package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/kafkaio"
)

// Metrics are the health metrics of the raw pipeline. Label values are
// bounded: topic names, partition numbers, rejection reasons, stage names.
type Metrics struct {
	consumed       *prometheus.CounterVec
	rejected       *prometheus.CounterVec
	deadLettered   prometheus.Counter
	written        *prometheus.CounterVec
	batchSize      prometheus.Histogram
	stageDuration  *prometheus.HistogramVec
	stageFailures  *prometheus.CounterVec
	commits        prometheus.Counter
	lag            *prometheus.GaugeVec
	lastCommitTime prometheus.Gauge
	assigned       prometheus.Gauge
	generations    prometheus.Counter
}

// NewMetrics registers the pipeline metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		consumed: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "messages_consumed_total",
			Help: "Kafka messages consumed, by topic.",
		}, []string{"topic"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "messages_rejected_total",
			Help: "Messages rejected by the event decoder, by topic and reason.",
		}, []string{"topic", "reason"}),
		deadLettered: f.NewCounter(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "dead_letters_written_total",
			Help: "Rejected messages durably written to the dead-letter topic.",
		}),
		written: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "events_written_total",
			Help: "Accepted events durably written to the ClickHouse raw tables, by kind (call, ticket).",
		}, []string{"kind"}),
		batchSize: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "batch_messages",
			Help:    "Messages per flushed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		stageDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "flush_stage_duration_seconds",
			Help:    "Duration of one successful stage: assign (load the state of owned partitions), apply (evaluate a batch, with reads of stored calls and tickets), dead_letter (Kafka), insert (raw events, ClickHouse), state (call and ticket state, ClickHouse), commit (Kafka offsets).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"stage"}),
		stageFailures: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "flush_stage_failures_total",
			Help: "Failed attempts of a flush stage (each retry counts), by stage.",
		}, []string{"stage"}),
		commits: f.NewCounter(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "offset_commits_total",
			Help: "Successful Kafka offset commits.",
		}),
		lag: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "kafka", Name: "consumer_lag_messages",
			Help: "Messages behind the partition end at the last fetch, by topic and partition.",
		}, []string{"topic", "partition"}),
		lastCommitTime: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "pipeline", Name: "last_commit_timestamp_seconds",
			Help: "Unix time of the last successful offset commit.",
		}),
	}
	m.assigned = f.NewGauge(prometheus.GaugeOpts{
		Namespace: "hotline", Subsystem: "kafka", Name: "partitions_assigned",
		Help: "Partitions of the call and ticket topics this process owns in the current consumer-group generation.",
	})
	m.generations = f.NewCounter(prometheus.CounterOpts{
		Namespace: "hotline", Subsystem: "kafka", Name: "generations_total",
		Help: "Consumer-group generations this process took part in (one per rebalance).",
	})
	for _, s := range []string{stageAssign, stageDeadLetter, stageInsert, stageApply, stageState, stageCommit} {
		m.stageFailures.WithLabelValues(s)
	}
	return m
}

// initTopics creates the zero series of each topic and reason, and of
// each flush stage's failures, so that rates, alerts and dashboards see
// them before the first event or failure.
func (m *Metrics) initTopics(topics ...string) {
	for _, t := range topics {
		m.consumed.WithLabelValues(t)
		for _, r := range event.Reasons() {
			m.rejected.WithLabelValues(t, string(r))
		}
	}
	m.written.WithLabelValues("call")
	m.written.WithLabelValues("ticket")
	for _, st := range []string{stageAssign, stageApply, stageDeadLetter, stageInsert, stageState, stageCommit} {
		m.stageFailures.WithLabelValues(st)
	}
}

// partition returns a partition's consumed counter and lag gauge, looked
// up once for all its messages.
func (m *Metrics) partition(p kafkaio.Partition) (consumed prometheus.Counter, lag prometheus.Gauge) {
	return m.consumed.WithLabelValues(p.Topic), m.lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition)))
}

// forget deletes the lag series of partitions this process no longer
// owns, so that it never reports lag for another owner's partition.
func (m *Metrics) forget(parts []kafkaio.Partition) {
	m.assigned.Set(0)
	for _, p := range parts {
		m.lag.DeleteLabelValues(p.Topic, strconv.Itoa(int(p.Partition)))
	}
}

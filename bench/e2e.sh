#!/usr/bin/env bash
# End-to-end ingest benchmark: the same simulated events, produced once to
# Kafka, read in turn by
#   (a) hotlineqc run: decode, dead letters, raw events, live state of every
#       call and ticket and the indicator metrics, commit after durable;
#   (b) ClickHouse's own Kafka engine with a materialized view into a raw
#       MergeTree table (what a user would pick instead),
# against one private ClickHouse started here (the Debian server's Kafka
# engine starts at the latest offset unless its config says smallest).
# Prints events/s of each and the ratio, and saves a CPU profile of (a).
#
#   deploy/dev/services.sh up && bench/e2e.sh [SPAN] [CENTRES]
#
# SPAN is simulated time (default 560h: about 2 M events with 5 centres).
# BENCH_ANALYSE=1 also prints what ClickHouse did for each table in (a)
# (inserts, parts written and merged, reads), from its query and part logs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SPAN=${1:-560h}
CENTRES=${2:-5}
TOPIC=bench$(date +%s)
BENCH_TOPICS=$TOPIC.calls,$TOPIC.tickets,$TOPIC.dlq
build "$ROOT/.cache/bench-e2e"
private_clickhouse

# ---- the events, produced once
log "producing $SPAN of $CENTRES simulated centres to $TOPIC.calls / $TOPIC.tickets"
"$BIN" simulate --kafka "$KAFKA" --topics "$TOPIC.calls,$TOPIC.tickets" --centers "$CENTRES" \
  --span "$SPAN" --start 2026-09-01T00:00:00+08:00 --seed 7 2>"$WORK/simulate.log"
cat "$WORK/simulate.log" >&2
N=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' "$WORK/simulate.log")

# ---- (a) hotlineqc run
log "(a) hotlineqc run"
run_until "$TOPIC" "$N"
analyse hq
A_STATES=$(( $(q "SELECT count() FROM hq.call_state FINAL") + $(q "SELECT count() FROM hq.ticket_state FINAL") ))

# ---- (b) the ClickHouse Kafka engine + materialized views
log "(b) ClickHouse Kafka engine"
q "CREATE DATABASE ke" >/dev/null
COLS="event_id String, type String, ts String, center_id String, call_id String, ticket_id String, queue String, agent_id String, channel String, category String, department_id String"
q "CREATE TABLE ke.raw (event_id String, type String, ts DateTime('Asia/Shanghai'), center_id String, call_id String, ticket_id String, queue String, agent_id String, channel String, category String, department_id String) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(ts) ORDER BY (center_id, call_id, ticket_id, event_id)"
START=$(now)
CH0=$(cpu $CH_PID)
for t in calls tickets; do
  q "CREATE TABLE ke.k_$t ($COLS) ENGINE = Kafka('$KAFKA', '$TOPIC.$t', '$TOPIC-ke-$t', 'JSONEachRow')"
  q "CREATE MATERIALIZED VIEW ke.mv_$t TO ke.raw AS SELECT event_id, type, parseDateTimeBestEffort(ts) AS ts, center_id, call_id, ticket_id, queue, agent_id, channel, category, department_id FROM ke.k_$t"
done
while (( $(q "SELECT count() FROM ke.raw") < N )); do sleep 0.1; done
B_SECS=$(since "$START")
B_CPU=$(delta "$CH0" "$(cpu $CH_PID)")

A_RATE=$(rate "$N" "$RUN_SECS"); B_RATE=$(rate "$N" "$B_SECS")
printf '\nevents: %d (%s, %d centres, 3 partitions per topic), machine: %s, %d cores\n' "$N" "$SPAN" "$CENTRES" "$(uname -m)" "$(nproc)"
printf '%-52s %8.1f s %10d events/s\n' "(a) hotlineqc run (raw + state + indicators), RSS ${RUN_RSS} MiB" "$RUN_SECS" "$A_RATE"
printf '%-52s %8.1f s %10d events/s\n' "(b) ClickHouse Kafka engine + MV (raw only)" "$B_SECS" "$B_RATE"
printf 'CPU: (a) hotlineqc %s s, ClickHouse %s s; (b) ClickHouse %s s\n' "$RUN_CPU" "$CH_RUN_CPU" "$B_CPU"
printf '(a) time in each stage (apply: the state stage; dead_letter, insert, state: the writer, overlapped): %s\n' "$STAGES"
printf 'CPU per event: (a) hotlineqc %s µs, + its ClickHouse inserts %s µs; (b) ClickHouse Kafka engine %s µs per row\n' \
  "$(per "$RUN_CPU" "$N")" "$(per "$(awk -v a="$RUN_CPU" -v c="$CH_RUN_CPU" 'BEGIN { print a + c }')" "$N")" "$(per "$B_CPU" "$N")"
printf 'CPU ratio to (b): hotlineqc %s× (target ≤ 2), hotlineqc + its ClickHouse %s× (target ≤ 3)\n' \
  "$(awk -v a="$RUN_CPU" -v b="$B_CPU" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$RUN_CPU" -v c="$CH_RUN_CPU" -v b="$B_CPU" 'BEGIN { printf "%.2f", (a + c) / b }')"
printf 'wall ratio a/b: %s×   (states stored: %s, read back: %s)\n' "$(awk -v a="$A_RATE" -v b="$B_RATE" 'BEGIN { printf "%.2f", a / b }')" "$A_STATES" "$LOADED"
printf 'CPU profile of (a): %s (go tool pprof -top %s %s)\n' "$WORK/cpu.pprof" "$BIN" "$WORK/cpu.pprof"

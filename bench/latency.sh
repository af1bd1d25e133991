#!/usr/bin/env bash
# Event → /metrics latency of `hotlineqc run` under a steady load: RATE
# generated events per second for DURATION, with a probe call every 100 ms
# whose offer must show in hotline_indicator_numerator_total. Target: p99
# below 1 s at 20,000 events/s.
#
#   deploy/dev/services.sh up && bench/latency.sh [RATE] [DURATION]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RATE=${1:-20000}
DURATION=${2:-60s}
TOPIC=latency$(date +%s)
BENCH_TOPICS=$TOPIC.calls,$TOPIC.tickets,$TOPIC.dlq
build "$ROOT/.cache/bench-latency"
private_clickhouse
(cd "$ROOT" && go build -o "$WORK/latency" ./bench/latency) # build made $WORK/produce
"$WORK/produce" -kafka "$KAFKA" -topics "$TOPIC.calls,$TOPIC.tickets" -partitions 6 /dev/null 2>/dev/null
start_run "$TOPIC"
log "steady load: $RATE events/s for $DURATION"
"$WORK/latency" -kafka "$KAFKA" -topics "$TOPIC.calls,$TOPIC.tickets" -metrics "http://$METRICS/metrics" \
  -rate "$RATE" -duration "$DURATION"
stop_run
printf 'hotlineqc run: CPU %s s over %s s (ClickHouse %s s), peak RSS %s MiB; stage times: %s\n' \
  "$RUN_CPU" "$RUN_SECS" "$CH_RUN_CPU" "$RUN_RSS" "$STAGES"

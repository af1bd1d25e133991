#!/usr/bin/env bash
# Backfill benchmark: a month of one large centre (by default about 1.5 M
# calls, 50,000 a day, and their tickets: 14 M events), produced to Kafka,
# then read by `hotlineqc run` with full state and indicators into a
# private ClickHouse. Prints the time, events/s, CPU and peak RSS.
#
#   deploy/dev/services.sh up && bench/backfill.sh [EVENTS]
#
# BACKFILL_TOPIC=T BACKFILL_EVENTS=N BACKFILL_CALLS=C reuse topics T.calls /
# T.tickets produced by an earlier run (N events, C calls).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-14000000}
TOPIC=${BACKFILL_TOPIC:-backfill$(date +%s)}
build "$ROOT/.cache/bench-backfill"
private_clickhouse

if [[ -n ${BACKFILL_TOPIC:-} ]]; then
  N=$BACKFILL_EVENTS CALLS=$BACKFILL_CALLS
else
log "generating $N events of one centre over a month"
(cd "$ROOT" && go run ./bench/gendata -n "$N" -centres 1 -o "$WORK/events.ndjson")
CALLS=$(grep -c '"type":"call.arrived"' "$WORK/events.ndjson")
N=$(wc -l <"$WORK/events.ndjson") # gendata ends with whole calls and tickets
log "producing them to $TOPIC.calls / $TOPIC.tickets (6 partitions)"
(cd "$ROOT" && go run ./bench/produce -kafka "$KAFKA" -topics "$TOPIC.calls,$TOPIC.tickets" -partitions 6 "$WORK/events.ndjson")
rm -f "$WORK/events.ndjson"
fi

log "hotlineqc run"
PROFILE_SECONDS=20 run_until "$TOPIC" "$N"
STATES=$(( $(q "SELECT count() FROM hq.call_state FINAL") + $(q "SELECT count() FROM hq.ticket_state FINAL") ))
printf '\nbackfill: %d events (%d calls, one centre, one month), 6 partitions per topic, machine: %s, %d cores\n' "$N" "$CALLS" "$(uname -m)" "$(nproc)"
printf 'hotlineqc run: %s s, %s events/s, peak RSS %s MiB, CPU hotlineqc %s s, ClickHouse %s s; %s call and ticket states\n' \
  "$RUN_SECS" "$(rate "$N" "$RUN_SECS")" "$RUN_RSS" "$RUN_CPU" "$CH_RUN_CPU" "$STATES"
printf 'time in each stage: %s\n' "$STAGES"

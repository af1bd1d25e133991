#!/usr/bin/env bash
# Steady state of `hotlineqc run`: a large centre's simulated traffic
# (calls, tickets and agents: `simulate --preset large`, two months ending
# now) produced at a steady RATE events/s for DURATION, consumed as it
# comes. Every SAMPLE seconds it records the process's RSS, goroutines,
# heap in use, the calls, tickets and agents the stage holds in memory
# (hotline_state_held) and the open tickets; at the end it prints the
# slope of each after WARMUP seconds (least squares, per hour), the rate
# written and the consumer lag: flat is the target.
#
#   deploy/dev/services.sh up && bench/soak.sh [RATE] [DURATION]
#
# Defaults: 5000 events/s for 30m, SAMPLE=30, WARMUP=300. The samples are
# kept in $WORK/soak.tsv.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RATE=${1:-5000}
DURATION=${2:-30m}
SAMPLE=${SAMPLE:-30}
WARMUP=${WARMUP:-300}
TOPIC=soak$(date +%s)
BENCH_TOPICS=$TOPIC.calls,$TOPIC.tickets,$TOPIC.agents,$TOPIC.dlq
build "$ROOT/.cache/bench-soak"
private_clickhouse
SECS=$(awk -v d="$DURATION" 'BEGIN { n = d + 0; if (d ~ /h$/) n *= 3600; else if (d ~ /m$/) n *= 60; print n }')

log "producing a large centre at $RATE events/s to $TOPIC.{calls,tickets,agents} for $DURATION"
"$BIN" simulate --kafka "$KAFKA" --topics "$TOPIC.calls,$TOPIC.tickets,$TOPIC.agents" --partitions 6 \
  --preset large --agents --span 1440h --start -1440h --seed 11 --rate "$RATE" 2>"$WORK/simulate.log" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null || true; cleanup' EXIT
sleep 3 # the topics exist before the group joins
RUN_AGENTS=1 start_run "$TOPIC"

# series NAME [LABEL=VALUE]: the sum of NAME's series (with that label) in
# one scrape, read from the file of that scrape.
series() { awk -v m="$1" -v l="${2:-}" '$1 ~ "^"m"({|$)" && (l == "" || index($1, l)) { s += $NF } END { printf "%.0f", s }' "$WORK/scrape"; }
printf 't_s\trss_mib\tgoroutines\theap_mib\tcalls_held\ttickets_held\tagents_held\ttickets_open\twritten\tlag\n' >"$WORK/soak.tsv"
start=$(now)
while :; do
  t=$(since "$start")
  curl -fsS "http://$METRICS/metrics" -o "$WORK/scrape"
  rss=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$RUN_PID/status")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rss" "$(series go_goroutines)" \
    "$(series go_memstats_heap_inuse_bytes | awk '{ printf "%.0f", $1 / 1048576 }')" \
    "$(series hotline_state_held 'kind="call"')" "$(series hotline_state_held 'kind="ticket"')" "$(series hotline_state_held 'kind="agent"')" \
    "$(series hotline_tickets_open)" "$(series hotline_pipeline_events_written_total)" "$(series hotline_kafka_consumer_lag_messages)" >>"$WORK/soak.tsv"
  tail -1 "$WORK/soak.tsv" >&2
  awk -v t="$t" -v s="$SECS" 'BEGIN { exit !(t >= s) }' && break
  kill -0 $SIM_PID 2>/dev/null || { log "the simulation ended before $DURATION"; break; }
  sleep "$SAMPLE"
done
curl -fsS "http://$METRICS/debug/pprof/heap" -o "$WORK/heap.pprof" || true
kill $SIM_PID 2>/dev/null || true
stop_run
analyse hq

printf '\nsoak: %s events/s for %s (%s), sampled every %s s; slopes per hour after the first %s s:\n' "$RATE" "$DURATION" "$(uname -m), $(nproc) cores" "$SAMPLE" "$WARMUP"
awk -F'\t' -v w="$WARMUP" 'NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i; next }
  $1 >= w { n++; x = $1 / 3600; sx += x; sxx += x * x
    for (i = 2; i <= NF; i++) { sy[i] += $i; sxy[i] += x * $i; if (!(i in first)) first[i] = $i; last[i] = $i }
    t0 = (n == 1) ? $1 : t0; t1 = $1 }
  END {
    d = n * sxx - sx * sx
    for (i = 2; i <= NF; i++) {
      if (name[i] == "written") continue
      printf "  %-13s %10.1f at %5.0f s, %10.1f at %5.0f s, slope %+10.1f /h\n", name[i], first[i], t0, last[i], t1, (d > 0 ? (n * sxy[i] - sx * sy[i]) / d : 0)
    }
    printf "  written: %.0f events/s after the warm-up\n", (last[9] - first[9]) / (t1 - t0)
  }' "$WORK/soak.tsv"
printf 'hotlineqc run: CPU %s s over %s s (ClickHouse %s s), peak RSS %s MiB, %s calls and tickets read back; samples in %s, heap profile %s\n' \
  "$RUN_CPU" "$RUN_SECS" "$CH_RUN_CPU" "$RUN_RSS" "$LOADED" "$WORK/soak.tsv" "$WORK/heap.pprof"

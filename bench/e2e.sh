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
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SPAN=${1:-560h}
CENTRES=${2:-5}
KAFKA=${HOTLINEQC_BENCH_KAFKA:-127.0.0.1:9092}
WORK=$ROOT/.cache/bench-e2e
CH_TCP=19400 CH_HTTP=19401
RUN=$(date +%s)
TOPIC=bench$RUN
log() { printf '[e2e] %s\n' "$*" >&2; }

rm -rf "$WORK"; mkdir -p "$WORK"/{data,tmp,user_files,format_schemas,log}
BIN=$WORK/hotlineqc
(cd "$ROOT" && go build -o "$BIN" ./cmd/hotlineqc)

# ---- a private ClickHouse: other ports, Kafka engine from the earliest offset
sed -e "s#<path>/var/lib/clickhouse/</path>#<path>$WORK/data/</path>#" \
    -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$WORK/tmp/</tmp_path>#" \
    -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$WORK/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$WORK/format_schemas/</format_schema_path>#" \
    -e "s#<log>.*</log>#<log>$WORK/log/server.log</log>#" \
    -e "s#<errorlog>.*</errorlog>#<errorlog>$WORK/log/server.err.log</errorlog>#" \
    -e "s#<users_config>.*</users_config>#<users_config>$WORK/users.xml</users_config>#" \
    -e "s#<tcp_port>9000</tcp_port>#<tcp_port>$CH_TCP</tcp_port>#" \
    -e "s#<http_port>8123</http_port>#<http_port>$CH_HTTP</http_port>#" \
    -e "s#<interserver_http_port>9009</interserver_http_port>#<interserver_http_port>19402</interserver_http_port>#" \
    -e "s#<level>trace</level>#<level>warning</level>#" \
    -e "s#</yandex>#<kafka><auto_offset_reset>smallest</auto_offset_reset></kafka></yandex>#" \
    /etc/clickhouse-server/config.xml >"$WORK/config.xml"
sed -e "s#<load_balancing>random</load_balancing>#<load_balancing>random</load_balancing><input_format_skip_unknown_fields>1</input_format_skip_unknown_fields>#" \
    /etc/clickhouse-server/users.xml >"$WORK/users.xml"
clickhouse-server --config-file="$WORK/config.xml" >"$WORK/log/stdout.log" 2>&1 &
CH_PID=$!
trap 'kill $CH_PID 2>/dev/null; kill $RUN_PID 2>/dev/null || true' EXIT
RUN_PID=
until [[ $(curl -fsS "http://127.0.0.1:$CH_HTTP/ping" 2>/dev/null) == "Ok." ]]; do sleep 0.2; done
q() { curl -fsS "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }
log "private ClickHouse $(q 'SELECT version()') on 127.0.0.1:$CH_TCP"

# ---- the events, produced once
log "producing $SPAN of $CENTRES simulated centres to $TOPIC.calls / $TOPIC.tickets"
"$BIN" simulate --kafka "$KAFKA" --topics "$TOPIC.calls,$TOPIC.tickets" --centers "$CENTRES" \
  --span "$SPAN" --start 2026-09-01T00:00:00+08:00 --seed 7 2>"$WORK/simulate.log"
cat "$WORK/simulate.log" >&2
N=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' "$WORK/simulate.log")

now() { date +%s.%N; }
# cpu PID: CPU seconds (user + system) the process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
delta() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# ---- (a) hotlineqc run
cat >"$WORK/hotlineqc.yaml" <<YAML
kafka:
  brokers: [$KAFKA]
  group_id: $TOPIC-hotlineqc
  topics: {calls: $TOPIC.calls, tickets: $TOPIC.tickets, dead_letter: $TOPIC.dlq}
clickhouse:
  addr: [127.0.0.1:$CH_TCP]
  database: hq
http:
  listen: 127.0.0.1:19464
  pprof: true
log:
  level: warn
YAML
export HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=bench-caller-hash-key-0123456789
"$BIN" migrate --config "$WORK/hotlineqc.yaml" >/dev/null
metric() { curl -fsS http://127.0.0.1:19464/metrics 2>/dev/null | awk -v m="$1" '$1 ~ "^"m"({|$)" { s += $2 } END { printf "%.0f", s }'; }
log "(a) hotlineqc run"
START=$(now)
CH_CPU0=$(cpu $CH_PID)
"$BIN" run --config "$WORK/hotlineqc.yaml" 2>"$WORK/run.log" &
RUN_PID=$!
until curl -fsS http://127.0.0.1:19464/healthz >/dev/null 2>&1; do sleep 0.1; done
curl -fsS "http://127.0.0.1:19464/debug/pprof/profile?seconds=${PROFILE_SECONDS:-8}" -o "$WORK/cpu.pprof" &
PROF_PID=$!
while (( $(metric hotline_pipeline_events_written_total) + $(metric hotline_pipeline_dead_letters_written_total) < N )); do
  kill -0 $RUN_PID 2>/dev/null || { cat "$WORK/run.log" >&2; exit 1; }
  sleep 0.5
done
A_SECS=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
A_CPU="hotlineqc $(cpu $RUN_PID) s, ClickHouse $(delta "$CH_CPU0" "$(cpu $CH_PID)") s"
RSS=$(ps -o rss= -p $RUN_PID | awk '{ printf "%.0f", $1 / 1024 }')
wait $PROF_PID || true
curl -fsS "http://127.0.0.1:19464/debug/pprof/heap" -o "$WORK/heap.pprof" || true
STAGES=$(curl -fsS http://127.0.0.1:19464/metrics | awk -F'[{}" ]' '/^hotline_pipeline_flush_stage_duration_seconds_sum/ { printf "%s %.1f s  ", $3, $NF }')
kill -TERM $RUN_PID; wait $RUN_PID || true; RUN_PID=
A_STATES=$(( $(q "SELECT count() FROM hq.call_state FINAL") + $(q "SELECT count() FROM hq.ticket_state FINAL") ))

# ---- (b) the ClickHouse Kafka engine + materialized views
log "(b) ClickHouse Kafka engine"
q "CREATE DATABASE ke" >/dev/null
COLS="event_id String, type String, ts String, center_id String, call_id String, ticket_id String, queue String, agent_id String, channel String, category String, department_id String"
q "CREATE TABLE ke.raw (event_id String, type String, ts DateTime('Asia/Shanghai'), center_id String, call_id String, ticket_id String, queue String, agent_id String, channel String, category String, department_id String) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(ts) ORDER BY (center_id, call_id, ticket_id, event_id)"
START=$(now)
CH_CPU0=$(cpu $CH_PID)
for t in calls tickets; do
  q "CREATE TABLE ke.k_$t ($COLS) ENGINE = Kafka('$KAFKA', '$TOPIC.$t', '$TOPIC-ke-$t', 'JSONEachRow')"
  q "CREATE MATERIALIZED VIEW ke.mv_$t TO ke.raw AS SELECT event_id, type, parseDateTimeBestEffort(ts) AS ts, center_id, call_id, ticket_id, queue, agent_id, channel, category, department_id FROM ke.k_$t"
done
while (( $(q "SELECT count() FROM ke.raw") < N )); do sleep 0.1; done
B_SECS=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
B_CPU="ClickHouse $(delta "$CH_CPU0" "$(cpu $CH_PID)") s"

A_RATE=$(rate "$N" "$A_SECS"); B_RATE=$(rate "$N" "$B_SECS")
printf '\nevents: %d (%s, %d centres, 3 partitions per topic), machine: %s, %d cores\n' "$N" "$SPAN" "$CENTRES" "$(uname -m)" "$(nproc)"
printf '%-52s %8.1f s %10d events/s\n' "(a) hotlineqc run (raw + state + indicators), RSS ${RSS} MiB" "$A_SECS" "$A_RATE"
printf '%-52s %8.1f s %10d events/s\n' "(b) ClickHouse Kafka engine + MV (raw only)" "$B_SECS" "$B_RATE"
printf 'CPU: (a) %s; (b) %s\n' "$A_CPU" "$B_CPU"
printf '(a) time in each stage (apply: the state stage; dead_letter, insert, state: the writer, overlapped): %s\n' "$STAGES"
printf 'ratio a/b: %s×   (states stored: %s)\n' "$(awk -v a="$A_RATE" -v b="$B_RATE" 'BEGIN { printf "%.2f", a / b }')" "$A_STATES"
printf 'CPU profile of (a): %s (go tool pprof -top %s %s)\n' "$WORK/cpu.pprof" "$BIN" "$WORK/cpu.pprof"

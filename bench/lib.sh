# Shared pieces of the benchmark scripts (sourced, not run):
# a private ClickHouse, `hotlineqc run` until a count of messages is
# durable, CPU and RSS readings.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA=${HOTLINEQC_BENCH_KAFKA:-127.0.0.1:9092}
CH_TCP=19400 CH_HTTP=19401 METRICS=127.0.0.1:19464
log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
# cpu PID: CPU seconds (user + system) the process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
delta() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# per SECONDS N: microseconds per item.
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s * 1e6 / n }'; }
rss_mib() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# build WORK: a fresh work directory with the hotlineqc binary in it, built
# from this checkout or from BENCH_SRC (another worktree: to
# compare two commits with the same script).
build() {
  WORK=$1
  rm -rf "$WORK"; mkdir -p "$WORK"/ch/{data,tmp,user_files,format_schemas,log}
  BIN=$WORK/hotlineqc
  (cd "${BENCH_SRC:-$ROOT}" && go build -o "$BIN" ./cmd/hotlineqc)
  (cd "$ROOT" && go build -o "$WORK/produce" ./bench/produce)
}

# private_clickhouse: the Debian server on other ports with its data in
# $WORK/ch; its Kafka engine reads from the earliest offset. Sets CH_PID.
private_clickhouse() {
  local d=$WORK/ch
  if curl -fsS "http://127.0.0.1:$CH_HTTP/ping" >/dev/null 2>&1; then
    log "ERROR: a ClickHouse already listens on 127.0.0.1:$CH_HTTP (one left from an interrupted run?)"; exit 1
  fi
  sed -e "s#<path>/var/lib/clickhouse/</path>#<path>$d/data/</path>#" \
      -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$d/tmp/</tmp_path>#" \
      -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$d/user_files/</user_files_path>#" \
      -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$d/format_schemas/</format_schema_path>#" \
      -e "s#<log>.*</log>#<log>$d/log/server.log</log>#" \
      -e "s#<errorlog>.*</errorlog>#<errorlog>$d/log/server.err.log</errorlog>#" \
      -e "s#<users_config>.*</users_config>#<users_config>$d/users.xml</users_config>#" \
      -e "s#<tcp_port>9000</tcp_port>#<tcp_port>$CH_TCP</tcp_port>#" \
      -e "s#<http_port>8123</http_port>#<http_port>$CH_HTTP</http_port>#" \
      -e "s#<interserver_http_port>9009</interserver_http_port>#<interserver_http_port>19402</interserver_http_port>#" \
      -e "s#<level>trace</level>#<level>warning</level>#" \
      -e "s#</yandex>#<kafka><auto_offset_reset>smallest</auto_offset_reset></kafka></yandex>#" \
      /etc/clickhouse-server/config.xml >"$d/config.xml"
  local extra=""
  if [[ -n ${BENCH_ANALYSE:-} ]]; then
    # what each table's inserts and merges cost: system.query_log and
    # system.part_log (off otherwise: logging costs the server a little)
    sed -i -e 's#<!-- Uncomment if use part_log#<!-- part_log on -->#' -e 's#</part_log>#</part_log><!--#' "$d/config.xml"
    extra="<log_queries>1</log_queries>"
  fi
  sed -e "s#<load_balancing>random</load_balancing>#<load_balancing>random</load_balancing><input_format_skip_unknown_fields>1</input_format_skip_unknown_fields>$extra#" \
      /etc/clickhouse-server/users.xml >"$d/users.xml"
  clickhouse-server --config-file="$d/config.xml" >"$d/log/stdout.log" 2>&1 &
  CH_PID=$!
  # stop what this script started, however it ends
  trap cleanup EXIT
  until [[ $(curl -fsS "http://127.0.0.1:$CH_HTTP/ping" 2>/dev/null) == "Ok." ]]; do sleep 0.2; done
  log "private ClickHouse $(q 'SELECT version()') on 127.0.0.1:$CH_TCP"
}

# cleanup: stops what the script started (the trap on EXIT) and deletes
# the topics named in BENCH_TOPICS (comma-separated; KEEP_TOPICS=1 keeps
# them): each run's events would otherwise stay on the shared broker.
cleanup() {
  if [[ -n ${RUN_PID:-} ]]; then kill "$RUN_PID" 2>/dev/null || true; fi
  stop_clickhouse
  if [[ -n ${BENCH_TOPICS:-} && -z ${KEEP_TOPICS:-} ]]; then
    "$WORK/produce" -kafka "$KAFKA" -delete "$BENCH_TOPICS" || log "could not delete the topics $BENCH_TOPICS"
  fi
}

# stop_clickhouse: stops the private server, at once if it lingers.
stop_clickhouse() {
  kill "$CH_PID" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$CH_PID" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$CH_PID" 2>/dev/null || true
}

q() { curl -fsS "http://127.0.0.1:$CH_HTTP/" --data-binary "$1"; }

# metric REGEX: the sum of the series of the metrics whose names match, on
# the running hotlineqc, from one scrape (a scrape costs the process CPU:
# poll with one).
metric() { curl -fsS "http://$METRICS/metrics" 2>/dev/null | awk -v m="$1" '$1 ~ "^("m")({|$)" { s += $2 } END { printf "%.0f", s }'; }

# start_run TOPIC: starts `hotlineqc run` on TOPIC.calls / TOPIC.tickets
# (and TOPIC.agents when RUN_AGENTS is set)
# into database hq of the private ClickHouse, with pprof; sets RUN_PID
# and RUN_START, and CH_CPU0 (ClickHouse's CPU so far).
start_run() {
  local topic=$1
  RUN_GROUP=$topic-hotlineqc-$RANDOM
  cat >"$WORK/hotlineqc.yaml" <<YAML
kafka:
  brokers: [$KAFKA]
  group_id: $RUN_GROUP
  topics: {calls: $topic.calls, tickets: $topic.tickets, dead_letter: $topic.dlq${RUN_AGENTS:+, agents: $topic.agents}}
clickhouse:
  addr: [127.0.0.1:$CH_TCP]
  database: hq
http:
  listen: $METRICS
  pprof: true
log:
  level: warn
YAML
  export HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=bench-caller-hash-key-0123456789
  "$BIN" migrate --config "$WORK/hotlineqc.yaml" >/dev/null
  if curl -fsS "http://$METRICS/healthz" >/dev/null 2>&1; then
    log "ERROR: something already serves $METRICS (a hotlineqc left running?)"; return 1
  fi
  RUN_START=$(now); CH_CPU0=$(cpu "$CH_PID")
  "$BIN" run --config "$WORK/hotlineqc.yaml" 2>"$WORK/run.log" &
  RUN_PID=$!
  until curl -fsS "http://$METRICS/healthz" >/dev/null 2>&1; do
    kill -0 $RUN_PID 2>/dev/null || { cat "$WORK/run.log" >&2; return 1; }
    sleep 0.1
  done
}

# stop_run: records RUN_SECS (since start_run), RUN_CPU, CH_RUN_CPU,
# RUN_RSS (peak), STAGES, LOADED (entities read back) and a heap profile, then stops the process.
stop_run() {
  RUN_SECS=$(since "$RUN_START")
  RUN_CPU=$(cpu $RUN_PID); CH_RUN_CPU=$(delta "$CH_CPU0" "$(cpu "$CH_PID")"); RUN_RSS=$(rss_mib $RUN_PID)
  LOADED=$(metric hotline_state_entities_loaded_total)
  curl -fsS "http://$METRICS/debug/pprof/heap" -o "$WORK/heap.pprof" || true
  STAGES=$(curl -fsS "http://$METRICS/metrics" | awk -F'[{}" ]' '/^hotline_pipeline_flush_stage_duration_seconds_sum/ { printf "%s %.1f s  ", $3, $NF }')
  kill -TERM $RUN_PID; wait $RUN_PID || true
}

# run_until TOPIC N: start_run, then wait until N messages are durably
# stored and their offsets committed (the group's committed offsets, asked
# of the broker every 100 ms: scraping /metrics twice a second, as this did
# before, cost hotlineqc 4-5 % of its CPU, 30 times what Prometheus's scrape
# every 15 s costs), with a CPU profile of the first PROFILE_SECONDS and the
# allocation profile of the whole run, then stop_run.
run_until() {
  local n=$2 prof waiter
  start_run "$1"
  curl -fsS "http://$METRICS/debug/pprof/profile?seconds=${PROFILE_SECONDS:-8}" -o "$WORK/cpu.pprof" &
  prof=$!
  "$WORK/produce" -kafka "$KAFKA" -committed "$RUN_GROUP" -topics "$1.calls,$1.tickets${RUN_AGENTS:+,$1.agents}" -until "$n" &
  waiter=$!
  while kill -0 $waiter 2>/dev/null; do
    kill -0 $RUN_PID 2>/dev/null || { kill $waiter; cat "$WORK/run.log" >&2; return 1; }
    sleep 0.1
  done
  wait $waiter || { log "ERROR: waiting for the committed offsets failed"; return 1; }
  wait $prof || true
  curl -fsS "http://$METRICS/debug/pprof/allocs" -o "$WORK/allocs.pprof" || true
  stop_run
}

# analyse DB: with BENCH_ANALYSE, what ClickHouse did for the tables of DB:
# inserts (count, rows, bytes, time in the query) from query_log, parts
# written and merged (count, rows, bytes, time) from part_log, and the
# reads (count, rows read, time); the CPU of each, from the queries'
# profile events (the rest of the server's CPU is merges and background).
analyse() {
  [[ -n ${BENCH_ANALYSE:-} ]] || return 0
  # a query's CPU (its threads' user and system time, from its profile events)
  local QCPU="arraySum(arrayFilter((v, n) -> n IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds'), ProfileEvents.Values, ProfileEvents.Names))"
  q "SYSTEM FLUSH LOGS" >/dev/null
  printf '\n%s: inserts by table (query_log) | new parts and merges (part_log)\n' "$1"
  q "SELECT t, ins, rows, mb, ms, cpu_s, np, nb, mg, mrows, mms FROM
     (SELECT replaceRegexpOne(query, '^INSERT INTO [a-z_]+\\.([a-z_]+).*', '\\\\1') AS t, count() AS ins, sum(written_rows) AS rows,
             round(sum(written_bytes) / 1e6) AS mb, sum(query_duration_ms) AS ms, round(sum($QCPU) / 1e6, 1) AS cpu_s
      FROM system.query_log WHERE type = 2 AND query LIKE 'INSERT INTO $1.%' AND query NOT LIKE '%SELECT%' GROUP BY t)
     ANY LEFT JOIN
     (SELECT table AS t, countIf(event_type = 'NEW_PART') AS np, round(sumIf(size_in_bytes, event_type = 'NEW_PART') / 1e6) AS nb,
             countIf(event_type = 'MERGE_PARTS') AS mg, sumIf(rows, event_type = 'MERGE_PARTS') AS mrows, sumIf(duration_ms, event_type = 'MERGE_PARTS') AS mms
      FROM system.part_log WHERE database = '$1' GROUP BY t) USING t ORDER BY ms DESC FORMAT PrettyCompactNoEscapes"
  q "SELECT substring(replaceRegexpAll(query, '\\\\s+', ' '), 1, 90) AS read, count() AS queries, sum(read_rows) AS rows_read,
            round(sum(read_bytes) / 1e6) AS mb_read, sum(query_duration_ms) AS ms, round(sum($QCPU) / 1e6, 1) AS cpu_s
     FROM system.query_log WHERE type = 2 AND query LIKE 'SELECT%' AND query LIKE '%$1.%' GROUP BY read ORDER BY ms DESC FORMAT PrettyCompactNoEscapes"
  q "SELECT round(sum($QCPU) / 1e6, 1) AS all_queries_cpu_s, round(sumIf($QCPU, query LIKE 'INSERT%') / 1e6, 1) AS inserts_cpu_s,
            round(sumIf($QCPU, query LIKE 'SELECT%') / 1e6, 1) AS reads_cpu_s
     FROM system.query_log WHERE type = 2 AND query LIKE '%$1.%' FORMAT PrettyCompactNoEscapes"
  q "SELECT table, name, type, round(data_uncompressed_bytes / 1e6) AS mb, round(data_compressed_bytes / 1e6) AS mb_compressed
     FROM system.columns WHERE database = '$1' ORDER BY data_uncompressed_bytes DESC LIMIT 25 FORMAT PrettyCompactNoEscapes"
}

#!/usr/bin/env bash
# What reading calls back costs ClickHouse (the state stage's LoadEvents:
# `center_id = ? AND call_id IN (…)`, every column) at the raw tables'
# index granularity of 1,024 rows against ClickHouse's default 8,192, side
# by side on one private server: the same events in two tables that differ
# only in the granularity, first as the stream writes them (one part per
# insert), then merged (a deployment's tables between inserts), read by the
# same queries. Prints per table the queries' CPU (their profile events),
# rows and bytes read, and time.
#
#   bench/readback.sh [EVENTS] [QUERIES] [IDS]
#
# Defaults: 2,000,000 call events (6 per call, 5 centres, 20 inserts),
# 200 queries of 100 calls of one centre each.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
EVENTS=${1:-2000000}
QUERIES=${2:-200}
IDS=${3:-100}
build "$ROOT/.cache/bench-readback"
BENCH_ANALYSE=1 private_clickhouse

cat >"$WORK/hotlineqc.yaml" <<YAML
clickhouse:
  addr: [127.0.0.1:$CH_TCP]
  database: g1024
YAML
HOTLINEQC_PRIVACY__CALLER_HASH_KEY__VALUE=bench-caller-hash-key-0123456789 "$BIN" migrate --config "$WORK/hotlineqc.yaml" >/dev/null 2>&1
# g8192: the same table as created before the granularity was set
q "CREATE DATABASE g8192" >/dev/null
q "$(q "SHOW CREATE TABLE g1024.raw_call_events FORMAT TSVRaw" | sed -e 's/g1024\./g8192./' -e 's/index_granularity = [0-9]*/index_granularity = 8192/')" >/dev/null

# the events: 5 centres, calls of 6 events, in 20 inserts as the stream
# writes them (each insert a new part), arriving over a month
per_insert=$((EVENTS / 20))
q "SYSTEM STOP MERGES" >/dev/null
log "writing $EVENTS call events in 20 inserts"
for i in $(seq 0 19); do
  q "INSERT INTO g1024.raw_call_events (event_id, type, ts, ts_ms, center_id, call_id, channel, caller_hash, queue, agent_id, src_topic, src_partition, src_offset, ingested_at)
     SELECT concat('ev-', hex(cityHash64(n))), 'call.queued', toDateTime(1788192000 + intDiv(n, 6) % 2592000), (1788192000 + intDiv(n, 6) % 2592000) * 1000,
            concat('c', toString(intDiv(n, 6) % 5)), concat('call-', hex(cityHash64(intDiv(n, 6), 1))), 'phone', hex(cityHash64(n % 77777, 2)),
            concat('q', toString(n % 7)), concat('agent-', toString(n % 600)), 'hotline.calls', toInt32(n % 3), toInt64(n), now()
     FROM (SELECT number + $i * $per_insert AS n FROM system.numbers LIMIT $per_insert)" >/dev/null
  q "INSERT INTO g8192.raw_call_events SELECT * FROM g1024.raw_call_events WHERE src_offset >= $((i * per_insert)) AND src_offset < $(((i + 1) * per_insert))" >/dev/null
done

# the calls read back: QUERIES sets of IDS calls of centre c1
q "SELECT call_id FROM g1024.raw_call_events WHERE center_id = 'c1' GROUP BY call_id ORDER BY cityHash64(call_id, 3) LIMIT $((QUERIES * IDS))" >"$WORK/ids"

# readall TAG: every query against both tables, alternating
readall() {
  local k=0 list
  while ((k < QUERIES)); do
    list=$(sed -n "$((k * IDS + 1)),$(((k + 1) * IDS))p" "$WORK/ids" | awk '{ printf "%s'\''%s'\''", (NR > 1 ? "," : ""), $0 }')
    for db in g1024 g8192; do
      curl -fsS "http://127.0.0.1:$CH_HTTP/?query_id=$1-$db-$k" --data-binary \
        "SELECT * FROM $db.raw_call_events WHERE center_id = 'c1' AND call_id IN ($list) FORMAT Null"
    done
    k=$((k + 1))
  done
}
report() {
  q "SYSTEM FLUSH LOGS" >/dev/null
  q "SELECT extract(query_id, '^[a-z]+-(g[0-9]+)') AS granularity, count() AS queries,
            round(sum(arraySum(arrayFilter((v, n) -> n IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds'), ProfileEvents.Values, ProfileEvents.Names))) / 1e6, 2) AS cpu_s,
            sum(read_rows) AS rows_read, round(sum(read_bytes) / 1e6) AS mb_read, sum(query_duration_ms) AS ms
     FROM system.query_log WHERE type = 2 AND query_id LIKE '$1-%' GROUP BY granularity ORDER BY granularity FORMAT PrettyCompactNoEscapes"
}

parts=$(q "SELECT count() FROM system.parts WHERE active AND database = 'g1024' AND table = 'raw_call_events'")
log "reading back: $QUERIES queries of $IDS calls, tables as written ($parts parts each)"
readall written
printf '\n%d call events, %d queries of %d calls of one centre; tables as written (%s parts each):\n' "$EVENTS" "$QUERIES" "$IDS" "$parts"
report written

q "SYSTEM START MERGES" >/dev/null
q "OPTIMIZE TABLE g1024.raw_call_events FINAL" >/dev/null
q "OPTIMIZE TABLE g8192.raw_call_events FINAL" >/dev/null
parts=$(q "SELECT count() FROM system.parts WHERE active AND database = 'g1024' AND table = 'raw_call_events'")
log "reading back: the same queries, tables merged ($parts parts each)"
readall merged
printf '\nthe same queries, tables merged (%s parts each, one per month):\n' "$parts"
report merged
printf 'primary index in memory: %s\n' "$(q "SELECT arrayStringConcat(groupArray(concat(database, ' ', formatReadableSize(s))), ', ') FROM (SELECT database, sum(primary_key_bytes_in_memory) AS s FROM system.parts WHERE active AND database IN ('g1024', 'g8192') GROUP BY database ORDER BY database)")"

#!/usr/bin/env bash
# Time of a year's self-assessment (`hotlineqc assess --year`) beside
# `hotlineqc compute --window month` on the same simulated events: the
# assessment reads the events twice (figures, then the records audit) and
# evaluates every month, hour and dimension it reports.
#
#   bench/assess.sh [MONTHS] [CENTRES]    (default 12 months, 1 centre)
#
# The previous period is left out (its months are not simulated). Prints a
# table with wall seconds, events/s and peak RSS; record the figures in
# docs/benchmarks.md with the machine and the date.
set -euo pipefail
cd "$(dirname "$0")/.."
MONTHS=${1:-12}
CENTRES=${2:-1}
WORK=${BENCH_DIR:-.cache/bench}
mkdir -p "$WORK"
FILE=$WORK/sim-${MONTHS}m-${CENTRES}c.ndjson

for tool in bc; do
  command -v $tool >/dev/null || { echo "installing $tool (Debian)" >&2; apt-get install -y $tool >/dev/null; }
done
[[ -x /usr/bin/time ]] || { echo "installing time (Debian)" >&2; apt-get install -y time >/dev/null; }
go build -o "$WORK/hotlineqc" ./cmd/hotlineqc
HQ=$WORK/hotlineqc
start=2026-01-01T00:00:00+08:00
span=$(( $(date -d "2026-01-01 +$MONTHS months" +%s) - $(date -d 2026-01-01 +%s) ))
if [[ ! -f $FILE ]]; then
  echo "simulating $MONTHS months of $CENTRES centre(s) into $FILE" >&2
  "$HQ" simulate --out "$FILE" --start "$start" --span "${span}s" --centers "$CENTRES" --seed 7 --inject all=0.2 >&2
fi
last=$(date -d "2026-01-01 +$MONTHS months -1 day" +%Y-%m)

# measure NAME CMD...: wall seconds and peak RSS (MiB) of one run.
measure() {
  local name=$1; shift
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
  e=$(date +%s.%N)
  printf '%s|%s|%s\n' "$name" "$(echo "$e - $s" | bc -l)" "$(( $(tail -1 "$WORK/rss") / 1024 ))"
}

events=$(wc -l <"$FILE")
out=$WORK/assess-out
rm -rf "$out"
results=$(
  measure "compute --window month" "$HQ" compute --events "$FILE" --window month
  measure "assess --from 2026-01 --to $last" "$HQ" assess --events "$FILE" --from 2026-01 --to "$last" --no-previous --out "$out"
)
printf '\n%s events (%s months, %s centre(s)), %s, %s, %d cores\n\n' "$events" "$MONTHS" "$CENTRES" \
  "$(du -h "$FILE" | cut -f1)" "$(go version | awk '{print $3}')" "$(nproc)"
printf '%-40s %9s %12s %10s\n' command seconds events/s "RSS MiB"
while IFS='|' read -r name secs rss; do
  printf '%-40s %9.1f %12.0f %10s\n' "$name" "$secs" "$(echo "$events / $secs" | bc -l)" "$rss"
done <<<"$results"
c=$(echo "$results" | awk -F'|' 'NR == 1 { print $2 }')
a=$(echo "$results" | awk -F'|' 'NR == 2 { print $2 }')
printf '\nassess takes %.1fx the time of compute; files: %s\n\n' "$(echo "$a / $c" | bc -l)" "$(ls "$out" | wc -l)"

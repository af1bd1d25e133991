#!/usr/bin/env bash
# Side-by-side throughput of `hotlineqc compute` and `jq -c .` on the same
# generated event file, plus the Go benchmarks of the decoder and the core.
#
#   bench/compute.sh [EVENTS]    (default 1000000)
#
# Prints a table; record the figures in docs/benchmarks.md with the machine
# and the date. Timing is wall clock, best of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${RUNS:-3}
WORK=${BENCH_DIR:-.cache/bench}
mkdir -p "$WORK"
FILE=$WORK/events-$N.ndjson

for tool in jq bc; do
  command -v $tool >/dev/null || { echo "installing $tool (Debian)" >&2; apt-get install -y $tool >/dev/null; }
done
[[ -f $FILE ]] || go run ./bench/gendata -n "$N" -o "$FILE"
go build -o "$WORK/hotlineqc" ./cmd/hotlineqc

best() { # best wall time in seconds of RUNS runs of a command
  local b=""
  for _ in $(seq "$RUNS"); do
    local s e t
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [[ -z $b ]] || (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  printf '%.3f' "$b"
}

events=$(wc -l <"$FILE")
size=$(du -h "$FILE" | cut -f1)
t_hq=$(best "$WORK/hotlineqc" compute --events "$FILE")
t_jq=$(best jq -c . "$FILE")
printf '\n%s events, %s, %s, %d cores, best of %d\n\n' "$events" "$size" "$(go version | awk '{print $3}')" "$(nproc)" "$RUNS"
printf '%-34s %9s %14s\n' command seconds events/s
printf '%-34s %9s %14.0f\n' "hotlineqc compute --events FILE" "$t_hq" "$(echo "$events / $t_hq" | bc -l)"
printf '%-34s %9s %14.0f\n' "jq -c . FILE" "$t_jq" "$(echo "$events / $t_jq" | bc -l)"
printf '\ncompute is %.1fx faster than jq\n\n' "$(echo "$t_jq / $t_hq" | bc -l)"

go test ./internal/compute/ -run '^$' -bench . -benchtime 5x -benchmem | grep -E '^Benchmark'

#!/usr/bin/env bash
# Side-by-side throughput of `hotlineqc import` (Asterisk queue_log, a CDR
# CSV export, Amazon Connect contact records) and of `compute` reading the
# canonical NDJSON of the same 100,000 calls (decoding only, and end to
# end), per core (GOMAXPROCS=1) and on every core. Each case runs in its
# own process, ROUNDS times in turn; the table gives each one's best.
#
#   bench/import.sh            (ROUNDS=3, BENCHTIME=5x by default)
#
# Record the figures in docs/benchmarks.md with the machine and the date.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CASES=(asterisk-queue_log cdr-csv connect-json compute-decode-ndjson compute-run-ndjson)
go test -c -o .cache/adapter.test ./internal/adapter
printf '%s, %s, %d cores, best of %d\n\n' "$(go version | awk '{print $3}')" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$ROUNDS"
declare -A best
for _ in $(seq "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    for cpu in 1 "$(nproc)"; do
      r=$(cd internal/adapter && ../../.cache/adapter.test -test.run '^$' -test.bench "BenchmarkImport/$c\$" \
            -test.benchtime "${BENCHTIME:-5x}" -test.cpu "$cpu" | awk '/events\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "events/s") print $i }')
      k="$c/$cpu"
      if [[ -z ${best[$k]:-} ]] || (( r > best[$k] )); then best[$k]=$r; fi
    done
  done
done
printf '%-24s %16s %16s\n' case "events/s, 1 core" "events/s, $(nproc) cores"
for c in "${CASES[@]}"; do
  printf '%-24s %16s %16s\n' "$c" "${best[$c/1]}" "${best[$c/$(nproc)]}"
done

#!/usr/bin/env bash
# Side-by-side throughput of `hotlineqc import` (Asterisk queue_log, a CDR
# CSV export, Amazon Connect contact records) and of `compute` reading the
# canonical NDJSON of the same 100,000 calls, per core (GOMAXPROCS=1) and
# on every core.
#
#   bench/import.sh            (BENCHTIME=5x by default)
#
# Prints Go benchmark lines with events/s; record the figures in
# docs/benchmarks.md with the machine and the date.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '%s, %s, %d cores\n\n' "$(go version | awk '{print $3}')" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
go test ./internal/adapter -run '^$' -bench 'BenchmarkImport' -benchtime "${BENCHTIME:-5x}" -cpu "1,$(nproc)" |
  grep -E '^Benchmark' | awk '{ printf "%-50s %12s events/s %10s MB/s\n", $1, $(NF-1), $(NF-3) }'

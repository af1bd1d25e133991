#!/usr/bin/env bash
# Long-range history benchmark: a quarter of a large centre (a simulated
# working day of the large preset, about 57,000 calls and their tickets,
# stored for each of 92 days through the product's writer) in a private
# ClickHouse; the daily aggregates settled; then, side by side on the same
# rows, the quarter's sums read at query time from one row per call and
# ticket and from the daily aggregates (checked equal), and every panel of
# the 月度考核 dashboard over the quarter. Target: each panel under 1 s.
#
#   deploy/dev/services.sh up && bench/history.sh [DAYS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DAYS=${1:-92}
build "$ROOT/.cache/bench-history"
private_clickhouse
(cd "$ROOT" && go build -o "$WORK/history" ./bench/history)
CH_CPU0=$(cpu "$CH_PID")
(cd "$ROOT" && "$WORK/history" -addr "127.0.0.1:$CH_TCP" -days "$DAYS")
log "ClickHouse CPU: $(delta "$CH_CPU0" "$(cpu "$CH_PID")") s; data on disk: $(du -sh "$WORK/ch/data" | cut -f1)"

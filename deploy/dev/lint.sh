#!/usr/bin/env bash
# The linters CI runs before the tests: gofmt, go vet and staticcheck (pinned,
# installed into .cache/tools by this script). Fails on any finding.
#
#   deploy/dev/lint.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools; supports the go.mod's Go
BIN=$ROOT/.cache/tools/$STATICCHECK_VERSION
if [[ ! -x $BIN/staticcheck ]]; then
  echo "[lint] installing staticcheck $STATICCHECK_VERSION" >&2
  GOBIN=$BIN go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
  echo "[lint] gofmt: not formatted:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
"$BIN/staticcheck" ./...
echo "[lint] gofmt, go vet, staticcheck $STATICCHECK_VERSION: no findings" >&2

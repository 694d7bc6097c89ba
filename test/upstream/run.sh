#!/usr/bin/env bash
# npm run test:upstream: write the fixtures (export.ts), then let the upstream projects' own Go
# code judge them (go test in this folder). UPSTREAM_FIXTURES picks the fixture directory
# (default: a fresh temp dir, removed afterwards); extra arguments go to `go test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v go >/dev/null 2>&1; then
    echo "test:upstream needs Go (go.mod in test/upstream says which version); 'go' is not on PATH" >&2
    exit 2
fi
cleanup=""
if [ -z "${UPSTREAM_FIXTURES:-}" ]; then
    UPSTREAM_FIXTURES="$(mktemp -d "${TMPDIR:-/tmp}/upstream-fixtures-XXXXXX")"
    cleanup="$UPSTREAM_FIXTURES"
fi
export UPSTREAM_FIXTURES
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
cd "$root"
node "$root/node_modules/ts-node/dist/bin.js" --transpile-only test/upstream/export.ts >/dev/null
echo "upstream fixtures: $UPSTREAM_FIXTURES"
cd "$here"
go test "${@:-./...}"

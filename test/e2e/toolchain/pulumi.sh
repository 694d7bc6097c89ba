#!/usr/bin/env bash
# Ensures the Pulumi CLI v3.276.0 is built from source into the e2e toolchain
# cache and prints, as the last line of stdout, the directory holding `pulumi`:
#   ${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}/pulumi-3.276.0-<go version>/bin
# Progress goes to stderr. The build runs in a temp dir beside that directory
# and is moved into place only when it is complete, so an interrupted build
# never leaves a half-filled cache.
#
# It builds github.com/pulumi/pulumi/pkg/v3/cmd/pulumi through the wrapper
# module in pulumi/ (go.mod + go.sum, copied into the temp dir): pkg/v3's own
# go.mod has replace directives that `go install pkg@version` refuses.
set -euo pipefail

PULUMI_VERSION=3.276.0
NAME=pulumi
BIN=pulumi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wrapper="$here/pulumi"

log() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"
# Build with exactly the Go on PATH: the cache directory is named after it.
export GOTOOLCHAIN=local
gover=$(go env GOVERSION)
cache=${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}
dest="$cache/$NAME-$PULUMI_VERSION-$gover"

if [[ -x "$dest/bin/$BIN" && -f "$dest/bin/$BIN" ]]; then
  log "$NAME $PULUMI_VERSION cached"
  printf '%s\n' "$dest/bin"
  exit 0
fi

mkdir -p "$cache"
# One build at a time per cache entry; a second caller waits, then finds it cached.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.$NAME-$PULUMI_VERSION-$gover.lock"
  flock 9
  if [[ -x "$dest/bin/$BIN" && -f "$dest/bin/$BIN" ]]; then
    log "$NAME $PULUMI_VERSION cached"
    printf '%s\n' "$dest/bin"
    exit 0
  fi
fi

tmp=$(mktemp -d "$cache/.$NAME-$PULUMI_VERSION-$gover.tmp.XXXXXX")
chmod 755 "$tmp" # mktemp makes it 0700; it becomes the cache entry
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$tmp/src" "$tmp/bin"
cp "$wrapper/go.mod" "$wrapper/go.sum" "$tmp/src/"

log "building $NAME $PULUMI_VERSION with $gover (about 9 CPU-minutes when nothing is in GOCACHE) ..."
start=$SECONDS
(
  cd "$tmp/src"
  # Stamp the version: it has no default, and without it `pulumi version` prints an empty line.
  CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$tmp/bin/$BIN" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
) >&2 || die "go build of $NAME $PULUMI_VERSION failed"
elapsed=$((SECONDS - start))

got=$("$tmp/bin/$BIN" version 2>/dev/null) || die "built $BIN does not run"
[[ "$got" == "v$PULUMI_VERSION" ]] || die "built $BIN reports version '$got', want v$PULUMI_VERSION"

rm -rf "$tmp/src"
mb=$(( ($(stat -c %s "$tmp/bin/$BIN") + 524288) / 1048576 ))
rm -rf "$dest" # only an incomplete leftover can be here (checked above)
mv -T "$tmp" "$dest"
trap - EXIT
log "$NAME $PULUMI_VERSION built in $elapsed s ($mb MiB)"
printf '%s\n' "$dest/bin"

#!/usr/bin/env bash
# Ensures the Pulumi Kubernetes provider plugin (pulumi-resource-kubernetes)
# v4.25.0 is built from source into the e2e toolchain cache and prints, as the
# last line of stdout, the directory holding the binary:
#   ${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}/pulumi-resource-kubernetes-4.25.0-<go version>/bin
# Progress goes to stderr. The build runs in a temp dir beside that directory
# and is moved into place only when it is complete, so an interrupted build
# never leaves a half-filled cache.
#
# Source: github.com/pulumi/pulumi-kubernetes/provider/v4 at
# v4.0.0-20260115033456-f47bc2d6f199 (commit f47bc2d6f199, tagged v4.25.0; the
# module proxy serves it only under this pseudo-version). Its module zip lacks
# the generated schema-embed.json / terraform-mapping-embed.json that the main
# package embeds, so, like upstream's Makefile, this copies the main package
# (cmd/pulumi-resource-kubernetes) next to the wrapper module's go.mod/go.sum
# (kubernetes-provider/), runs its go:generate step with VERSION=4.25.0, then
# builds it with the version ldflag.
set -euo pipefail

PROVIDER_VERSION=4.25.0
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
NAME=pulumi-resource-kubernetes
BIN=pulumi-resource-kubernetes

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wrapper="$here/kubernetes-provider"

log() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"
# Build with exactly the Go on PATH: the cache directory is named after it.
export GOTOOLCHAIN=local
gover=$(go env GOVERSION)
cache=${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}
dest="$cache/$NAME-$PROVIDER_VERSION-$gover"

if [[ -x "$dest/bin/$BIN" && -f "$dest/bin/$BIN" ]]; then
  log "$NAME $PROVIDER_VERSION cached"
  printf '%s\n' "$dest/bin"
  exit 0
fi

mkdir -p "$cache"
# One build at a time per cache entry; a second caller waits, then finds it cached.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.$NAME-$PROVIDER_VERSION-$gover.lock"
  flock 9
  if [[ -x "$dest/bin/$BIN" && -f "$dest/bin/$BIN" ]]; then
    log "$NAME $PROVIDER_VERSION cached"
    printf '%s\n' "$dest/bin"
    exit 0
  fi
fi

tmp=$(mktemp -d "$cache/.$NAME-$PROVIDER_VERSION-$gover.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$tmp/src" "$tmp/bin"
cp "$wrapper/go.mod" "$wrapper/go.sum" "$tmp/src/"

log "building $NAME $PROVIDER_VERSION with $gover ..."
start=$SECONDS
(
  cd "$tmp/src"
  moddir=$(go list -m -f '{{.Dir}}' "$PROVIDER_MODULE")
  if [[ -z "$moddir" || ! -d "$moddir" ]]; then
    go mod download "$PROVIDER_MODULE"
    moddir=$(go list -m -f '{{.Dir}}' "$PROVIDER_MODULE")
  fi
  [[ -f "$moddir/cmd/$BIN/main.go" ]] || { echo "no main package in '$moddir/cmd/$BIN'" >&2; exit 1; }
  cp "$moddir/cmd/$BIN/"* .
  chmod u+w ./*
  # main.go: //go:generate go run ./generate.go -> writes the *-embed.json files.
  VERSION=$PROVIDER_VERSION go generate .
  [[ -s schema-embed.json && -s terraform-mapping-embed.json ]] || { echo "go generate wrote no *-embed.json" >&2; exit 1; }
  # Same flags as upstream's Makefile (CGO_ENABLED=0, version ldflag), plus -trimpath -s -w.
  CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X $PROVIDER_MODULE/pkg/version.Version=$PROVIDER_VERSION" \
    -o "$tmp/bin/$BIN" .
) >&2 || die "build of $NAME $PROVIDER_VERSION failed"
elapsed=$((SECONDS - start))

# The plugin only speaks gRPC to the engine; check what went into it instead.
info=$(go version -m "$tmp/bin/$BIN") || die "built $BIN is not a Go binary"
grep -q "pkg/version.Version=$PROVIDER_VERSION" <<<"$info" \
  || die "built $BIN lacks the version ldflag $PROVIDER_VERSION"

rm -rf "$tmp/src"
mb=$(( ($(stat -c %s "$tmp/bin/$BIN") + 524288) / 1048576 ))
rm -rf "$dest" # only an incomplete leftover can be here (checked above)
mv -T "$tmp" "$dest"
trap - EXIT
log "$NAME $PROVIDER_VERSION built in $elapsed s ($mb MiB)"
printf '%s\n' "$dest/bin"

# Shared by vault-provider.sh and random-provider.sh (sourced, not executed).
#
# Builds a Pulumi bridged provider binary (pulumi-resource-NAME) from a source
# archive in shared/thirdparty/ into a cache outside the clone:
#   ${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}/pulumi-resource-NAME-VERSION-<go version>-<sha12 of archive>/bin/
# and prints that bin directory as the last stdout line. Progress goes to stderr.
#
# The build runs in a temp dir inside the cache root and is moved into place
# with one rename at the end, so an interrupted build leaves no half cache.
# The caller defines prepare_source (runs in the extracted provider/ dir and
# applies the recipe: go.mod edits, generated files) before calling
# build_provider.

PROVIDER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# test/e2e/toolchain -> repo root
PROVIDER_REPO_ROOT=$(cd "$PROVIDER_LIB_DIR/../../.." && pwd)
PROVIDER_THIRDPARTY=${AKS_VAULT_THIRDPARTY:-$PROVIDER_REPO_ROOT/../shared/thirdparty}
PROVIDER_CACHE=${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}
PROVIDER_STUBS=$PROVIDER_LIB_DIR/stubs

plog() { printf 'toolchain: %s\n' "$*" >&2; }
pdie() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

# timed LABEL CMD... : runs CMD (stdout to stderr), adding its user+sys CPU
# seconds (from /usr/bin/time -v when present) to PROVIDER_CPU_S.
PROVIDER_CPU_S=0
timed() {
  local label=$1; shift
  local tf="$PROVIDER_WORK/time-$label.txt"
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$tf" "$@" >&2 || pdie "$label failed (see messages above)"
    local u s
    u=$(sed -n 's/.*User time (seconds): //p' "$tf")
    s=$(sed -n 's/.*System time (seconds): //p' "$tf")
    PROVIDER_CPU_S=$(awk -v a="$PROVIDER_CPU_S" -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", a + u + s }')
    plog "  $label: user ${u} s, sys ${s} s"
  else
    "$@" >&2 || pdie "$label failed (see messages above)"
  fi
}

# smoke_test BINARY: a Pulumi provider started without arguments serves gRPC
# and prints its port on stdout. Fails unless a port number shows up in 120 s.
smoke_test() {
  local bin=$1 out="$PROVIDER_WORK/smoke.out" pid port="" i
  "$bin" >"$out" 2>"$PROVIDER_WORK/smoke.err" </dev/null &
  pid=$!
  for ((i = 0; i < 1200; i++)); do
    port=$(head -n1 "$out" 2>/dev/null | tr -d '[:space:]')
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ ! "$port" =~ ^[0-9]+$ ]]; then
    sed 's/^/  | /' "$PROVIDER_WORK/smoke.err" >&2 || true
    pdie "$(basename "$bin") did not print a port when started (got '${port}')"
  fi
  plog "  smoke test: $(basename "$bin") served on port $port"
}

# build_provider NAME VERSION ARCHIVE TOPDIR VERSION_VAR
#   NAME        provider name (vault, random): binary pulumi-resource-NAME
#   ARCHIVE     file name in $PROVIDER_THIRDPARTY
#   TOPDIR      top-level directory inside the archive (holds provider/)
#   VERSION_VAR Go variable set with -X to VERSION
build_provider() {
  local name=$1 version=$2 archive=$3 topdir=$4 version_var=$5
  local bin="pulumi-resource-$name" tgz="$PROVIDER_THIRDPARTY/$archive"
  command -v go >/dev/null 2>&1 || pdie "go is not on PATH"
  [[ -f "$tgz" ]] || pdie "source archive not found: $tgz (set AKS_VAULT_THIRDPARTY to the folder holding $archive)"
  local gov sha dest
  gov=$(go env GOVERSION)
  sha=$(sha256sum "$tgz" | cut -c1-12)
  dest="$PROVIDER_CACHE/$bin-$version-$gov-$sha"

  if [[ -x "$dest/bin/$bin" && -f "$dest/bin/$bin" ]]; then
    plog "$bin $version cached ($dest/bin)"
    printf '%s\n' "$dest/bin"
    return 0
  fi

  mkdir -p "$PROVIDER_CACHE"
  PROVIDER_WORK=$(mktemp -d "$PROVIDER_CACHE/.$bin-$version-build.XXXXXX")
  # Go marks module-cache-like trees read-only; make sure cleanup always works.
  # shellcheck disable=SC2064
  trap "chmod -R u+w '$PROVIDER_WORK' 2>/dev/null; rm -rf '$PROVIDER_WORK'" EXIT
  trap 'exit 130' INT TERM HUP

  plog "building $bin $version ..."
  local start=$SECONDS
  tar -xzf "$tgz" -C "$PROVIDER_WORK" || pdie "cannot extract $tgz"
  local src="$PROVIDER_WORK/$topdir/provider"
  [[ -f "$src/go.mod" ]] || pdie "$archive has no $topdir/provider/go.mod"

  # Build environment: no cgo (static binary, no C toolchain needed), no
  # workspace file from around the cache, no VCS stamping.
  export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=${GOTOOLCHAIN:-local}

  # prepare_source runs in this shell (not "f || ...", which would switch off
  # set -e inside it) so that its timed steps add to PROVIDER_CPU_S.
  cd "$src"
  prepare_source

  mkdir -p "$PROVIDER_WORK/out/bin"
  timed "go-build" go build -buildvcs=false -trimpath \
    -ldflags="-s -w -X $version_var=$version" \
    -o "$PROVIDER_WORK/out/bin/$bin" "./cmd/$bin"
  cd /
  [[ -x "$PROVIDER_WORK/out/bin/$bin" ]] || pdie "go build did not produce $bin"

  smoke_test "$PROVIDER_WORK/out/bin/$bin"

  local elapsed=$((SECONDS - start)) mb
  mb=$(du -sm "$PROVIDER_WORK/out/bin/$bin" | cut -f1)
  {
    printf 'binary: %s %s\n' "$bin" "$version"
    printf 'source: %s (sha256 %s)\n' "$archive" "$(sha256sum "$tgz" | cut -d' ' -f1)"
    printf 'go: %s\n' "$gov"
    printf 'wall seconds: %s\n' "$elapsed"
    printf 'cpu seconds (user+sys of the go steps): %s\n' "$PROVIDER_CPU_S"
    printf 'size bytes: %s\n' "$(stat -c %s "$PROVIDER_WORK/out/bin/$bin")"
  } >"$PROVIDER_WORK/out/build-info.txt"

  # One rename publishes the build. -T: never move into an existing dir.
  if ! mv -T "$PROVIDER_WORK/out" "$dest" 2>/dev/null; then
    if [[ -x "$dest/bin/$bin" ]]; then
      plog "$bin $version built in $elapsed s ($mb MB); a parallel run cached it first"
      printf '%s\n' "$dest/bin"
      return 0
    fi
    pdie "cannot move the build into $dest"
  fi
  plog "$bin $version built in $elapsed s ($mb MB, ${PROVIDER_CPU_S} CPU s)"
  printf '%s\n' "$dest/bin"
}

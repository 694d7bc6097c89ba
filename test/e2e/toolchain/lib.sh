# shellcheck shell=bash disable=SC2034
# Shared helpers for the toolchain scripts (sourced, not executed).
# Each toolchain script builds or installs its binaries into a cache outside
# the clone and prints, as its last stdout line, the directory holding them.
# Progress goes to stderr.

TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${AKS_VAULT_E2E_CACHE:-$HOME/.cache/aks-vault-e2e}

log() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

# all_present DIR NAME... -> true when every NAME is an executable file in DIR
all_present() {
  local dir=$1; shift
  local b
  for b in "$@"; do [[ -x "$dir/$b" && -f "$dir/$b" ]] || return 1; done
}

go_version() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH"
  go env GOVERSION
}

# go_build_into_cache NAME VERSION MODULE_DIR PKG...
# Builds PKG... from the wrapper module in MODULE_DIR into
# $CACHE/NAME-VERSION-<goversion>/bin, via a temp dir and an atomic mv.
# Extra go build flags may be passed in the GO_BUILD_EXTRA_LDFLAGS variable.
# GO_BUILD_OUTPUT_NAME names the binary when one PKG is built whose default
# name does not fit (go build names go.etcd.io/etcd/server/v3 `server`).
go_build_into_cache() {
  local name=$1 version=$2 moddir=$3; shift 3
  local gov dest tmp start elapsed mb pkgs=("$@") bins=() p out
  gov=$(go_version)
  dest="$CACHE/$name-$version-$gov"
  if [[ -n ${GO_BUILD_OUTPUT_NAME:-} ]]; then
    ((${#pkgs[@]} == 1)) || die "GO_BUILD_OUTPUT_NAME needs exactly one package"
    bins=("$GO_BUILD_OUTPUT_NAME")
    out="$GO_BUILD_OUTPUT_NAME"
  else
    for p in "${pkgs[@]}"; do bins+=("${p##*/}"); done
    out=""
  fi
  if all_present "$dest/bin" "${bins[@]}"; then
    log "$name $version ($gov) cached in $dest/bin"
    printf '%s\n' "$dest/bin"
    return 0
  fi
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.$name-$version-build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$tmp/out/bin"
  log "building ${bins[*]} $version with $gov (this can take a while) ..."
  start=$SECONDS
  local timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -v -o "$tmp/time.txt")
  # The build runs in its own process group (setsid) in the background so that
  # a SIGINT/SIGTERM to this script stops the whole build at once; the EXIT
  # trap then removes the temp dir, so nothing half-built reaches the cache.
  local bpid rc=0
  (
    cd "$moddir" || exit 1
    CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" exec setsid -w "${timer[@]}" \
      go build -trimpath -ldflags="-s -w ${GO_BUILD_EXTRA_LDFLAGS:-}" \
      -o "$tmp/out/bin/$out" "${pkgs[@]}"
  ) >&2 &
  bpid=$!
  # shellcheck disable=SC2064
  trap "kill -TERM -- -$bpid 2>/dev/null; exit 130" INT TERM
  wait "$bpid" || rc=$?
  trap 'exit 130' INT TERM
  ((rc == 0)) || die "go build of $name $version failed (exit $rc)"
  all_present "$tmp/out/bin" "${bins[@]}" || die "go build of $name did not produce ${bins[*]}"
  elapsed=$((SECONDS - start))
  mb=$(du -sm "$tmp/out/bin" | cut -f1)
  if [[ -f "$tmp/time.txt" ]]; then
    local u s
    u=$(sed -n 's/.*User time (seconds): //p' "$tmp/time.txt")
    s=$(sed -n 's/.*System time (seconds): //p' "$tmp/time.txt")
    log "$name $version cpu: user ${u}s sys ${s}s"
    cp "$tmp/time.txt" "$tmp/out/build-time.txt"
  fi
  if [[ -e "$dest" ]]; then
    # Another run finished first (or left an incomplete dir: replace it).
    if all_present "$dest/bin" "${bins[@]}"; then
      log "$name $version built in ${elapsed} s (${mb} MB); another build already cached it"
      printf '%s\n' "$dest/bin"
      return 0
    fi
    rm -rf "$dest"
  fi
  mv "$tmp/out" "$dest"
  log "$name $version built in ${elapsed} s (${mb} MB)"
  printf '%s\n' "$dest/bin"
}

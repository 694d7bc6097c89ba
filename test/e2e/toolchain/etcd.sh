#!/usr/bin/env bash
# Ensures an `etcd` binary: uses one on PATH, else installs Debian's
# etcd-server package. Prints the directory holding `etcd` as the last
# stdout line. (The package's service is not used; stack.sh runs etcd itself.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_etcd() {
  local p
  p=$(command -v etcd 2>/dev/null) && { printf '%s\n' "$p"; return 0; }
  for p in /usr/bin/etcd /usr/sbin/etcd; do [[ -x $p ]] && { printf '%s\n' "$p"; return 0; }; done
  return 1
}

if ! etcd_bin=$(find_etcd); then
  command -v apt-get >/dev/null 2>&1 || die "etcd missing and apt-get unavailable"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  log "installing Debian package etcd-server ..."
  start=$SECONDS
  # The package's postinst may try to start a system etcd service; on these
  # machines invoke-rc.d is denied by policy-rc.d / no init, and stack.sh never
  # relies on it.
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2
  fi
  etcd_bin=$(find_etcd) || die "etcd-server installed but no etcd binary found"
  log "etcd-server installed in $((SECONDS - start)) s"
else
  log "etcd cached ($etcd_bin)"
fi
log "etcd version: $("$etcd_bin" --version 2>/dev/null | head -1)"
dirname "$(readlink -f "$etcd_bin")"

#!/usr/bin/env bash
# Builds etcd v3.5.36 (the server, go.etcd.io/etcd/server/v3) from the Go module
# proxy through the wrapper module in ./etcd, caches it in
# ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/etcd-3.5.36-<go>/bin/etcd
# and prints that directory as the last stdout line.
# Why not Debian's etcd-server (3.4.23): kube-apiserver 1.34 enables
# RequestWatchProgress only for etcd >= 3.4.31 / >= 3.5.13
# (k8s.io/apiserver pkg/storage/feature/feature_support_checker.go); without it
# the watch cache refuses watch-list streams, which kwok's client-go keeps
# requesting, so kwok saw new pods ~50 s late. See README.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ETCD_VERSION=3.5.36
# The version etcd reports (Status, --version, /version) is the constant
# go.etcd.io/etcd/api/v3/version.Version, set by the api/v3 module the wrapper
# selects (v3.5.36), so no -X is needed. The module zip carries no commit, so
# GitSHA stays "Not provided".
# Called in this shell (not in $(...)) so its INT/TERM traps stop the build;
# its stdout line goes to stderr and the directory is printed after the check.
GO_BUILD_OUTPUT_NAME=etcd \
  go_build_into_cache etcd "$ETCD_VERSION" "$TOOLCHAIN_DIR/etcd" go.etcd.io/etcd/server/v3 >&2
bin_dir="$CACHE/etcd-$ETCD_VERSION-$(go_version)/bin"
got=$("$bin_dir/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')
[[ $got == "$ETCD_VERSION" ]] || die "$bin_dir/etcd reports version '$got', expected $ETCD_VERSION"
log "etcd version: $got"
printf '%s\n' "$bin_dir"

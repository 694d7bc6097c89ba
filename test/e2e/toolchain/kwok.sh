#!/usr/bin/env bash
# Builds kwok (sigs.k8s.io/kwok v0.7.0), which fakes kubelets: it marks the
# Nodes it manages Ready and moves their Pods to Running without running
# anything. Caches it in
# ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/kwok-0.7.0-<go>/bin
# and prints that directory as the last stdout line.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KWOK_VERSION=0.7.0
go_build_into_cache kwok "$KWOK_VERSION" "$TOOLCHAIN_DIR/kwok" sigs.k8s.io/kwok/cmd/kwok

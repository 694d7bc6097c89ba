#!/usr/bin/env bash
# Builds vault-k8s v1.6.2 (the Vault Agent injector webhook, hashicorp/vault-k8s)
# from the Go module proxy through the wrapper module in ./vault-k8s, caches it in
# ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/vault-k8s-1.6.2-<go>/bin
# and prints that directory as the last stdout line.
# The chart (vault-helm 0.34.1) ships image hashicorp/vault-k8s:1.7.6, but the
# module proxy reachable here serves vault-k8s up to v1.6.2 only; see README.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VAULT_K8S_VERSION=1.6.2
# Version stamping as vault-k8s' Makefile does (LDFLAGS -X .../version.Version=v$(VERSION)),
# so the injector's User-Agent reads vault-k8s/v1.6.2 rather than vault-k8s/0.0.0.
GO_BUILD_EXTRA_LDFLAGS="-X github.com/hashicorp/vault-k8s/version.Version=v$VAULT_K8S_VERSION" \
  go_build_into_cache vault-k8s "$VAULT_K8S_VERSION" "$TOOLCHAIN_DIR/vault-k8s" \
  github.com/hashicorp/vault-k8s

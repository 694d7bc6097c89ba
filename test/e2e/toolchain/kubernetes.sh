#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
# (k8s.io/kubernetes v1.34.4) from the Go module proxy through the wrapper
# module in ./kubernetes, caches them in
# ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/kubernetes-1.34.4-<go>/bin
# and prints that directory as the last stdout line.
# Cold build: roughly 10+ CPU-minutes; run it in the background.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K8S_VERSION=1.34.4
# Version stamping as kubernetes' hack/lib/version.sh does, so /version and
# `kubectl version` report v1.34.4 rather than v0.0.0-master.
ldx=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldx+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34"
  ldx+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
GO_BUILD_EXTRA_LDFLAGS=$ldx go_build_into_cache kubernetes "$K8S_VERSION" "$TOOLCHAIN_DIR/kubernetes" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl

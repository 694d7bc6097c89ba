#!/usr/bin/env bash
# Builds pulumi-resource-random 4.21.1 from shared/thirdparty/pulumi-random-4.21.1-provider-src.tgz
# into ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/pulumi-resource-random-4.21.1-<go>-<sha12>/bin
# and prints that directory as the last stdout line. Source folder override:
# AKS_VAULT_THIRDPARTY. Cold build: several CPU-minutes; see README.md.
set -euo pipefail
# shellcheck source=provider-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/provider-lib.sh"

# The recipe, run inside the extracted provider/ directory.
prepare_source() {
  # pulumi-random 4.21.1 already pins bridge v3.135.0 and pulumi-java v1.32.0,
  # but (like the bridge) requires pulumi-yaml and pulumi-language-dotnet at
  # pseudo-versions the module proxy refuses. They are only used by the
  # bridge's tfgen/convert code (linked in, never called by the provider):
  # local stubs. The shipped go.sum stays valid (replaced modules need none).
  go mod edit \
    -replace=github.com/pulumi/pulumi-yaml="$PROVIDER_STUBS/pulumi-yaml" \
    -replace=github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3="$PROVIDER_STUBS/pulumi-language-dotnet"
  # The binary embeds schema-embed.json, which the source's own generate.go
  # (go:generate) makes from schema.json by stamping the version.
  # -trimpath: share compiled packages with the -trimpath build below.
  cd cmd/pulumi-resource-random
  timed "go-generate-schema" env VERSION=4.21.1 go run -buildvcs=false -trimpath ./generate.go
  cd ../..
}

build_provider random 4.21.1 pulumi-random-4.21.1-provider-src.tgz pulumi-random-4.21.1 \
  github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version

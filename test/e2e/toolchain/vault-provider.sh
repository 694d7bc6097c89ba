#!/usr/bin/env bash
# Builds pulumi-resource-vault 7.8.0 from shared/thirdparty/pulumi-vault-7.8.0-provider-src.tgz
# (pulumi-vault's provider/ plus the terraform-provider-vault it bridges as upstream/)
# into ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/pulumi-resource-vault-7.8.0-<go>-<sha12>/bin
# and prints that directory as the last stdout line. Source folder override:
# AKS_VAULT_THIRDPARTY. Cold build: several CPU-minutes; see README.md.
set -euo pipefail
# shellcheck source=provider-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/provider-lib.sh"

# The recipe, run inside the extracted provider/ directory.
prepare_source() {
  # 1. Bridge v3.125.0 (pinned) is refused by the module proxy: use v3.135.0.
  # 2. pulumi-java/pkg v1.21.3 is a stale indirect requirement: while it is in
  #    the build list, the bridge's import github.com/pulumi/pulumi-java/pkg/codegen/java
  #    resolves to it (not to pulumi-java v1.32.0, which the bridge requires and
  #    which now holds pkg/), and its code does not compile against pulumi/pkg
  #    v3.253.0 ("pkg.Parameterization.BaseProvider undefined"). Drop it and
  #    require the module the bridge itself uses.
  # 3. The bridge v3.135.0 requires pulumi-yaml and pulumi-language-dotnet at
  #    pseudo-versions the proxy refuses; they are only used by tfgen/convert
  #    code (linked in, never called by the provider): local stubs.
  # (upstream/ is already wired by the source's own
  #  "replace github.com/hashicorp/terraform-provider-vault => ../upstream".)
  go mod edit \
    -require=github.com/pulumi/pulumi-terraform-bridge/v3@v3.135.0 \
    -droprequire=github.com/pulumi/pulumi-java/pkg \
    -require=github.com/pulumi/pulumi-java@v1.32.0 \
    -replace=github.com/pulumi/pulumi-yaml="$PROVIDER_STUBS/pulumi-yaml" \
    -replace=github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3="$PROVIDER_STUBS/pulumi-language-dotnet"
  # The go.sum of the tidied module, kept so every download is checked against
  # the hashes recorded when this recipe was made.
  cp "$PROVIDER_LIB_DIR/vault/go.sum" go.sum
  timed "go-mod-tidy" go mod tidy
  if ! cmp -s go.sum "$PROVIDER_LIB_DIR/vault/go.sum"; then
    plog "  note: go mod tidy changed go.sum; test/e2e/toolchain/vault/go.sum may need refreshing"
  fi
  # schema.json is not in the source archive (pulumi-vault generates it with
  # tfgen). The binary embeds schema-embed.json; the bridge only serves it from
  # GetSchema and uses it for advisory type checks in Check/CheckConfig, which it
  # skips for resources the schema does not list. A minimal valid schema is enough.
  printf '{"name":"vault","version":"7.8.0","description":"placeholder: the full schema is not part of this build"}\n' \
    >cmd/pulumi-resource-vault/schema-embed.json
}

build_provider vault 7.8.0 pulumi-vault-7.8.0-provider-src.tgz pulumi-vault-7.8.0 \
  github.com/pulumi/pulumi-vault/provider/v7/pkg/version.Version

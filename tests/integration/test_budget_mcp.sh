#!/usr/bin/env bash
# Money and secrets over MCP with the official SDK client (budget_sdk.test.mjs); then a scan of
# every file under VIBEML_HOME for the secret.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_budget_mcp.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
unset VIBEML_PASSPHRASE
secret='hf_mcpScanTest0123456789abcdefXYZ'
printf '%s' "$secret" | "$bin" secrets set HF_TOKEN 2>/dev/null
"$bin" budget set --monthly 100 >/dev/null
cd "$here"
VIBEML_BIN="$bin" SECRET_VALUE="$secret" node --test --test-concurrency=1 budget_sdk.test.mjs
b64=$(printf %s "$secret" | base64)
if grep -rlF -e "$secret" -e "$b64" "$home"; then echo "FAIL: plaintext secret in a file above"; exit 1; fi
echo "ok money mcp"

#!/usr/bin/env bash
# Notifications on the standing GET stream of Streamable HTTP while no request is open
# (mcp_http_push.test.mjs, official SDK client).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@modelcontextprotocol/sdk" ] || { echo "run: bash .ci/deps --tests" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 mcp_http_push.test.mjs

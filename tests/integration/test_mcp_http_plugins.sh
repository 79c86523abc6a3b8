#!/usr/bin/env bash
# Plugin tools over `vibeml serve --http` in two sessions, hot reload included, with the
# official SDK client (mcp_http_plugins.test.mjs). Usage: test_mcp_http_plugins.sh PATH/TO/vibeml
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_mcp_http_plugins.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 mcp_http_plugins.test.mjs

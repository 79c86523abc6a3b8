#!/usr/bin/env bash
# MCP server integration tests: `vibeml serve` driven by the official TypeScript SDK client
# (mcp_sdk.test.mjs) and by raw pipes with hostile input (mcp_raw.test.mjs).
# Usage: test_mcp.sh PATH/TO/vibeml   (CTest passes it; VML_SOURCE_DIR is set)
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_mcp.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 mcp_sdk.test.mjs mcp_raw.test.mjs

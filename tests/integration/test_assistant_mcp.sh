#!/usr/bin/env bash
# The assistant's path (issue 13) through `vibeml serve` and the official SDK client, on the
# local backend: assistant_mcp.test.mjs.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@modelcontextprotocol/sdk" ] || { echo "run: bash .ci/deps --tests" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "test_assistant_mcp.sh: needs sqlite3" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
unset VIBEML_SKY
cd "$here"
PATH="$home/nobin:$PATH" VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 assistant_mcp.test.mjs

#!/usr/bin/env bash
# Hot reload while `vibeml serve` runs, through the official MCP SDK client: a workflow plugin is
# added, changed, broken (syntax error, runtime error, infinite loop, 1 GB allocation), fixed and
# removed in a --plugins folder; list_workflows follows, broken versions never go live, errors
# arrive as log notifications, and the server keeps answering. Also a tools plugin appears in
# tools/list with notifications/tools/list_changed.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_hot_reload_serve.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 hot_reload.test.mjs

#!/usr/bin/env bash
# The job loop through `vibeml serve` with the official SDK client (jobs_mcp.test.mjs).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@modelcontextprotocol/sdk" ] || { echo "run: bash .ci/deps --tests" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 jobs_mcp.test.mjs

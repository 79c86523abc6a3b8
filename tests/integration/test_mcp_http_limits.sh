#!/usr/bin/env bash
# `vibeml serve --http` under hostile load: idle and half-sent connections, large bodies before
# authentication, many sessions, bad ids and batches, a non-loopback bind without a token
# (mcp_http_limits.test.mjs). Loopback only. Usage: test_mcp_http_limits.sh PATH/TO/vibeml
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 mcp_http_limits.test.mjs

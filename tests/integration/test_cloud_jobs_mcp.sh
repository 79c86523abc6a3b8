#!/usr/bin/env bash
# Cloud jobs through `vibeml serve` with the official SDK client and the VM simulator as `sky`
# (cloud_jobs_mcp.test.mjs).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ -d "$here/node_modules/@modelcontextprotocol/sdk" ] || { echo "run: bash .ci/deps --tests" >&2; exit 1; }
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01
unset VIBEML_SKY
trap 'sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
mkdir -p "$FAKE_SKY_STATE"
cd "$here"
VIBEML_BIN="$bin" node --test --test-concurrency=1 cloud_jobs_mcp.test.mjs

#!/usr/bin/env bash
# Jobs benchmarks: poll cost per interval for 1..500 SkyPilot jobs, status latency, and the time
# from launch_training to the returned handle. Uses the stand-in `sky` of tests/fixtures (a
# python3 script: one call costs one Python start-up, like the real CLI's client side), so the
# ratios against one bare `sky` call are the meaningful numbers.
# usage: bench/jobs/run.sh [path/to/vibeml]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$src/build/vibeml}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src VIBEML_POLL_INTERVAL=0
export PATH="$src/tests/fixtures/fake_sky:$PATH"
unset VIBEML_SKY
mkdir -p "$FAKE_SKY_STATE"
"$bin" run "$src/bench/jobs/bench.lua"

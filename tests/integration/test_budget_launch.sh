#!/usr/bin/env bash
# Over-budget launch_training through `vibeml serve` with the official SDK client: decline,
# no elicitation, accept (budget_launch.test.mjs), against the stand-in sky.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
need_node_module @modelcontextprotocol/sdk
job_home 5
sim_env
"$bin" budget set --monthly 1 >/dev/null
mkdir -p "$FAKE_SKY_STATE"; : >"$FAKE_SKY_STATE/argv.log"
run_node_test budget_launch.test.mjs
echo "ok money launch"

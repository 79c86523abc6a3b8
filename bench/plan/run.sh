#!/usr/bin/env bash
# bench/plan: planner latency over the whole catalog, and VibeML's choice against a manual
# baseline (on-demand A100-80GB on AWS us-east-1) for 25 requests, with a brute-force check.
# usage: bench/plan/run.sh [path/to/vibeml] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/vibeml}
shift || true
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
# a fresh VIBEML_HOME: prices from the shipped snapshot, no refreshed cache, no network
VIBEML_HOME=$home "$bin" run "$here/plan_bench.lua" "$@"

#!/usr/bin/env bash
# The job loop through `vibeml serve` with the official SDK client (jobs_mcp.test.mjs).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
need_node_module @modelcontextprotocol/sdk
job_home ""
run_node_test jobs_mcp.test.mjs

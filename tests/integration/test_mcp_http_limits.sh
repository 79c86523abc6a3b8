#!/usr/bin/env bash
# `vibeml serve --http` under hostile load: idle and half-sent connections, large bodies before
# authentication, many sessions, bad ids and batches, a non-loopback bind without a token
# (mcp_http_limits.test.mjs). Loopback only. Usage: test_mcp_http_limits.sh PATH/TO/vibeml
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home ""
run_node_test mcp_http_limits.test.mjs

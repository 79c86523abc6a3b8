#!/usr/bin/env bash
# Notifications on the standing GET stream of Streamable HTTP while no request is open
# (mcp_http_push.test.mjs, official SDK client).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
need_node_module @modelcontextprotocol/sdk
job_home ""
run_node_test mcp_http_push.test.mjs

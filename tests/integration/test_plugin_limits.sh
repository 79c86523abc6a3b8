#!/usr/bin/env bash
# Plugins that escaped the limits (issue 16, H1) through `vibeml serve`: a pattern bomb and a
# looping __gc finalizer, at load time and in a tool handler. The server must load the good
# plugin after them, answer tools/list, answer every tool call (with an error for the hostile
# ones) and exit on stdin EOF. Before the fix each case hung the server at 100 % CPU.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home ""
run_node_test plugin_limits.test.mjs

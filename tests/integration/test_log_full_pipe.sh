#!/usr/bin/env bash
# `vibeml serve` with stderr a pipe nobody reads (issue 16, M5): logging must never block the
# loop. A plugin tool prints 2 kB to stderr per call; 400 calls (800 kB, far past the 64 kB of a
# pipe and the 256 kB log buffer) must all be answered, and once someone reads stderr again the
# server says how many lines it dropped. Before the fix the server froze at the first full pipe.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home ""
run_node_test log_full_pipe.test.mjs

#!/usr/bin/env bash
# Input hygiene through `vibeml serve` (issue 16): a NUL inside a method or tool name must not
# run the name before it, and a max_cost of 1e308 is refused by the schema (it used to end in a
# Lua stack trace and a phantom pending job).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home ""
run_node_test input_hygiene.test.mjs

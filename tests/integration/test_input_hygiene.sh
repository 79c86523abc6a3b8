#!/usr/bin/env bash
# Input hygiene through `vibeml serve` (issue 16): a NUL inside a method or tool name must not
# run the name before it, and a max_cost of 1e308 is refused by the schema (it used to end in a
# Lua stack trace and a phantom pending job).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 input_hygiene.test.mjs

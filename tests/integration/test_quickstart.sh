#!/usr/bin/env bash
# README's first command runs examples/quickstart.lua: it must plan across the catalog and run
# the smoke workflow locally to completion, from any folder, with no network.
set -u
bin=$(realpath "$1")
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
out=$(cd / && VIBEML_HOME=$home "$bin" run "$src/examples/quickstart.lua" 2>&1); rc=$?
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
check "quickstart exits 0" '[ $rc -eq 0 ]'
check "it prints a ranked plan" 'echo "$out" | grep -q "^Best: "'
check "the smoke job completes" 'echo "$out" | grep -qE "^Job j[0-9a-z-]+ completed"'
check "progress with loss is shown" 'echo "$out" | grep -qE "step +[0-9]+/150 +loss [0-9.]+"'
check "the job is recorded in the store" '[ -f "$home/vibeml.db" ]'
[ "$fail" -eq 0 ] || echo "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

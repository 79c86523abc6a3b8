#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One summary of how hard VibeML has been pushed, from what was really run (nothing is assumed):
#   * fuzz executions: tests/fuzz/summary.sh (the runs of tests/fuzz/run.sh recorded in
#     build-fuzz/logs/history.tsv; "not run here" when there is no record);
#   * hostile inputs tried: the corpus files the last CTest run replayed through every fuzz
#     target (fuzz_<target> tests), plus the fuzz executions;
#   * fault cases: each automated fault test (a hang, a kill, a full pipe, exhaustion, a bad
#     byte, a lost database or vault copy, a broken module) with its result in the last CTest run;
#   * lost: the jobs a killed launch could have lost. "lost: 0" is printed only when the test
#     that kills launches (int_launch_killed) passed in the last run, with the number of kills it
#     checked; otherwise "lost: not checked".
#   usage: bash tests/robustness_summary.sh [BUILD_DIR]    (default: build-rel, else build)
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  for b in build-rel build build-asan; do
    [ -f "$root/$b/Testing/Temporary/LastTest.log" ] && { build=$root/$b; break; }
  done
fi
log=${build:+$build/Testing/Temporary/LastTest.log}
if [ -z "$log" ] || [ ! -f "$log" ]; then
  echo "no CTest run found (run the tests first: bash .ci/test, or ctest in a build folder)" >&2
  exit 1
fi

# the result of test NAME in the last run: passed | failed | not run
result() {
  awk -v t="$1" '
    $0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { seen = 1 }
    seen && /^Test Passed\./ { print "passed"; exit }
    seen && /^Test Failed\./ { print "failed"; exit }
    END { if (!seen) print "not run" }' "$log" | head -1
}

echo "VibeML robustness summary (CTest log: ${log#$root/})"
echo
echo "== fuzzing"
fuzz=$(bash "$root/tests/fuzz/summary.sh" 2>/dev/null)
execs=$(echo "$fuzz" | awk '/^executions in all runs:/ { print $5 }')
if [ "${execs:-0}" -gt 0 ]; then echo "$fuzz"; else echo "fuzz executions: not run here (bash tests/fuzz/run.sh SECONDS)"; fi
echo
echo "== hostile inputs"
replayed=0
targets=0
for d in "$root"/tests/fuzz/corpus/*/; do
  t=$(basename "$d")
  r=$(result "fuzz_$t")
  n=$(ls "$d" | wc -l)
  printf '  %-10s %4d corpus inputs replayed: %s\n' "$t" "$n" "$r"
  if [ "$r" = passed ]; then replayed=$((replayed + n)); targets=$((targets + 1)); fi
done
echo "hostile inputs tried: $((replayed + ${execs:-0})) ($replayed corpus inputs through $targets targets in the last run, ${execs:-0} fuzz executions)"
echo
echo "== fault cases (the last run)"
pass=0
fail=0
while read -r name what; do
  [ -n "$name" ] || continue
  r=$(result "$name")
  printf '  %-22s %-8s %s\n' "$name" "$r" "$what"
  case $r in passed) pass=$((pass + 1)) ;; failed) fail=$((fail + 1)) ;; esac
done <<'EOF'
int_plugin_limits      pattern bombs and looping __gc in plugins, at load and in handlers
unit_bounded           the bounded pattern matcher against Lua's, bombs stopped
unit_plugin            a stuck plugin call or load abandoned; later plugins still load
int_log_full_pipe      stderr nobody reads: every request still answered
int_mcp_http_limits    idle/half-sent connections, huge bodies, session floods over HTTP
int_mcp_http_plugins   plugin tools and tools/list_changed in every HTTP session
int_input_hygiene      NUL bytes, non-finite numbers, control characters
int_db_lost            a lost or emptied state database with a budget set
unit_vault             vault tampering, wrong keys, a rolled-back copy
lua_launch_guards      the money or secrets module failing; a damaged vault at launch
lua_job_logs_files     a symlinked or FIFO job log
int_launch_killed      launches killed with SIGKILL/SIGTERM inside sky jobs launch
int_budget_race        concurrent launches against one budget
int_budget_crash       a crash between reservation and settlement
EOF
echo "fault cases: $pass passed, $fail failed"
echo
kills=$(awk '/^[0-9]+\/[0-9]+ Test: int_launch_killed$/ { s = 1 } s && /^ok [0-9]+ - / { n++ } s && /^Test (Passed|Failed)\./ { print n + 0; exit }' "$log")
if [ "$(result int_launch_killed)" = passed ]; then
  echo "lost: 0 (checked: ${kills:-0} killed or stopped launches, each found by name and tracked or cancelled)"
else
  echo "lost: not checked (int_launch_killed did not pass in the last run)"
fi

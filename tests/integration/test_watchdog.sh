#!/usr/bin/env bash
# Watchdogs (issue 15), local backend, smoke workflow with injected faults: a NaN loss, a
# divergence and a stall each stop the job with a checkpoint, the rule's name as the stop
# reason, the evidence and the fix in its status and a "watchdog" event; a healthy run is left
# alone. A user file in <config>/watchdogs/ overrides the stall rule's limits (so the test does
# not wait minutes) and another turns a rule into a warning.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
fail() { echo "FAIL: $*" >&2; [ -n "${last:-}" ] && { "$bin" jobs show "$last" --json >&2 || true; tail -5 "$home/jobs/$last/stderr.log" >&2 || true; }; exit 1; }
launch() { launch_smoke --backend local "$@"; }
# expect_stop ID RULE: terminated by that rule, with a checkpoint, evidence and a fix
expect_stop() {
  local id=$1 rule=$2 js st
  st=$(wait_end "$id")
  js=$(show "$id")
  [ "$st" = terminated ] || fail "$rule: job $id ended $st, expected terminated"
  [ "$(echo "$js" | field stop_reason)" = "watchdog: $rule" ] || fail "$rule: stop reason $(echo "$js" | field stop_reason)"
  [ "$(echo "$js" | field failure.category)" = watchdog ] || fail "$rule: failure category"
  echo "$js" | field failure.message | grep "Evidence: " >/dev/null || fail "$rule: no evidence in the status"
  [ -n "$(echo "$js" | field failure.fixes.0.title)" ] || fail "$rule: no fix in the status"
  watchdog_events "$id" | grep "^$rule stop |" >/dev/null || fail "$rule: no watchdog event"
  ls "$home/jobs/$id/checkpoints" | grep '^checkpoint-' >/dev/null || fail "$rule: no checkpoint saved"
  grep -q "stopped by signal 15" "$home/jobs/$id/stderr.log" || fail "$rule: the program was not stopped by SIGTERM"
  python3 - "$home/jobs/$id/report.json" "$rule" <<'PY' || fail "$rule: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["outcome"]["state"] == "terminated" and r["outcome"]["stop_reason"] == "watchdog: " + sys.argv[2], r["outcome"]
assert any(w.get("rule") == sys.argv[2] and w.get("evidence") for w in r["watchdog"]), r["watchdog"]
assert r["outputs"]["last_checkpoint"], r["outputs"]
PY
  grep "watchdog: $rule" "$home/jobs/$id/report.md" >/dev/null || fail "$rule: report.md"
  echo "ok: $rule: $(watchdog_events "$id")"
}

echo "# 1. a NaN loss stops the job with a checkpoint; the fix lowers the learning rate"
id=$(launch --param max_steps=4000 --param step_delay_s=0.01 --param nan_at_step=60 --param save_steps=20)
expect_stop "$id" non_finite_loss
show "$id" | field failure.fixes.0.arguments.hyperparameters.learning_rate | grep -q '^1.5$' \
  || fail "the fix does not lower learning_rate 5 to 1.5: $(show "$id" | field failure.fixes.0)"

echo "# 2. a divergence stops the job"
id=$(launch --param max_steps=4000 --param step_delay_s=0.01 --param diverge_at_step=80 --param save_steps=20)
expect_stop "$id" divergence

echo "# 3. a stall stops the job (limits lowered by a user watchdog file)"
mkdir -p "$home/watchdogs"
cat > "$home/watchdogs/fast.lua" <<'LUA'
return { kind = "watchdog", name = "fast", rules = { { id = "stalled", settings = { min_s = 3, factor = 5 } } } }
LUA
id=$(launch --param max_steps=4000 --param step_delay_s=0.01 --param stall_at_step=70 --param save_steps=20)
expect_stop "$id" stalled
grep -q "stall_at_step=70: hanging" "$home/jobs/$id/stderr.log" || fail "the stall was not injected"

echo "# 4. a healthy run completes untouched; a rule made a warning only warns"
cat > "$home/watchdogs/warn.lua" <<'LUA'
return { kind = "watchdog", name = "warn", rules = {
  { id = "always_slow", action = "warn", message = "test rule",
    check = function(ctx) if #ctx.steps >= 2 then return "step " .. tostring(ctx.steps[#ctx.steps].step) end end } } }
LUA
id=$(launch --param max_steps=60 --param step_delay_s=0.01)
st=$(wait_end "$id")
[ "$st" = completed ] || fail "healthy run ended $st"
[ "$(watchdog_events "$id" | grep -c '^always_slow warn')" = 1 ] || fail "the warning did not fire exactly once: $(watchdog_events "$id")"
[ "$(watchdog_events "$id" | grep -vc '^always_slow')" = 0 ] || fail "a rule fired on a healthy run: $(watchdog_events "$id")"
[ -z "$(show "$id" | field failure)" ] || fail "a healthy run has a failure"
python3 - "$home/jobs/$id/report.json" <<'PY' || fail "report of the healthy run"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["outcome"]["state"] == "completed", r["outcome"]
t = r["training"]
assert t["steps"] == 60 and isinstance(t["eval_loss"], float) and isinstance(t["final_loss"], float), t
assert t["measured_step_s"] >= 0.01, t
assert r["duration"]["measured_s"] > 0 and r["duration"]["planned_s"] > 0, r["duration"]
assert r["outputs"]["saved"] and r["outputs"]["output"].endswith("/output"), r["outputs"]
assert len(r["attempts"]) == 1, r["attempts"]
PY
grep "| duration |" "$home/jobs/$id/report.md" >/dev/null || fail "report.md has no duration row"
# the same report as the MCP resource vibeml://jobs/{id}/report
cat > "$home/res.lua" <<'LUA'
local R = require "vibeml.resources.job_report"
local text = R.read("vibeml://jobs/" .. arg[1] .. "/report", { id = arg[1] })
local r = vibeml.json.decode(text)
assert(r.id == arg[1] and r.outcome.state == "completed", text)
local ok, e = pcall(R.read, "vibeml://jobs/nope/report", { id = "nope" })
assert(not ok and e.code == "VML_ENOENT", tostring(e))
print("resource ok")
LUA
"$bin" run "$home/res.lua" "$id" | grep "resource ok" >/dev/null || fail "the report resource"
echo "ok: healthy run"
echo "PASS"

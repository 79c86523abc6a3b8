#!/usr/bin/env bash
# Watchdogs through SkyPilot (issue 15), with the VM simulator on PATH as `sky`
# (tests/fixtures/fake_sky): the log pull sees an injected NaN, divergence and stall, cancels the
# managed job (the program gets SIGTERM and saves a checkpoint into the bucket), and the job ends
# terminated with the rule as its reason, the evidence and a fix.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
sim_env
launch() { launch_smoke --backend skypilot "$@"; }
"$bin" doctor >/dev/null 2>&1 || true
mkdir -p "$home/watchdogs"
cat > "$home/watchdogs/fast.lua" <<'LUA'
return { kind = "watchdog", name = "fast", rules = { { id = "stalled", settings = { min_s = 4, factor = 5 } } } }
LUA

n=0
for spec in "non_finite_loss nan_at_step=60" "divergence diverge_at_step=80" "stalled stall_at_step=70"; do
  set -- $spec
  rule=$1 knob=$2
  n=$((n + 1))
  id=$(launch --param max_steps=3000 --param save_steps=20 --param step_delay_s=0.02 --param "$knob")
  last=$id
  st=$(wait_end "$id")
  js=$(show "$id")
  [ "$st" = terminated ] || fail "$rule: ended $st"
  [ "$(echo "$js" | field stop_reason)" = "watchdog: $rule" ] || fail "$rule: stop reason $(echo "$js" | field stop_reason)"
  echo "$js" | field failure.message | grep "Evidence: " >/dev/null || fail "$rule: no evidence"
  [ -n "$(echo "$js" | field failure.fixes.0.title)" ] || fail "$rule: no fix"
  bucket=$(echo "$js" | field outputs.bucket)
  ls "$FAKE_SKY_STATE/buckets/$bucket/$id/checkpoints" | grep '^checkpoint-' >/dev/null || fail "$rule: no checkpoint in the bucket"
  "$bin" jobs logs "$id" | grep "stopped by signal" >/dev/null || fail "$rule: the program did not stop on SIGTERM"
  "$bin" jobs logs "$id" --stream events --tail 100000 | grep '"kind":"watchdog"' >/dev/null || fail "$rule: no watchdog event"
  echo "ok $n - $rule: $(echo "$js" | field failure.message | sed 's/.*Evidence: //')"
done
[ -z "$(ls "$FAKE_SKY_STATE/vms" 2>/dev/null)" ] || fail "a VM is left: $(ls "$FAKE_SKY_STATE/vms")"
echo "PASS"

#!/usr/bin/env bash
# Watchdogs through SkyPilot (issue 15), with the VM simulator on PATH as `sky`
# (tests/fixtures/fake_sky): the log pull sees an injected NaN, divergence and stall, cancels the
# managed job (the program gets SIGTERM and saves a checkpoint into the bucket), and the job ends
# terminated with the rule as its reason, the evidence and a fix.
set -euo pipefail
bin=$(realpath "$1")
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=0
unset VIBEML_SKY
cleanup() { sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"; }
trap cleanup EXIT
cd "$home"
fail() { echo "FAIL: $*" >&2; [ -n "${last:-}" ] && "$bin" jobs show "$last" --json >&2; exit 1; }
field() { python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else (v or {}).get(k)
print("" if v is None else v)' "$1"; }
show() { "$bin" jobs show "$1" --json; }
wait_end() {
  local st=""
  for _ in $(seq 1 600); do
    st=$(show "$1" | field state)
    case "$st" in completed|failed|terminated) echo "$st"; return 0 ;; esac
    sleep 0.25
  done
  echo "$st"
}
launch() { "$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline \
             --backend skypilot "$@" 2>"$home/launch.err" || { cat "$home/launch.err" >&2; fail "launch $*"; }; }
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

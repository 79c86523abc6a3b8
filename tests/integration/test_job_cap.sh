#!/usr/bin/env bash
# `vibeml jobs cap` on a SkyPilot job (the VM simulator `sky`, billed at the smoke's CPU rate):
# a raise is reserved in the ledger and is the cap the job is stopped at (it runs past the old
# one), the re-quote compares against it, the change is an event; a raise over the month's budget
# is refused with the numbers and the fix, a cap below the cost so far and an ended job too.
set -euo pipefail
bin=$(realpath "$1")
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=0
unset VIBEML_SKY
id=
cleanup() {
  [ -z "$id" ] || "$bin" jobs stop "$id" >/dev/null 2>&1 || true
  sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"
}
trap cleanup EXIT
cd "$home"
fail() { echo "FAIL: $*" >&2; exit 1; }
field() { python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else (v or {}).get(k)
print("" if v is None else v)' "$1"; }
show() { "$bin" jobs show "$1" --json; }
ledger() { "$bin" budget show --json | python3 -c '
import json, sys
for j in json.load(sys.stdin)["jobs"]:
    if j["job_id"] == sys.argv[1]: print(j[sys.argv[2]])' "$1" "$2"; }
"$bin" doctor >/dev/null 2>&1 || true
"$bin" budget set --monthly 0.002 >/dev/null

# 0.096 $/h: the old cap $0.0003 is reached after about 11 s of running, the new $0.0006 after
# about 22 s; the run would take 2000 x 0.05 = 100 s
id=$("$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline --backend skypilot \
       --param max_steps=2000 --param step_delay_s=0.05 --max-cost 0.0003 --yes 2>"$home/launch.err") \
  || { cat "$home/launch.err" >&2; fail "launch"; }
for _ in $(seq 1 300); do
  [ "$(show "$id" | field state)" = running ] && break
  sleep 0.1
done
[ "$(show "$id" | field state)" = running ] || fail "not running: $(show "$id" | field state)"
out=$("$bin" jobs cap "$id" 0.0006) || fail "raise refused: $out"
echo "$out"
case "$out" in *"cap \$0.0006"*) ;; *) fail "raise output: $out" ;; esac
[ "$(ledger "$id" reserved)" = 0.0006 ] || fail "ledger holds $(ledger "$id" reserved)"
[ "$(ledger "$id" cap)" = 0.0006 ] || fail "ledger cap $(ledger "$id" cap)"
echo "ok 1 - raised to \$0.0006, reserved in the ledger"

rc=0; "$bin" jobs cap "$id" 0.01 2>"$home/over.err" || rc=$?
[ "$rc" = 3 ] || fail "over-budget raise exit $rc: $(cat "$home/over.err")"
grep -F 'Raising the cap to $0.01 needs' "$home/over.err" >/dev/null || fail "refusal: $(cat "$home/over.err")"
grep -F 'vibeml budget set --monthly' "$home/over.err" >/dev/null || fail "refusal has no fix: $(cat "$home/over.err")"
[ "$(ledger "$id" reserved)" = 0.0006 ] || fail "a refused raise changed the ledger: $(ledger "$id" reserved)"
echo "ok 2 - over the month's budget: $(cat "$home/over.err")"

# past the old cap and still running; the re-quote uses the new cap
for _ in $(seq 1 600); do
  js=$(show "$id")
  [ "$(echo "$js" | field state)" = running ] || fail "ended before the old cap was passed: $(echo "$js" | field state) $(echo "$js" | field cost.accrued)"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0.00035 else 1)' "$(echo "$js" | field cost.accrued)" && break
  sleep 0.2
done
echo "$js" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["state"] == "running" and s["cost"]["accrued"] > 0.0003, s["cost"]
assert s["cost"]["cap"] == 0.0006, s["cost"]
assert s["requote"]["cap"] == 0.0006, s.get("requote")' || fail "past the old cap"
echo "ok 3 - running at $(echo "$js" | field cost.accrued) past the old cap \$0.0003"

rc=0; "$bin" jobs cap "$id" 0.0001 2>"$home/low.err" || rc=$?
[ "$rc" = 2 ] || fail "lowering below the cost so far: exit $rc $(cat "$home/low.err")"
grep -F "below what job $id has already cost" "$home/low.err" >/dev/null || fail "lower: $(cat "$home/low.err")"
echo "ok 4 - $(cat "$home/low.err")"

for _ in $(seq 1 900); do
  st=$(show "$id" | field state)
  case "$st" in completed|failed|terminated) break ;; esac
  sleep 0.2
done
js=$(show "$id")
echo "$js" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["state"] == "terminated" and s["stop_reason"] == "budget", (s["state"], s.get("stop_reason"))
# at the new cap, plus the graceful stop (SIGTERM, checkpoint, cancel: seconds on a loaded
# machine); the uncapped run would cost about 0.0027
assert 0.0006 <= s["cost"]["final"] < 0.0012, s["cost"]' || fail "stop at the new cap: $js"
"$bin" jobs logs "$id" --stream events --tail 100000 | grep -F 'cap raised from $0.0003 to $0.0006 by the CLI' >/dev/null \
  || fail "no cap event"
echo "ok 5 - stopped at the new cap, final $(echo "$js" | field cost.final)"

rc=0; "$bin" jobs cap "$id" 1 2>"$home/ended.err" || rc=$?
[ "$rc" = 1 ] || fail "ended job: exit $rc"
grep -F "has ended (terminated)" "$home/ended.err" >/dev/null || fail "ended: $(cat "$home/ended.err")"
echo "ok 6 - $(cat "$home/ended.err")"
echo PASS

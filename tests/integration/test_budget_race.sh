#!/usr/bin/env bash
# Budget race: 20 real `vibeml run` processes launch (reserve) at the same moment against a
# budget with room for exactly 5. Exactly 5 must be accepted, 15 refused with the numbers, and
# the ledger must sum exactly.
set -u
bin=$1
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
fail() { echo "FAIL: $*"; exit 1; }

"$bin" budget set --monthly 100 >/dev/null || fail "budget set"
cat >"$home/launch.lua" <<'LUA'
local money = require "vibeml.budget"
local id, go = arg[1], arg[2]
while not vibeml.fs.exists(go) do vibeml.sleep(0.005) end      -- start together
local ok, msg, code = money.authorize{ job_id = id, amount = 20 }  -- no ctx: nobody to ask
if ok then print("accepted " .. id) return 0 end
print("refused " .. id .. ": " .. msg)
return code == "VML_EMONEY" and 3 or 1
LUA
pids=()
for i in $(seq -w 1 20); do
  "$bin" run "$home/launch.lua" "job-$i" "$home/go" >"$home/out.$i" 2>&1 &
  pids+=($!)
done
sleep 0.5
touch "$home/go"
acc=0; ref=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"; rc=$?
  case $rc in
    0) acc=$((acc + 1));;
    3) ref=$((ref + 1));;
    *) cat "$home"/out.*; fail "process $i exited $rc";;
  esac
done
echo "accepted=$acc refused=$ref"
[ "$acc" = 5 ] || fail "expected exactly 5 accepted, got $acc"
[ "$ref" = 15 ] || fail "expected 15 refused, got $ref"
grep -h "refused" "$home"/out.* | head -1 | grep -q 'Estimated \$20.00 exceeds the remaining \$0.00 of this month.s budget' \
  || { grep -h refused "$home"/out.* | head -2; fail "refusal text"; }
grep -h "refused" "$home"/out.* | head -1 | grep -q 'vibeml budget set --monthly 120' || fail "refusal command"
db="$home/vibeml.db"
[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM money_ledger")" = 5 ] || fail "ledger rows"
[ "$(sqlite3 "$db" "SELECT SUM(reserved) FROM money_ledger")" = 100000000 ] || fail "ledger sum"
[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM money_events WHERE kind='reserve'")" = 5 ] || fail "events"
"$bin" budget --json | grep -q '"remaining":0' || fail "budget show remaining"
"$bin" budget | grep -q "100.0% used" || fail "budget show percent"
"$bin" budget | grep -q "warning: This month's spending" || fail "80% warning in status"
# the CLI refuses bad amounts with exit 2 and changes nothing
"$bin" budget set --monthly -5 2>/dev/null; [ $? = 2 ] || fail "negative amount exit code"
"$bin" budget set --monthly 1.2345678 2>/dev/null; [ $? = 2 ] || fail "7 decimals exit code"
[ "$(sqlite3 "$db" "SELECT value FROM money_settings WHERE key='monthly_limit'")" = 100000000 ] || fail "limit changed"
echo "ok budget race"

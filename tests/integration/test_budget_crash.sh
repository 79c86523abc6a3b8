#!/usr/bin/env bash
# SIGKILL during reserve or settlement: the next start reconciles. No reservation is held
# forever and no charge is lost.
set -u
bin=$1
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
fail() { echo "FAIL: $*"; exit 1; }
db="$home/vibeml.db"
"$bin" budget set --monthly 100 >/dev/null || fail "budget set"
sql() { sqlite3 -cmd ".timeout 5000" "$db" "$1"; }
# the jobs component's tables and its view job_outcomes, which the ledger reads (the launch
# records its job first)
echo 'require("vibeml.jobs.db").db()' >"$home/jobs_db.lua"
"$bin" run "$home/jobs_db.lua" || fail "jobs migrations"
[ "$(sql "SELECT COUNT(*) FROM sqlite_master WHERE name = 'job_outcomes'")" = 1 ] || fail "no job_outcomes view"

cat >"$home/reserve.lua" <<'LUA'
local ok, msg = require("vibeml.budget").reserve{ job_id = arg[1], amount = tonumber(arg[2]) }
print(ok and "reserved" or msg)
LUA
cat >"$home/settle.lua" <<'LUA'
print(require("vibeml.budget").settle(arg[1], tonumber(arg[2])))
LUA
cat >"$home/status.lua" <<'LUA'
local st = require("vibeml.budget").status()
print(string.format("spent=%s reserved=%s", st.spent, st.reserved))
LUA

# kill -9 a process parked at a pause point; waits until it announces the point first
kill_at() {   # point script args...
  local point=$1; shift
  VIBEML_TEST_BUDGET_PAUSE=$point "$bin" run "$@" 2>"$home/pause.err" &
  local pid=$!
  for _ in $(seq 1 500); do grep -q "paused at $point" "$home/pause.err" 2>/dev/null && break; sleep 0.01; done
  grep -q "paused at $point" "$home/pause.err" || { kill -9 $pid; cat "$home/pause.err"; fail "never reached $point"; }
  kill -9 $pid; wait $pid 2>/dev/null
}

# 1. killed inside the reserve transaction (after the insert, before commit): nothing is held,
#    and the database is not left locked (the next reserve goes through at once)
kill_at reserve "$home/reserve.lua" j1 30
[ "$(sql "SELECT COUNT(*) FROM money_ledger WHERE job_id='j1'")" = 0 ] || fail "half reservation kept"
sql "INSERT INTO jobs(id, name, backend, state, created_at) VALUES('j2', 'j2', 'local', 'running', 0)"
"$bin" run "$home/reserve.lua" j2 30 | grep -q reserved || fail "reserve after crash"

# 2. killed right after the reservation committed, before the launch recorded its job: held
#    during the grace period, released by the next start after it
kill_at reserve-after "$home/reserve.lua" j3 40
[ "$(sql "SELECT state FROM money_ledger WHERE job_id='j3'")" = reserved ] || fail "j3 not reserved"
"$bin" run "$home/status.lua" | grep -q "reserved=70" || fail "j3 must be held during the grace period"
VIBEML_BUDGET_GRACE=0 "$bin" run "$home/status.lua" >"$home/s.txt" || fail "status"
grep -q "reserved=30" "$home/s.txt" || { cat "$home/s.txt"; fail "j3 not released by the next start"; }
[ "$(sql "SELECT state || ':' || final FROM money_ledger WHERE job_id='j3'")" = settled:0 ] || fail "j3 release"

# 3. killed inside settlement of a job that ended: the charge is not lost — the next start
#    settles it from the job record (its cost) and the accrued cost, whichever is larger
cat >"$home/accrue.lua" <<'LUA'
print(require("vibeml.budget").accrue(arg[1], tonumber(arg[2])))
LUA
"$bin" run "$home/accrue.lua" j2 11.75 >/dev/null || fail "accrue"
kill_at settle "$home/settle.lua" j2 12.5
[ "$(sql "SELECT state FROM money_ledger WHERE job_id='j2'")" = reserved ] || fail "a killed settlement must roll back"
[ "$(sql "SELECT accrued FROM money_ledger WHERE job_id='j2'")" = 11750000 ] || fail "accrued lost"
# the job's end is in its record (the supervisor wrote it before settling)
sql "UPDATE jobs SET state = 'completed', cost_final = 12.5 WHERE id = 'j2'"
"$bin" run "$home/status.lua" >"$home/s.txt" || fail "status after settle crash"
grep -q "spent=12.5 reserved=0" "$home/s.txt" || { cat "$home/s.txt"; sql "SELECT * FROM money_ledger"; fail "j2 not settled by the next start"; }
[ "$(sql "SELECT final FROM money_ledger WHERE job_id='j2'")" = 12500000 ] || fail "j2 final"

# 4. the whole ledger sums exactly: j2 12.50 + j3 0
[ "$(sql "SELECT SUM(final) FROM money_ledger WHERE state='settled'")" = 12500000 ] || fail "sum"
[ "$(sql "SELECT COUNT(*) FROM money_ledger WHERE state='reserved'")" = 0 ] || fail "a reservation is held"
sql "PRAGMA integrity_check" | grep -qx ok || fail "integrity"
echo "ok budget crash"

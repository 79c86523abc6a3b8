#!/usr/bin/env bash
# bench/budget.sh — costs of the money ledger and the vault, against the targets they serve.
#   bash bench/budget.sh PATH/TO/vibeml [PROCESSES]
# Prints: reserve+settle per job in one process (target: far below a launch's own ~1 s of
# planning), P processes reserving at once (wall time for all), the vault's unlock cost with a
# key file and with Argon2id (interactive limits), and redaction throughput. Asserts nothing.
set -eu
bin=$(realpath "$1"); procs=${2:-20}
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
"$bin" budget set --monthly 1000000 >/dev/null
cat >"$home/seq.lua" <<'LUA'
local money = require "vibeml.budget"
local n = tonumber(arg[1])
local t0 = vibeml.monotonic()
for i = 1, n do
  assert(money.reserve{ job_id = "seq-" .. i, amount = 1.5 })
  assert(money.settle("seq-" .. i, 1.25))
end
local dt = vibeml.monotonic() - t0
print(string.format("reserve+settle: %d jobs in %.3f s = %.2f ms per job (%.0fx under a 1 s launch budget)",
  n, dt, dt * 1000 / n, 1 / (dt / n)))
LUA
"$bin" run "$home/seq.lua" 200
cat >"$home/one.lua" <<'LUA'
local ok = require("vibeml.budget").reserve{ job_id = arg[1], amount = 1 }
LUA
t0=$(date +%s.%N)
for i in $(seq 1 "$procs"); do "$bin" run "$home/one.lua" "par-$i" & done; wait
t1=$(date +%s.%N)
echo "$procs processes reserving at once: $(echo "$t1 - $t0" | bc) s wall for all (process start included)"
[ "$(sqlite3 "$home/vibeml.db" "SELECT COUNT(*) FROM money_ledger WHERE job_id LIKE 'par-%'")" = "$procs" ] || echo "MISMATCH"
printf 'bench-secret-value-0123456789' | "$bin" secrets set BENCH_TOKEN 2>/dev/null
cat >"$home/unlock.lua" <<'LUA'
local t0 = vibeml.monotonic()
local n = tonumber(arg[1])
for _ = 1, n do local h = assert(vibeml.vault.env_for({ "BENCH_TOKEN" })); h:close() end
local dt = (vibeml.monotonic() - t0) / n
local text = string.rep("a log line with no secret in it, 64 bytes of ordinary output...\n", 16384)
vibeml.vault.redact("warm-up")   -- the first call loads the whole vault for redaction
local t1 = vibeml.monotonic()
local _, hits = vibeml.vault.redact(text .. "bench-secret-value-0123456789")
local rt = vibeml.monotonic() - t1
print(string.format("%s: unlock+decrypt %.2f ms; redact 1 MiB in %.2f ms (%.0f MiB/s), %d hit",
  arg[2], dt * 1000, rt * 1000, 1 / rt, hits))
LUA
"$bin" run "$home/unlock.lua" 20 "key-file vault"
home2=$home/pw; mkdir -p "$home2"
printf 'bench-secret-value-0123456789' | VIBEML_HOME=$home2 VIBEML_PASSPHRASE=bench-pass "$bin" secrets set BENCH_TOKEN 2>/dev/null
VIBEML_HOME=$home2 VIBEML_PASSPHRASE=bench-pass "$bin" run "$home/unlock.lua" 3 "Argon2id vault (64 MiB, 2 passes)"

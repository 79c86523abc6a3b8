#!/usr/bin/env bash
# A local job survives the process that launched it being killed with SIGKILL mid-job: the job's
# detached supervisor keeps running, and the next process (a fresh `vibeml run`) still tracks it
# to `completed`, with its progress.
set -euo pipefail
bin=$1
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
cat > "$home/launch.lua" <<'LUA'
local jobs = require "vibeml.jobs"
local run = [[for i in $(seq 1 20); do echo "@@VIBEML {\"v\":1,\"event\":\"step\",\"step\":$i,\"total_steps\":20,\"loss\":0.$i}"; sleep 0.15; done]]
local job = assert(jobs.launch({ task = { name = "survivor", run = run } }, { backend = "local" }))
vibeml.fs.write(arg[1], job.id)
job:wait{ timeout = 120 }   -- killed long before this returns
LUA
cat > "$home/track.lua" <<'LUA'
local jobs = require "vibeml.jobs"
local id = vibeml.fs.read(arg[1])
local st = assert(jobs.status(id))
assert(st.state == "running", "still running after the launcher died: " .. st.state)
st = assert(jobs.get(id):wait{ timeout = 60 })
assert(st.state == "completed", "completed: " .. st.state)
assert(st.progress.step == 20, "progress tracked: " .. tostring(st.progress.step))
print("tracked " .. id .. " to " .. st.state .. " at step " .. st.progress.step)
LUA
"$bin" run "$home/launch.lua" "$home/id" &
launcher=$!
for _ in $(seq 1 100); do [ -s "$home/id" ] && break; sleep 0.05; done
sleep 0.8
kill -9 "$launcher"
wait "$launcher" 2>/dev/null || true
id=$(cat "$home/id")
# the supervisor is alive and is not the launcher's child any more
pid=$(sqlite3 "$home/vibeml.db" "SELECT pid FROM jobs WHERE id='$id'" 2>/dev/null || true)
"$bin" run "$home/track.lua" "$home/id"
# no processes of the job are left
# (the supervisor exits right after recording the end; give it a moment)
for _ in $(seq 1 50); do
  [ -n "$pid" ] && [ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ] || break
  sleep 0.1
done
if [ -n "$pid" ] && [ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ]; then
  echo "supervisor $pid still alive"; exit 1
fi
echo ok

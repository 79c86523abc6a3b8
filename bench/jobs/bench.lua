-- Jobs benchmarks (numbers, not assertions): run by bench/jobs/run.sh with the fake `sky` on PATH.
--   * poll cost per interval for N = 1, 10, 100, 500 SkyPilot jobs (sky calls and wall time)
--   * status latency (store read + status shaping), p50/p99 over 1000 reads with 500 jobs
--   * launch_training -> returned handle, local backend (smoke) and SkyPilot (fake sky)
local jobs = require "vibeml.jobs"
local jdb = require "vibeml.jobs.db"
local sky = require "vibeml.jobs.skypilot"
local STATE = os.getenv("FAKE_SKY_STATE")

local function calls()
  local n = 0
  for _ in (vibeml.fs.read(STATE .. "/argv.log") or ""):gmatch("[^\n]+") do n = n + 1 end
  return n
end

local function seed(n)
  local db = jdb.db()
  db:exec("DELETE FROM jobs")
  local f = vibeml.json.decode(vibeml.fs.read(STATE .. "/state.json") or "{}") or {}
  f.jobs = {}
  db:tx(function()
    for i = 1, n do
      local id = string.format("jb-%05d", i)
      db:exec([[INSERT INTO jobs(id, name, backend, mode, backend_id, state, created_at, updated_at, dir, rate_hr, nodes, billing_since)
                VALUES(?, ?, 'skypilot', 'managed', ?, 'running', ?, ?, '/tmp', 2.5, 1, ?)]], id, id, tostring(i), vibeml.time(), vibeml.time(), vibeml.time())
      f.jobs[tostring(i)] = { job_id = i, job_name = id, script = { "RUNNING" }, pos = 0, status = "RUNNING",
        recovery_count = 0, submitted_at = 1, end_at = vibeml.null, resources = "1x[H100:1]", log = vibeml.array({}) }
    end
  end)
  if n == 0 then f.jobs = vibeml.object({}) end
  vibeml.fs.write(STATE .. "/state.json", vibeml.json.encode(f))
end

-- baseline: one bare `sky` invocation (process start-up of the CLI) on this machine
local t0 = vibeml.monotonic()
for _ = 1, 3 do vibeml.proc.run({ sky.sky_path(), "api", "info", "-o", "json" }) end
local bare = (vibeml.monotonic() - t0) / 3
print(string.format("baseline: one bare `sky api info` call: %.3f s", bare))

for _, n in ipairs({ 1, 10, 100, 500 }) do
  seed(n)
  vibeml.fs.write(STATE .. "/argv.log", "")
  local s = vibeml.monotonic()
  local rounds = 3
  for _ = 1, rounds do jobs.poll({ force = true }) end
  local per = (vibeml.monotonic() - s) / rounds
  print(string.format("poll N=%4d: %d sky call(s) per interval, %.3f s per interval (%.2fx one bare sky call), %.3f ms per job",
    n, calls() // rounds, per, per / bare, per / n * 1000))
end

-- status latency with 500 jobs in the store
local lat = {}
for i = 1, 1000 do
  local s = vibeml.monotonic()
  jobs.status(string.format("jb-%05d", (i % 500) + 1))
  lat[i] = vibeml.monotonic() - s
end
table.sort(lat)
print(string.format("status latency (500 jobs in store): p50 %.3f ms, p99 %.3f ms", lat[500] * 1000, lat[990] * 1000))
local s = vibeml.monotonic()
local list = jobs.list({ limit = 50 })
print(string.format("list_jobs (50 of 500): %.2f ms", (vibeml.monotonic() - s) * 1000))

-- launch -> handle
jdb.db():exec("DELETE FROM jobs")
local tool = require "vibeml.tools.launch_training"
local c = { progress = function() end }
local times = {}
for i = 1, 3 do
  s = vibeml.monotonic()
  local st = tool.handler({ model = "test/tiny-0.1B", dataset = "test/text", workflow = "smoke", backend = "local",
    offline = true, hyperparameters = { max_steps = 5 } }, c)
  times[i] = vibeml.monotonic() - s
  assert(st, "launch")
end
table.sort(times)
print(string.format("launch_training -> handle (local, smoke): median %.3f s", times[2]))
sky.reset_cache()
local task = { name = "b", resources = { accelerators = "H100:1" }, run = "true" }
s = vibeml.monotonic()
assert(jobs.launch({ task = task }, { backend = "skypilot" }))
local cold = vibeml.monotonic() - s
s = vibeml.monotonic()
assert(jobs.launch({ task = task }, { backend = "skypilot" }))
local warm = vibeml.monotonic() - s
print(string.format("launch -> handle (skypilot, fake sky): cold %.3f s (api info + check + jobs launch), warm %.3f s (jobs launch only) = %.2fx one bare sky call",
  cold, warm, warm / bare))

-- Cases for test_jobs_skypilot.sh (run with the fake `sky` on PATH, FAKE_SKY_STATE set).
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"
local sky = require "vibeml.jobs.skypilot"
local jdb = require "vibeml.jobs.db"

local STATE = os.getenv("FAKE_SKY_STATE")
vibeml.fs.mkdirs(STATE)

local function fake() return vibeml.json.decode(vibeml.fs.read(STATE .. "/state.json") or "{}") or {} end
local function set_fake(f)
  local st = fake()
  for k, v in pairs(f) do st[k] = v end
  if next(st.jobs or {}) == nil then st.jobs = vibeml.object({}) end
  if next(st.clusters or {}) == nil then st.clusters = vibeml.object({}) end
  vibeml.fs.write(STATE .. "/state.json", vibeml.json.encode(st))
end
local function argv_log()
  local out = {}
  for l in (vibeml.fs.read(STATE .. "/argv.log") or ""):gmatch("[^\n]+") do out[#out + 1] = vibeml.json.decode(l) end
  return out
end
local function clear_log() vibeml.fs.write(STATE .. "/argv.log", "") end
-- these cases drive the stand-in's scripted mode (status scripts, canned logs), not its VM
set_fake({ mode = "scripted" })
local function joined(a) return table.concat(a, " ") end

local function task(extra)
  local t = { name = "ft", resources = { accelerators = "A100:1", infra = "aws/us-east-1" },
              envs = { VIBEML_PARAMS = "{\"model\":\"m\"}" }, secrets = { HF_TOKEN = vibeml.null },
              setup = "echo setup", run = "python3 train.py" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return { task = t, workflow = "lora", model = "meta-llama/Llama-3.2-1B", dataset = "yahma/alpaca-cleaned",
           rate_hr = 36, estimate = { cost = { min = 1, expected = 2, max = 3 }, duration_h = { 0.5, 1, 2 } } }
end

-- every scripted job's log reports its output saved (an artifact event): without one, a
-- SUCCEEDED job is a failure, since its VM and disk are gone
set_fake({ job_log = {
  "@@VIBEML {\"v\":1,\"event\":\"step\",\"step\":7,\"total_steps\":20,\"loss\":1.25,\"lr\":0.0002,\"tokens_per_s\":900.5,\"eta_s\":65}",
  "{'loss': 1.2345, 'grad_norm': 0.5, 'learning_rate': 0.0002, 'epoch': 0.35}",
  "@@VIBEML {\"v\":1,\"event\":\"artifact\",\"path\":\"~/vibeml/x/output\",\"files\":[\"adapter_model.safetensors\"]}" } })

local function poll_until(id, pred, n)
  local st
  for _ = 1, n or 20 do
    jobs.poll({ force = true })
    st = jobs.status(id)
    if pred(st) then return st end
  end
  return st
end

T.case("version and enabled clouds come from `sky api info -o json` and `sky check -o json`", function()
  clear_log()
  local v = assert(sky.version())
  T.eq(v, "0.12.1")
  local clouds = assert(sky.clouds())
  T.eq(joined(clouds), "aws nebius")
  local log = argv_log()
  T.eq(joined(log[1]), "api info -o json"); T.eq(joined(log[2]), "check -o json")
  T.eq(jobs.default_backend(), "skypilot")
  -- too old, and nothing enabled: clear errors
  sky.reset_cache(); set_fake({ version = "0.11.2" })
  local ok, msg = sky.version()
  T.eq(ok, nil); T.contains(msg, ">= 0.12"); T.contains(msg, "pip install -U")
  sky.reset_cache(); set_fake({ version = "0.12.1", clouds = vibeml.object({}) })
  ok, msg = sky.clouds()
  T.eq(ok, nil); T.contains(msg, "sky check nebius")
  local job, lmsg = jobs.launch(task(), { backend = "skypilot" })
  T.eq(job, nil); T.contains(lmsg, "no cloud is enabled")
  sky.reset_cache(); set_fake({ clouds = { AWS = { "compute" }, Nebius = { "compute" } } })
end)

T.case("managed launch: exact argv, ids parsed, states tracked to completed, logs archived, cost", function()
  clear_log()
  local t0 = vibeml.monotonic()
  local job = assert(jobs.launch(task(), { backend = "skypilot" }))
  local handle_s = vibeml.monotonic() - t0
  local row = jdb.get(job.id)
  local log = argv_log()
  local launch = log[#log]
  T.eq(joined(launch), "jobs launch " .. row.dir .. "/task.yaml -n vml-" .. job.id .. " -y -d --secret HF_TOKEN")
  T.eq(row.backend_id, "1"); T.eq(row.mode, "managed"); T.eq(row.state, "launching")
  -- the task file is JSON in a *.yaml, secrets by name only, spot by default
  local tf = vibeml.json.decode(vibeml.fs.read(row.dir .. "/task.yaml"))
  T.eq(tf.secrets.HF_TOKEN, vibeml.null); T.eq(tf.vibeml, nil)
  for l in vibeml.fs.read(STATE .. "/env.log"):gmatch("[^\n]+") do
    T.eq(vibeml.json.decode(l).usage_collection_disabled, "1", "SKYPILOT_DISABLE_USAGE_COLLECTION")
  end
  local st = jobs.status(job.id)
  T.contains(st.where, "SkyPilot managed job 1")
  local seen = {}
  st = poll_until(job.id, function(s) seen[#seen + 1] = s.state; return s.state == "completed" end)
  T.eq(st.state, "completed")
  T.contains(joined(seen), "running")
  T.eq(st.exit_code, 0)
  -- the archived log: ANSI stripped, SkyPilot's prefix kept, progress read through it
  local text = vibeml.fs.read(row.dir .. "/stdout.log")
  T.eq(text:find("\27", 1, true), nil, "no ANSI")
  T.contains(text, "(task, pid=4242) @@VIBEML")
  T.eq(st.progress.step, 7); T.eq(st.progress.total_steps, 20); T.eq(st.progress.loss, 1.25)
  T.eq(st.progress.tokens_per_s, 900.5)
  T.ok(st.cost.final ~= nil, "final cost recorded")
  local calls = argv_log()
  local logs_call
  for _, a in ipairs(calls) do if a[1] == "jobs" and a[2] == "logs" then logs_call = a end end
  T.eq(joined(logs_call), "jobs logs 1 --no-follow")
  print(string.format("bench: launch_training -> handle %.3f s (fake sky)", handle_s))
end)

T.case("preemption: RECOVERING -> RUNNING, recovery counted and recorded", function()
  set_fake({ next_script = { "PENDING", "RUNNING", "RECOVERING", "RECOVERING", "RUNNING", "SUCCEEDED" } })
  local job = assert(jobs.launch(task(), { backend = "skypilot" }))
  local states = {}
  local st = poll_until(job.id, function(s)
    if states[#states] ~= s.state then states[#states + 1] = s.state end
    return s.state == "completed"
  end)
  T.eq(table.concat(states, ">"), "running>recovering>running>completed")
  T.eq(st.recoveries, 1)
  local ev = jobs.logs(job.id, { stream = "events" })
  local found
  for _, l in ipairs(ev.lines) do if l:find('"kind":"recovery"', 1, true) then found = l end end
  T.ok(found, "recovery event"); T.contains(found, "resumes from its last checkpoint")
end)

local FAILS = {
  { cls = "ResourcesUnavailableError", msg = "Failed to provision all possible launchable resources. Relax the task's resource requirements: 1x AWS(p4d.24xlarge, {'A100': 8}). To keep retrying until the cluster is up, use the `--retry-until-up` flag.", cat = "capacity" },
  { cls = "ResourcesUnavailableError", msg = "Found no quota for p4d.24xlarge spot instances in region us-east-1 in AWS. To request quotas, check the instruction: https://docs.skypilot.co/en/latest/cloud-setup/quota.html.", cat = "quota" },
  { cls = "ResourcesUnavailableError", msg = "Failed to provision on cloud Nebius due to invalid cloud credentials: token expired", cat = "credentials", fix = "nebius iam get-access-token" },
  { cls = "ResourcesUnavailableError", msg = "Task requires Nebius which is not enabled. To enable access, change the task cloud requirement or run: sky check nebius", cat = "cloud_not_enabled", fix = "sky check nebius" },
  { cls = "ValueError", msg = "Invalid task YAML: Instead of 'accelerator', did you mean 'accelerators'?", cat = "invalid_resource" },
  { cls = "ResourcesUnavailableError", msg = "Catalog does not contain any instances satisfying the request: 1x Nebius({'H100': 3}). Try one of these offered accelerators: ['H100:1', 'H100:8']", cat = "invalid_resource" },
  { cls = "NoCloudAccessError", msg = "Cloud access is not set up. Run: sky check", cat = "cloud_not_enabled" },
}

T.case("launch failures in each category carry advice; nothing is retried that cannot succeed", function()
  for _, f in ipairs(FAILS) do
    set_fake({ fail_next_launch = { class = f.cls, message = f.msg, times = 1 } })
    clear_log()
    local t = task(); t.task.resources.infra = "nebius"
    local job, msg = jobs.launch(t, { backend = "skypilot" })
    T.eq(job, nil)
    local row = jdb.db():first("SELECT * FROM jobs ORDER BY created_at DESC LIMIT 1")
    local st = jobs.status(row.id)
    T.eq(st.state, "failed"); T.eq(st.failure.category, f.cat, f.msg)
    T.ok(#st.failure.fixes >= 1, "fixes for " .. f.cat)
    if f.fix then
      local all = {}
      for _, x in ipairs(st.failure.fixes) do all[#all + 1] = (x.command or "") .. (x.title or "") end
      T.contains(table.concat(all, "|"), f.fix)
    end
    local launches = 0
    for _, a in ipairs(argv_log()) do if a[2] == "launch" then launches = launches + 1 end end
    T.eq(launches, 1, "not retried: " .. f.cat)
  end
end)

T.case("transient API server failures retry with backoff; persistent ones give up with advice", function()
  set_fake({ fail_next_launch = { class = "ApiServerConnectionError", times = 1,
    message = "Could not connect to SkyPilot API server at http://127.0.0.1:46580. Please ensure that the server is running." } })
  clear_log()
  local job = assert(jobs.launch(task(), { backend = "skypilot" }))
  T.eq(jdb.get(job.id).attempts, 2)
  set_fake({ fail_next_launch = { class = "ApiServerConnectionError", times = 9,
    message = "Could not connect to SkyPilot API server at http://127.0.0.1:46580." } })
  local j2, msg = jobs.launch(task(), { backend = "skypilot" })
  T.eq(j2, nil)
  local row = jdb.db():first("SELECT * FROM jobs ORDER BY created_at DESC LIMIT 1")
  T.eq(row.attempts, 3); T.eq(row.failure_category, "api_server")
  T.contains(row.failure_advice, "sky api start")
  set_fake({ fail_next_launch = vibeml.null })
end)

T.case("job failures after launch: user code, setup, no resources, controller", function()
  local cases = { { "FAILED", "user_code" }, { "FAILED_SETUP", "setup" }, { "FAILED_NO_RESOURCE", "capacity" },
                  { "FAILED_CONTROLLER", "setup" }, { "FAILED_PRECHECKS", "invalid_resource" } }
  for _, c in ipairs(cases) do
    set_fake({ next_script = { "RUNNING", c[1] } })
    local job = assert(jobs.launch(task(), { backend = "skypilot" }))
    local st = poll_until(job.id, function(s) return s.state == "failed" end)
    T.eq(st.state, "failed", c[1]); T.eq(st.failure.category, c[2], c[1])
    T.ok(#st.failure.fixes >= 1 or c[2] == "preempted", "fixes for " .. c[1])
    T.eq(st.exit_code, 100)
  end
  -- a training error in the log wins over the generic FAILED
  set_fake({ next_script = { "RUNNING", "FAILED" },
             next_log = { "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB" } })
  local job = assert(jobs.launch(task(), { backend = "skypilot" }))
  local st = poll_until(job.id, function(s) return s.state == "failed" end)
  T.eq(st.failure.category, "user_code"); T.contains(st.failure.message, "GPU ran out of memory")
end)

T.case("cancel a running managed job: sky jobs cancel -y, terminated, final cost", function()
  set_fake({ next_script = { "PENDING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED" } })
  local job = assert(jobs.launch(task(), { backend = "skypilot" }))
  poll_until(job.id, function(s) return s.state == "running" end)
  clear_log()
  local st = assert(job:stop({ wait = false }))
  st = poll_until(job.id, function(s) return s.state == "terminated" end, 5)
  T.eq(st.state, "terminated"); T.eq(st.stop_reason, "user"); T.ok(st.cost.final ~= nil, "final cost")
  local row = jdb.get(job.id)
  T.eq(joined(argv_log()[1]), "jobs cancel -y " .. row.backend_id)
end)

T.case("a managed job reaching its cost cap is cancelled (reason budget)", function()
  set_fake({ next_script = { "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED" } })
  local t = task(); t.rate_hr = 36000 -- 10 $/s
  local job = assert(jobs.launch(t, { backend = "skypilot", cap = 0.5 }))
  local st = poll_until(job.id, function(s) return s.state == "terminated" end, 10)
  T.eq(st.state, "terminated"); T.eq(st.stop_reason, "budget")
  T.ok(st.cost.final >= 0.5, "final cost at least the cap: " .. tostring(st.cost.final))
end)

T.case("cluster runs: sky launch -c NAME -y -d, tracked via status + queue, torn down at the end", function()
  clear_log()
  local job = assert(jobs.launch(task(), { backend = "skypilot", managed = false }))
  local row = jdb.get(job.id)
  T.eq(joined(argv_log()[#argv_log()]), "launch " .. row.dir .. "/task.yaml -c vml-" .. job.id .. " -y -d --secret HF_TOKEN")
  T.eq(row.mode, "cluster"); T.eq(row.backend_id, "1")
  T.contains(jobs.status(job.id).where, "SkyPilot cluster vml-" .. job.id)
  local st = poll_until(job.id, function(s) return s.state == "completed" end)
  T.eq(st.state, "completed")
  local downs = 0
  for _, a in ipairs(argv_log()) do if a[1] == "down" then downs = downs + 1; T.eq(joined(a), "down -y vml-" .. job.id) end end
  T.eq(downs, 1)
  -- a cluster that vanished = preempted
  local j2 = assert(jobs.launch(task(), { backend = "skypilot", managed = false }))
  local f = fake(); f.clusters = vibeml.object({}); vibeml.fs.write(STATE .. "/state.json", vibeml.json.encode(f))
  st = poll_until(j2.id, function(s) return s.state == "failed" end, 3)
  T.eq(st.failure.category, "preempted")
  T.contains(st.failure.fixes[1].title, "managed job")
end)

T.case("one `sky jobs queue` call per poll for N = 1, 10, 500 jobs", function()
  for _, n in ipairs({ 1, 10, 500 }) do
    -- N running managed jobs known to both sides
    local db = jdb.db()
    db:exec("DELETE FROM jobs")
    local f = fake(); f.jobs = {}
    db:tx(function()
      for i = 1, n do
        local id = string.format("jbench-%04d", i)
        db:exec([[INSERT INTO jobs(id, name, backend, mode, backend_id, state, created_at, updated_at, dir, rate_hr, nodes)
                  VALUES(?, ?, 'skypilot', 'managed', ?, 'running', ?, ?, ?, 1.5, 1)]], id, id, tostring(1000 + i),
                  vibeml.time(), vibeml.time(), "/tmp")
        f.jobs[tostring(1000 + i)] = { job_id = 1000 + i, job_name = id, script = { "RUNNING" }, pos = 0,
          status = "RUNNING", recovery_count = 0, submitted_at = 1, end_at = vibeml.null, resources = "1x[A100:1]", log = vibeml.array({}) }
      end
    end)
    vibeml.fs.write(STATE .. "/state.json", vibeml.json.encode(f))
    clear_log()
    local t0 = vibeml.monotonic()
    for _ = 1, 3 do jobs.poll({ force = true }) end
    local per = (vibeml.monotonic() - t0) / 3
    local calls = argv_log()
    T.eq(#calls, 3, "sky calls for N=" .. n)
    for _, a in ipairs(calls) do T.eq(joined(a), "jobs queue -o json -v") end
    -- status read latency (store only, no sky call)
    local s0 = vibeml.monotonic()
    for i = 1, 100 do jobs.status(string.format("jbench-%04d", (i % n) + 1)) end
    local lat = (vibeml.monotonic() - s0) / 100
    print(string.format("bench: N=%d poll %.3f s per interval (1 sky call), status latency %.2f ms", n, per, lat * 1000))
    -- an interval shared: a second poll right away makes no call
    clear_log()
    jobs.poll({ interval = 60 }); jobs.poll({ interval = 60 })
    T.ok(#argv_log() <= 1, "at most one call per interval")
  end
end)

T.case("a cloud launch with no estimate and no cap is refused while a budget is set", function()
  local budget = require "vibeml.budget"
  local before = budget.limits()
  -- the earlier cases' jobs accrue for as long as the machine is slow: the limit leaves $100
  -- above whatever they have spent or reserved by now, so only this case's rule is tested
  local st = budget.status()
  assert(budget.set_limits({ monthly = math.ceil((st.spent or 0) + (st.reserved or 0)) + 100 }))
  clear_log()
  local t = task()
  t.estimate, t.rate_hr = nil, nil
  local job, msg, code = jobs.launch(t, { backend = "skypilot" })
  T.eq(job, nil)
  T.eq(code, "VML_EMONEY")
  T.contains(msg, "no cost estimate and no cap")
  for _, a in ipairs(argv_log()) do T.ok(a[1] ~= "jobs" or a[2] ~= "launch", "nothing was launched") end
  -- with a cap it is held against the budget and goes ahead
  local ok = jobs.launch(t, { backend = "skypilot", cap = 5 })
  T.ok(ok, "a capped launch goes ahead")
  budget.set_limits({ monthly = before.monthly or false, per_job = before.per_job or false })
end)

return T.run()

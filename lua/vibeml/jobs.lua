-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs — launch, track, read and stop training jobs (contract 4).
--   jobs.launch(plan_or_request, opts) -> Job | nil, message, code [, info]
--       plan: the planner's plan table ({task=, best=, request=, workflow=, ...});
--       request: {model=, dataset=, workflow=, hyperparameters=, ...} planned through
--       vibeml.planner (and built through vibeml.workflows) when those are installed;
--       {task = <SkyPilot task table>, workflow=, model=, ...}: a ready task.
--       opts: backend = "local"|"skypilot" (default: preference, else skypilot when `sky` is
--       present with a cloud enabled, else local), name=, cap= (USD; stop at this cost),
--       rate_hr= (USD per node-hour; taken from the plan when there is one), grace= (seconds
--       between SIGTERM and SIGKILL on stop), managed= (skypilot: managed job, default true),
--       secrets= (SecretEnv), progress = function(done, total, message).
--   jobs.get(id) -> Job | nil, message, code       jobs.status(id) -> status table
--   jobs.list{state=, backend=, limit=, offset=} -> { status, ... }, total
--   jobs.stop(id [, {reason=, grace=, wait=}]) -> status
--   jobs.logs(id, {stream = "stdout"|"stderr"|"events", tail = N, since = cursor})
--       -> {stream=, lines={...}, cursor=, truncated=}
--   jobs.poll([{force = true}]) -> changed ids (one backend status call per interval for all jobs)
--   jobs.wait(id, {timeout=, interval=}) -> status | nil, "timeout", "VML_ETIMEOUT"
--   jobs.refresh(id) -> poll + (SkyPilot) log pull, both rate-limited
-- Job: job.id, job:status(), job:wait{timeout=}, job:logs{tail=, stream=} (iterator over lines),
--      job:stop([opts]).
-- Changes are announced with events.emit("job_changed", id) and
-- events.emit("resource_updated", "vibeml://jobs/<id>") (and .../logs).
local jdb = require "vibeml.jobs.db"
local events = require "vibeml.events"

local M = {}

M.POLL_INTERVAL = tonumber(os.getenv("VIBEML_POLL_INTERVAL") or "") or 5

local function guarded(name)
  local ok, m = pcall(require, name)
  if ok and type(m) == "table" then return m end
  return nil
end

local backends = {}
function M.backend(name)
  if not backends[name] then
    local ok, b = pcall(require, "vibeml.jobs." .. name)
    if not ok or type(b) ~= "table" then return nil end
    backends[name] = b
  end
  return backends[name]
end

local function fail(msg, code, info) return nil, msg, code or "VML_EINVAL", info end

local function announce(id)
  events.emit("job_changed", id)
  events.emit("resource_updated", "vibeml://jobs/" .. id)
  events.emit("resource_updated", "vibeml://jobs/" .. id .. "/logs")
end
M.announce = announce

-- {=============================================================== status

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  local v = vibeml.json.decode(s)
  return v
end

local function round(x, d)
  if type(x) ~= "number" then return x end
  local m = 10 ^ (d or 4)
  return math.floor(x * m + 0.5) / m
end

function M.where(row)
  if row.backend == "local" then
    return "this machine (local backend)"
  end
  local place = row.cloud and (row.cloud .. (row.region and ("/" .. row.region) or "")) or "the cheapest enabled cloud SkyPilot finds"
  local what = row.gpu and (string.format("%sx%s", math.tointeger(row.gpu_count or 1) or 1, row.gpu)) or "resources"
  if row.mode == "cluster" then
    return string.format("SkyPilot cluster %s on %s (%s%s)", row.cluster or row.sky_name or "?", place, what, row.spot == 1 and ", spot" or "")
  end
  return string.format("SkyPilot managed job %s on %s (%s%s)", row.backend_id or "(not yet assigned)", place, what, row.spot == 1 and ", spot" or "")
end

function M.status_of(row)
  local now = jdb.now()
  local accrued = row.cost_final or (jdb.TERMINAL[row.state] and row.cost_accrued) or math.max(row.cost_accrued or 0, jdb.cost_of(row, now))
  local pct
  if row.step and row.total_steps and row.total_steps > 0 then pct = round(100 * row.step / row.total_steps, 1) end
  local failure
  if row.failure_category then
    failure = { category = row.failure_category, message = row.failure_message,
                fixes = decode(row.failure_advice) or vibeml.array(), retry = row.failure_retry == 1 }
  end
  local runtime
  if row.started_at then runtime = round((row.ended_at or now) - row.started_at, 1) end
  return {
    id = row.id, name = row.name, state = row.state, backend = row.backend, where = M.where(row),
    workflow = row.workflow, model = row.model, dataset = row.dataset,
    backend_ids = { sky_job_id = row.mode == "managed" and row.backend_id or nil,
                    cluster = row.cluster, sky_name = row.sky_name,
                    pid = row.backend == "local" and row.pid or nil,
                    backend_status = row.backend_status },
    progress = { step = row.step, total_steps = row.total_steps, percent = pct, loss = row.loss,
                 learning_rate = row.lr, tokens_per_s = row.tokens_per_s, eta_s = row.eta_s,
                 epoch = row.epoch, updated_at = row.progress_at },
    cost = { currency = "USD", rate_hr = row.rate_hr, nodes = row.nodes, accrued = round(accrued, 4),
             final = row.cost_final and round(row.cost_final, 4) or nil, cap = row.cap_usd,
             billed_hours = round(jdb.billed_seconds(row, now) / 3600, 4) },
    estimate = decode(row.estimate),
    offer = decode(row.offer),
    created_at = row.created_at, started_at = row.started_at, ended_at = row.ended_at,
    runtime_s = runtime, attempts = row.attempts, recoveries = row.recoveries,
    exit_code = row.exit_code, stop_reason = row.stop_reason, failure = failure,
    log_dir = row.dir,
  }
end

function M.status(id)
  local row = jdb.get(id)
  if not row then return fail("no job '" .. tostring(id) .. "' (list them with `vibeml jobs list`)", "VML_ENOENT") end
  return M.status_of(row)
end

-- }===============================================================

-- {=============================================================== the Job handle

local Job = {}
Job.__index = Job

function Job:status() return M.status(self.id) end
function Job:wait(opts) return M.wait(self.id, opts) end
function Job:stop(opts) return M.stop(self.id, opts) end
function Job:logs(opts)
  local r, msg, code = M.logs(self.id, opts)
  if not r then return nil, msg, code end
  local i = 0
  return function()
    i = i + 1
    return r.lines[i]
  end
end
Job.__tostring = function(self) return "vibeml.Job(" .. self.id .. ")" end

function M.get(id)
  local row = jdb.get(id)
  if not row then return fail("no job '" .. tostring(id) .. "'", "VML_ENOENT") end
  return setmetatable({ id = id, backend = row.backend }, Job)
end

-- }===============================================================

-- {=============================================================== launch

local function sky_available()
  local sky = M.backend("skypilot")
  if not sky then return false end
  local ok, res = pcall(sky.usable)
  return ok and res == true
end

function M.default_backend()
  local prefs = guarded("vibeml.prefs")
  if prefs and prefs.get then
    local ok, p = pcall(prefs.get)
    if ok and type(p) == "table" and (p.backend == "local" or p.backend == "skypilot") then return p.backend, "preference" end
  end
  if sky_available() then return "skypilot", "sky is installed with a cloud enabled" end
  return "local", "no SkyPilot with an enabled cloud found"
end

-- Turns what launch was given into {task=, info=} or nil, message, code.
local function resolve(input, opts)
  if type(input) ~= "table" then return fail("launch needs a plan or a request table") end
  local plan
  if input.best and input.request then
    plan = input
  elseif input.task then
    return { task = input.task, info = { workflow = input.workflow or (input.task.vibeml or {}).workflow,
      model = input.model, dataset = input.dataset, params = input.hyperparameters,
      rate_hr = input.rate_hr, gpu_required = input.gpu_required, estimate = input.estimate } }
  else
    local planner = guarded("vibeml.planner")
    if not planner or not planner.plan then
      return fail("planning is not available in this build (vibeml.planner is missing); pass a plan or {task=...}", "VML_EUNSUPPORTED")
    end
    local p, msg, code = planner.plan(input)
    if not p then return nil, msg, code end
    plan = p
  end
  local best = plan.best or {}
  local wf = type(plan.workflow) == "table" and plan.workflow.name or plan.workflow
  local req = plan.request or {}
  local gpu_required
  local workflows = guarded("vibeml.workflows")
  if not plan.task and workflows and workflows.build and wf then
    -- the planner shows no task preview without a dataset; workflows like smoke need none
    local hp = plan.hyperparameters or req.hyperparameters or {}
    local t, berr = workflows.build(wf, { job_name = opts.name or ("vml-" .. wf), model = req.model,
      dataset = req.dataset, hyperparameters = hp, model_info = plan.model_info, candidates = {},
      num_nodes = 1 })
    if not t then return fail("could not build the task for workflow " .. wf .. ": " .. tostring(berr)) end
    plan.task = t
  end
  if not plan.task then return fail("the plan has no task to launch: " .. tostring(plan.task_note or "give a dataset")) end
  if workflows and wf and workflows.get then
    local d = workflows.get(wf)
    if type(d) == "table" and d.gpu then gpu_required = d.gpu.required and true or false end
  end
  return { task = plan.task, plan = plan, info = {
    workflow = wf, model = req.model, dataset = req.dataset, params = req.hyperparameters,
    gpu = best.gpu, gpu_count = best.count, cloud = best.cloud, region = best.region, spot = best.spot,
    rate_hr = best.rate_hr, estimate = { duration_h = best.duration_h, cost = best.cost },
    gpu_required = gpu_required, max_cost = req.max_cost } }
end

local function task_text(task)
  local workflows = guarded("vibeml.workflows")
  if workflows and workflows.encode_task then
    local ok, text = pcall(workflows.encode_task, task)
    if ok and type(text) == "string" then return text end
  end
  return vibeml.json.encode(task, { sort_keys = true })
end

function M.launch(input, opts)
  opts = opts or {}
  local progress = opts.progress or function() end
  progress(0, 4, "planning")
  local r, msg, code = resolve(input, opts)
  if not r then return nil, msg, code end
  local task, info = r.task, r.info
  if type(task) ~= "table" then return fail("the plan has no task to launch") end
  local backend_name, why = opts.backend, "asked for"
  if not backend_name then backend_name, why = M.default_backend() end
  local backend = M.backend(backend_name)
  if not backend then return fail("unknown backend '" .. tostring(backend_name) .. "' (use local or skypilot)", "VML_EINVAL") end
  local local_run = backend_name == "local"
  local rate = opts.rate_hr or (not local_run and info.rate_hr) or 0
  local cap = opts.cap or info.max_cost or (info.estimate and info.estimate.cost and info.estimate.cost.max)
  local name = opts.name or task.name or info.workflow or "job"
  local params = { hyperparameters = info.params, grace = opts.grace, managed = opts.managed,
                   backend_reason = why }
  local id = jdb.insert({
    name = name, workflow = info.workflow, model = info.model, dataset = info.dataset,
    params = vibeml.json.encode(params), backend = backend_name,
    offer = (info.gpu or info.cloud) and vibeml.json.encode({ gpu = info.gpu, count = info.gpu_count, cloud = info.cloud,
      region = info.region, spot = info.spot }) or nil,
    gpu = not local_run and info.gpu or nil, gpu_count = not local_run and info.gpu_count or nil,
    cloud = not local_run and info.cloud or nil, region = not local_run and info.region or nil,
    spot = (not local_run and info.spot ~= nil) and (info.spot and 1 or 0) or nil,
    nodes = math.tointeger(task.num_nodes or 1) or 1, rate_hr = rate,
    estimate = info.estimate and vibeml.json.encode(info.estimate) or nil, cap_usd = cap,
  })
  local dir = jdb.job_dir(id)
  local task_path = dir .. "/task.yaml" -- JSON text; SkyPilot reads it as YAML (skypilot.md §1)
  task.name = task.name or name
  assert(vibeml.fs.write(task_path, task_text(task)))
  assert(vibeml.fs.write(dir .. "/task.json", vibeml.json.encode(task)))
  jdb.update(id, { dir = dir, task_path = dir .. "/task.json" })
  progress(1, 4, "checking the budget")
  local money = guarded("vibeml.money")
  local est_cost = info.estimate and info.estimate.cost or {}
  local amount = est_cost.max or est_cost.expected or cap or 0
  if money and money.limits and not local_run and amount <= 0 then
    -- a cloud run with neither an estimate nor a cap cannot be held against a budget: refuse it
    -- rather than let it spend unchecked
    local lim = money.limits() or {}
    if lim.monthly or lim.per_job then
      jdb.update(id, { state = "failed", failure_category = "quota", failure_retry = 0,
        failure_message = "budget: no cost estimate and no cap" }, "budget refused")
      return nil, "this launch has no cost estimate and no cap, so it cannot be held against your "
        .. "budget; give it a cap (CLI --max-cost USD, MCP max_cost, Lua opts.cap) or launch from "
        .. "a plan", "VML_EMONEY"
    end
  end
  if money and (money.authorize or money.reserve) and not local_run and amount > 0 then
    local fn = (opts.ctx or opts.confirm) and money.authorize or money.reserve
    local ok, rmsg, rcode, rinfo = fn({ job_id = id, amount = amount, cap = cap, ctx = opts.ctx, confirm = opts.confirm })
    if not ok then
      jdb.update(id, { state = "failed", failure_category = "quota", failure_message = "budget: " .. tostring(rmsg),
                       failure_retry = 0 }, "budget refused")
      return nil, rmsg, rcode or "VML_EMONEY", rinfo
    end
  end
  progress(2, 4, "starting on " .. backend_name)
  -- secrets the task names reach the job's environment straight from the vault (never argv)
  local secret_env = opts.secrets
  if secret_env == nil and type(task.secrets) == "table" and next(task.secrets) then
    local sec = guarded("vibeml.secrets")
    if sec and sec.env_for then
      local names = {}
      for k in pairs(task.secrets) do names[#names + 1] = k end
      table.sort(names)
      local okh, have = pcall(sec.names)
      local present = {}
      for _, n in ipairs(okh and have or {}) do present[n] = true end
      local wanted = {}
      for _, n in ipairs(names) do if present[n] then wanted[#wanted + 1] = n end end
      if #wanted > 0 then
        local oks, se = pcall(sec.env_for, {}, wanted)
        if oks and se then secret_env = se end
      end
    end
  end
  local row = jdb.get(id)
  local ok, smsg, scode = backend.start(row, task, { secrets = secret_env, gpu_required = info.gpu_required,
    managed = opts.managed, task_path = task_path, retries = opts.retries })
  if not ok then
    local c = require("vibeml.jobs.errors").classify(smsg or "", { job_id = id })
    if jdb.get(id).state ~= "failed" then jdb.update(id, { state = "failed", failure_category = c and c.category or (scode == "VML_EUNSUPPORTED" and "invalid_resource" or "setup"),
      failure_message = smsg, failure_advice = c and vibeml.json.encode(vibeml.array(c.fixes)) or nil,
      failure_retry = c and c.retry and 1 or 0 }, "start failed") end
    if money and money.release and not local_run then pcall(money.release, id) end
    announce(id)
    return nil, smsg, scode or "VML_EPROC", { job_id = id }
  end
  progress(4, 4, "launched: " .. M.where(jdb.get(id)))
  announce(id)
  return setmetatable({ id = id, backend = backend_name }, Job)
end

-- }===============================================================

-- {=============================================================== list, stop, logs

function M.list(filter)
  filter = filter or {}
  local where, args = {}, {}
  if filter.state then
    if filter.state == "active" then
      where[#where + 1] = "state IN ('pending','launching','running','recovering')"
    else
      where[#where + 1] = "state = ?"; args[#args + 1] = filter.state
    end
  end
  if filter.backend then where[#where + 1] = "backend = ?"; args[#args + 1] = filter.backend end
  local w = #where > 0 and (" WHERE " .. table.concat(where, " AND ")) or ""
  local db = jdb.db()
  local total = db:first("SELECT count(*) AS n FROM jobs" .. w, table.unpack(args)).n
  local limit = math.tointeger(filter.limit or 50) or 50
  local offset = math.tointeger(filter.offset or 0) or 0
  args[#args + 1] = limit
  args[#args + 1] = offset
  local rows = db:query("SELECT * FROM jobs" .. w .. " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", table.unpack(args))
  local out = {}
  for i, row in ipairs(rows) do out[i] = M.status_of(row) end
  return vibeml.array(out), total
end

function M.stop(id, opts)
  opts = opts or {}
  local row = jdb.get(id)
  if not row then return fail("no job '" .. tostring(id) .. "'", "VML_ENOENT") end
  if jdb.TERMINAL[row.state] then return M.status_of(row) end
  local backend = M.backend(row.backend)
  local ok, msg, code = backend.stop(row, opts.reason or "user", opts.grace)
  if not ok then return nil, msg, code end
  announce(id)
  if opts.wait ~= false then
    local st = M.wait(id, { timeout = opts.wait_timeout or ((opts.grace or 10) + 20), interval = 0.2 })
    if st then return st end
  end
  return M.status(id)
end

local function read_tail(path, n, since)
  local st = vibeml.fs.stat(path)
  if not st then return {}, 0, false end
  local text = vibeml.fs.read(path) or ""
  local start = 1
  local truncated = false
  if since then
    start = math.min(#text + 1, (math.tointeger(since) or 0) + 1)
  end
  local body = text:sub(start)
  -- only whole lines: a partial last line waits for its newline
  local cut = body:match(".*\n()")
  local complete = cut and body:sub(1, cut - 1) or ""
  local lines = {}
  for l in complete:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  if n and #lines > n then
    truncated = true
    table.move(lines, #lines - n + 1, #lines, 1, lines)
    for i = #lines, n + 1, -1 do lines[i] = nil end
  end
  return lines, start - 1 + #complete, truncated
end

local function redact(s)
  if vibeml.vault and vibeml.vault.redact then
    local ok, out = pcall(vibeml.vault.redact, s)
    if ok and type(out) == "string" then return out end
  end
  return s
end

function M.logs(id, opts)
  opts = opts or {}
  local row = jdb.get(id)
  if not row then return fail("no job '" .. tostring(id) .. "'", "VML_ENOENT") end
  local stream = opts.stream or "stdout"
  if stream ~= "stdout" and stream ~= "stderr" and stream ~= "events" then
    return fail("stream must be stdout, stderr or events", "VML_EINVAL")
  end
  local tail = opts.tail and math.tointeger(opts.tail)
  if stream == "events" then
    local db = jdb.db()
    local since = math.tointeger(opts.since or 0) or 0
    local rows
    if tail and not opts.since then
      rows = db:query("SELECT * FROM (SELECT id, ts, kind, data FROM job_events WHERE job_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id", id, tail)
    else
      rows = db:query("SELECT id, ts, kind, data FROM job_events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?", id, since, tail or 1000)
    end
    local lines, cursor = {}, since
    for i, r in ipairs(rows) do
      lines[i] = redact(vibeml.json.encode({ id = r.id, ts = r.ts, kind = r.kind, data = decode(r.data) }))
      cursor = r.id
    end
    return { stream = "events", lines = vibeml.array(lines), cursor = cursor, job_id = id, state = row.state }
  end
  local backend = M.backend(row.backend)
  if backend and backend.pull_logs and opts.pull ~= false then pcall(backend.pull_logs, row) end
  local lines, cursor, truncated = read_tail(row.dir .. "/" .. stream .. ".log", tail, opts.since)
  for i, l in ipairs(lines) do lines[i] = redact(l) end
  return { stream = stream, lines = vibeml.array(lines), cursor = cursor, truncated = truncated, job_id = id, state = row.state }
end

-- }===============================================================

-- {=============================================================== tracking

local seen = {}          -- id -> updated_at last announced by this process
local last_poll, polling = -math.huge, false

-- One tracking pass: every backend's active jobs in one batch (for SkyPilot: one `sky jobs queue`
-- call however many jobs). Concurrent callers within the interval share the pass.
function M.poll(opts)
  opts = opts or {}
  local interval = opts.interval or M.POLL_INTERVAL
  while polling do vibeml.sleep(0.05) end
  if not opts.force and vibeml.monotonic() - last_poll < interval then return {} end
  polling = true
  local ok, res = pcall(function()
    local db = jdb.db()
    local changed = {}
    local by_backend = {}
    for _, row in ipairs(db:query("SELECT * FROM jobs WHERE state IN ('pending','launching','running','recovering')")) do
      by_backend[row.backend] = by_backend[row.backend] or {}
      table.insert(by_backend[row.backend], row)
    end
    for name, rows in pairs(by_backend) do
      local b = M.backend(name)
      if b and b.poll then
        local okp, err = pcall(b.poll, rows)
        if not okp then vibeml.log("warning", "polling %s jobs: %s", name, tostring(type(err) == "table" and err.message or err)) end
      end
    end
    -- announce what changed since this process last looked (other processes write too)
    for _, r in ipairs(db:query("SELECT id, updated_at FROM jobs WHERE updated_at > ?", (opts.since_ts or 0))) do
      if seen[r.id] ~= r.updated_at then
        if seen[r.id] ~= nil or opts.announce_new ~= false then changed[#changed + 1] = r.id end
        seen[r.id] = r.updated_at
      end
    end
    return changed
  end)
  last_poll = vibeml.monotonic()
  polling = false
  if not ok then error(res, 0) end
  for _, id in ipairs(res) do announce(id) end
  return res
end

-- Fresh status for one job: the shared poll (at most one backend call per interval) and, for
-- SkyPilot, its log pulled into the archive (rate-limited per job) for the latest progress.
function M.refresh(id)
  local row = jdb.get(id)
  if not row then return nil end
  if jdb.ACTIVE[row.state] then
    M.poll()
    local b = M.backend(row.backend)
    if b and b.pull_logs then pcall(b.pull_logs, jdb.get(id)) end
  end
  return true
end

function M.wait(id, opts)
  opts = opts or {}
  local deadline = opts.timeout and (vibeml.monotonic() + opts.timeout)
  local interval = opts.interval or 0.5
  while true do
    local row = jdb.get(id)
    if not row then return fail("no job '" .. tostring(id) .. "'", "VML_ENOENT") end
    if jdb.TERMINAL[row.state] then return M.status_of(row) end
    if row.backend ~= "local" or (row.pid and not vibeml.proc.alive(row.pid, row.pid_start or 0)) then
      M.poll({ interval = math.max(interval, row.backend == "local" and 0 or M.POLL_INTERVAL) })
    end
    if deadline and vibeml.monotonic() >= deadline then
      return nil, "timeout: job " .. id .. " is still " .. row.state, "VML_ETIMEOUT"
    end
    vibeml.sleep(interval)
  end
end

-- }===============================================================

return M

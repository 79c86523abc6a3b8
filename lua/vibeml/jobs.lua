-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs — launch, track, read and stop training jobs.
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
--   jobs.set_cap(id, usd [, {by=, ctx=, confirm=}]) -> status | nil, message, code [, info]
--       a pending or running job's new cost cap (raise, or lower to no less than its cost so
--       far); a cloud job's raise is reserved in the budget first (over budget: asked through
--       ctx/confirm as at launch, else refused). by: who, for the job's events ("the CLI").
--   jobs.logs(id, {stream = "stdout"|"stderr"|"events", tail = N, since = cursor})
--       -> {stream=, lines={...}, cursor=, truncated=}
--   jobs.poll([{force = true}]) -> changed ids (one backend status call per interval for all jobs)
--   jobs.wait(id, {timeout=, interval=}) -> status | nil, "timeout", "VML_ETIMEOUT"
--   jobs.refresh(id) -> poll + (SkyPilot) log pull, both rate-limited
-- Job: job.id, job:status(), job:wait{timeout=}, job:logs{tail=, stream=} (iterator over lines),
--      job:stop([opts]), job:set_cap(usd [, opts]).
-- Changes are announced with events.emit("job_changed", id) and
-- events.emit("resource_updated", "vibeml://jobs/<id>") (and .../logs).
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check
local events = require "vibeml.events"
local E = vibeml.E

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

local function fail(msg, code, info) return nil, msg, code or E.EINVAL, info end

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
  local place = row.cloud and (row.cloud .. (row.region and ("/" .. row.region) or ""))
    or "the cheapest enabled cloud SkyPilot finds"
  local what = row.gpu
    and (string.format("%sx%s", math.tointeger(row.gpu_count or 1) or 1, row.gpu)) or "CPU only"
  if row.mode == "cluster" then
    return string.format("SkyPilot cluster %s on %s (%s%s)", row.cluster or row.sky_name or "?",
      place, what, row.spot == 1 and ", spot" or "")
  end
  return string.format("SkyPilot managed job %s on %s (%s%s)", row.backend_id
    or "(not yet assigned)", place, what, row.spot == 1 and ", spot" or "")
end

-- Where a job's results are: the bucket URIs of its output and last checkpoint (cloud), or its
-- folders (local), the Hub repo, and the one command that fetches the output.
function M.outputs_of(row)
  local lay = decode(row.storage)
  if type(lay) ~= "table" then return nil end
  local db = jdb.db()
  local out = { output = lay.output_uri, checkpoints = lay.checkpoints_uri, bucket = lay.bucket,
                store = lay.store, fetch = lay.fetch }
  local ck =
    check(
    db:first(
      "SELECT data FROM job_events WHERE job_id = ? AND kind = 'checkpoint' ORDER BY id DESC " ..
        "LIMIT 1", row.id))
  local ckd = ck and decode(ck.data)
  if type(ckd) == "table" and type(ckd.path) == "string" then
    -- the path on the VM, under the mount, as a bucket URI
    local path = ckd.path
    if lay.mount and lay.uri then
      local _, e = path:find("/" .. row.id .. "/checkpoints/", 1, true)
      if e then path = lay.uri .. "/checkpoints/" .. path:sub(e + 1) end
    end
    out.last_checkpoint = path
    out.last_checkpoint_step = ckd.step
  end
  local art =
    check(
    db:first(
      "SELECT data FROM job_events WHERE job_id = ? AND json_extract(data, '$.event') = " ..
        "'artifact' ORDER BY id DESC LIMIT 1", row.id))
  out.saved = art ~= nil
  local params = decode(row.params)
  if type(params) == "table" and type(params.push_to_hub) == "string" then
    out.hub_repo = params.push_to_hub
    out.hub_url = "https://huggingface.co/" .. params.push_to_hub
  end
  if row.backend == "local" then out.fetch = nil end
  return out
end

function M.status_of(row)
  local now = jdb.now()
  local accrued = row.cost_final or (jdb.TERMINAL[row.state] and row.cost_accrued)
    or math.max(row.cost_accrued or 0, jdb.cost_of(row, now))
  local pct
  if row.step and row.total_steps and row.total_steps > 0 then
    pct = round(100 * row.step / row.total_steps, 1)
  end
  local failure
  if row.failure_category then
    failure = { category = row.failure_category, message = row.failure_message,
                fixes = decode(row.failure_advice) or vibeml.array(),
                  retry = row.failure_retry == 1 }
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
                 learning_rate = row.lr, tokens_per_s = row.tokens_per_s,
                 eta_s = not jdb.TERMINAL[row.state] and row.eta_s or nil,
                 epoch = row.epoch, updated_at = row.progress_at },
    cost = { currency = "USD", rate_hr = row.rate_hr, nodes = row.nodes,
      accrued = round(accrued, 6),
             final = row.cost_final and round(row.cost_final, 6) or nil, cap = row.cap_usd,
             billed_hours = round(jdb.billed_seconds(row, now) / 3600, 6) },
    estimate = decode(row.estimate),
    offer = decode(row.offer),
    created_at = row.created_at, started_at = row.started_at, ended_at = row.ended_at,
    runtime_s = runtime, attempts = row.attempts, recoveries = row.recoveries,
    exit_code = row.exit_code, stop_reason = row.stop_reason, failure = failure,
    log_dir = row.dir, outputs = M.outputs_of(row),
    requote = require("vibeml.jobs.requote").of(row, now), -- measured ETA and cost beside the plan
  }
end

function M.status(id)
  local row = jdb.get(id)
  if not row then
    return fail("no job '" .. tostring(id) .. "' (list them with `vibeml jobs list`)", E.ENOENT)
  end
  return M.status_of(row)
end

-- }===============================================================

-- {=============================================================== the Job handle

local Job = {}
Job.__index = Job

function Job:status() return M.status(self.id) end
function Job:wait(opts) return M.wait(self.id, opts) end
function Job:stop(opts) return M.stop(self.id, opts) end
function Job:set_cap(usd, opts) return M.set_cap(self.id, usd, opts) end
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
  if not row then return fail("no job '" .. tostring(id) .. "'", E.ENOENT) end
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

-- The backend when the launch names none, and why (said in the launch's answer): the person's
-- `backend` preference when they chose one ("auto", the default, means they did not), else skypilot
-- when SkyPilot is set up with a cloud, else local, with how to set up a cloud.
function M.default_backend()
  local prefs = guarded("vibeml.prefs")
  if prefs and prefs.get then
    local ok, p = pcall(prefs.get)
    if ok and type(p) == "table" and (p.backend == "local" or p.backend == "skypilot") then
      return p.backend, "your preference backend=" .. p.backend
        .. " (`vibeml config set backend auto` chooses automatically)"
    end
  end
  if sky_available() then return "skypilot", "SkyPilot is set up with a cloud enabled" end
  local sky = M.backend("skypilot")
  local okw, _, whynot = false, nil, nil
  if sky and sky.usable then okw, _, whynot = pcall(sky.usable) end
  return "local", "SkyPilot is not set up (" .. tostring(okw and whynot or "sky not found")
    .. "), so the job runs on this machine; for cloud GPUs install SkyPilot "
    .. "(`pip install 'skypilot[aws,gcp,nebius]'`, your clouds), enable a cloud with `sky check`, "
    .. "then check with `vibeml doctor`"
end

-- Modules that guard money and secrets are loaded without a fallback: if one cannot load, the
-- launch is refused before anything is written or spent (fail closed).
M.loader = require -- how guard_module loads (tests replace it to make a module fail)
local function guard_module(name, what)
  local ok, m = pcall(M.loader, name)
  if ok and type(m) == "table" then return m end
  return nil, string.format("%s could not be loaded (%s: %s), so nothing was launched and nothing "
    .. "was spent; reinstall VibeML or report this error", what, name,
    tostring(type(m) == "table" and m.message or m))
end

-- Turns what launch was given into {task=, plan=, info=} or nil, message, code. One straight
-- path: a plan (from the planner, with the task it built from the ranked candidates) or a ready
-- task table; a request is planned once, here, and never re-planned or re-built.
local function resolve(input)
  if type(input) ~= "table" then return fail("launch needs a plan or a request table") end
  local plan
  if input.best and input.request then
    plan = input
  elseif input.task then
    return { task = input.task,
      info = { workflow = input.workflow or (input.task.vibeml or {}).workflow,
      model = input.model, dataset = input.dataset, params = input.hyperparameters,
      rate_hr = input.rate_hr, gpu_required = input.gpu_required, estimate = input.estimate,
      candidates = input.candidates } }
  else
    local planner = require "vibeml.planner"
    local req = {}
    for k, v in pairs(input) do req[k] = v end
    req.for_launch = true
    local p, msg, code = planner.plan(req)
    if not p then return nil, msg, code end
    plan = p
  end
  local best = plan.best or {}
  local wf = type(plan.workflow) == "table" and plan.workflow.name or plan.workflow
  local req = plan.request or {}
  if not plan.task then
    return fail("the plan has no task to launch: " .. tostring(plan.task_note or "give a dataset"),
      E.EINVAL)
  end
  local gpu_required
  local workflows = require "vibeml.workflows"
  if wf then
    local d = workflows.get(wf)
    if type(d) == "table" and d.gpu then gpu_required = d.gpu.required and true or false end
  end
  return { task = plan.task, plan = plan, info = {
    workflow = wf, model = req.model, dataset = req.dataset, params = req.hyperparameters,
    -- a CPU plan says cloud "local" when no cloud was asked for: not a SkyPilot cloud
    gpu = best.gpu, gpu_count = best.count, cloud = best.cloud ~= "local" and best.cloud or nil,
    region = best.cloud ~= "local" and best.region ~= "" and best.region or nil, spot = best.spot,
    -- the row bills per node-hour (× nodes); the plan's rate_hr is for all nodes
    rate_hr = best.rate_hr and best.rate_hr / math.max(1, best.nodes or 1),
    -- setup_s, step_s...
    estimate = plan.estimate or { duration_h = best.duration_h, cost = best.cost },
    gpu_required = gpu_required, max_cost = req.max_cost, push_to_hub = req.push_to_hub,
    storage = req.checkpoint_bucket, candidates = plan.candidates } }
end

-- The secrets a task names, decrypted into a SecretEnv for the job's process (never argv, never
-- the task file). HF_TOKEN goes along whenever the vault holds it: a gated dataset, or a model
-- whose gating could not be looked up, fails on the VM with a 401 otherwise. A named secret that
-- is missing or cannot be decrypted refuses the launch with the vault's own error.
local function job_secrets(task, secrets)
  local names, seen = {}, {}
  for k in pairs(task.secrets or {}) do names[#names + 1] = k; seen[k] = true end
  table.sort(names)
  local have, herr, hcode = secrets.names()
  if not have then
    if #names == 0 then return nil end
    return nil, "the job needs the secret(s) " .. table.concat(names, ", ") .. " and the vault "
      .. "cannot be read, so nothing was launched: " .. tostring(herr), hcode or E.ESECRET
  end
  local present = {}
  for _, n in ipairs(have) do present[n] = true end
  local missing = {}
  for _, n in ipairs(names) do if not present[n] then missing[#missing + 1] = n end end
  if #missing > 0 then
    local cmds = {}
    for _, n in ipairs(missing) do cmds[#cmds + 1] = "`" .. secrets.hint(n) .. "`" end
    return nil, "the job needs the secret(s) " .. table.concat(missing, ", ") .. " and the vault "
      .. "does not have them; add them in a terminal with " .. table.concat(cmds, " and ")
      .. ", then launch again (nothing was launched)", E.ESECRET
  end
  if present.HF_TOKEN and not seen.HF_TOKEN then
    task.secrets = task.secrets or {}
    task.secrets.HF_TOKEN = vibeml.null
    names[#names + 1] = "HF_TOKEN"
  end
  if #names == 0 then return nil end
  local env, emsg, ecode = secrets.env_for(names, {})
  if not env then
    return nil, "the job needs the secret(s) " .. table.concat(names, ", ") .. " and they could "
      .. "not be decrypted: " .. tostring(emsg) .. " (nothing was launched)", ecode or E.ESECRET
  end
  return env
end

-- Rates of the plan's candidates, for billing at the rate of what SkyPilot actually runs.
local function candidate_rates(info)
  local out = {}
  for _, c in ipairs(info.candidates or {}) do
    out[#out + 1] = { gpu = c.accelerator, count = c.count, cloud = c.cloud, region = c.region,
                      spot = c.spot and true or false, rate_hr = c.rate_hr,
                        instance_type = c.instance_type }
  end
  return out
end

function M.launch(input, opts)
  opts = opts or {}
  local progress = opts.progress or function() end
  local budget, merr = guard_module("vibeml.budget", "the budget module")
  if not budget then return fail(merr, E.EMONEY) end
  local secrets, serr = guard_module("vibeml.vault", "the secrets vault module")
  if not secrets then return fail(serr, E.ESECRET) end
  local storage = require "vibeml.jobs.storage"
  progress(0, 4, "planning")
  local r, msg, code = resolve(input)
  if not r then return nil, msg, code end
  local task, info = r.task, r.info
  if type(task) ~= "table" then return fail("the plan has no task to launch") end
  local backend_name, why = opts.backend, "asked for"
  if not backend_name then backend_name, why = M.default_backend() end
  local backend = M.backend(backend_name)
  if not backend then
    return fail("unknown backend '" .. tostring(backend_name) .. "' (use local or skypilot)",
      E.EINVAL)
  end
  local local_run = backend_name == "local"
  -- the bucket is chosen before anything is written: a bad `storage` preference refuses here
  local where
  if not local_run then
    local user
    if backend.user then local oku, u = pcall(backend.user); if oku then user = u end end
    local pref_storage
    local okp, prefs = pcall(require, "vibeml.prefs")
    if okp and type(prefs) == "table" then
      local okg, p = pcall(prefs.get)
      if okg and type(p) == "table" and type(p.storage) == "string" then
        pref_storage = p.storage
      end
    end
    local first = (info.candidates or {})[1] or {}
    if not first.cloud and not info.cloud and backend.storage_clouds then
      local okc, sc = pcall(backend.storage_clouds)
      if okc and type(sc) == "table" then first = { cloud = sc[1] } end
    end
    local werr
    where, werr = storage.resolve({ bucket = opts.storage or info.storage or pref_storage,
      bucket_source = (opts.storage or info.storage) and "request" or "preference",
      cloud = first.cloud or info.cloud, user = user })
    if not where then
      return fail(werr .. " (set it with `vibeml config set storage s3://BUCKET`)", E.ECONFIG)
    end
  end
  local secret_env = opts.secrets
  if secret_env == nil then
    local se, sm, sc = job_secrets(task, secrets)
    if sm then return nil, sm, sc end
    secret_env = se
  end
  local rate = opts.rate_hr or (not local_run and info.rate_hr) or 0
  local cap = opts.cap or info.max_cost
    or (info.estimate and info.estimate.cost and info.estimate.cost.max)
  -- one cap everywhere (jobs show, status, budget): the ledger stops the job at the lower of
  -- its own cap and the per-job cap, so that is the cap the job row shows
  if not local_run and budget.effective_cap then
    local okc, ecap = pcall(budget.effective_cap, cap)
    if okc and ecap then cap = ecap end
  end
  local name = opts.name or task.name or info.workflow or "job"
  local params = { hyperparameters = info.params, grace = opts.grace, managed = opts.managed,
                   backend_reason = why, push_to_hub = info.push_to_hub }
  local id = jdb.insert({
    name = name, workflow = info.workflow, model = info.model, dataset = info.dataset,
    params = vibeml.json.encode(params), backend = backend_name,
    offer = (info.gpu or info.cloud or info.candidates)
      and vibeml.json.encode({ gpu = info.gpu, count = info.gpu_count, cloud = info.cloud,
      region = info.region, spot = info.spot, candidates = not local_run
        and vibeml.array(candidate_rates(info)) or nil }) or nil,
    gpu = not local_run and info.gpu or nil, gpu_count = not local_run and info.gpu_count or nil,
    cloud = not local_run and info.cloud or nil, region = not local_run and info.region or nil,
    spot = (not local_run and info.spot ~= nil) and (info.spot and 1 or 0) or nil,
    nodes = math.tointeger(task.num_nodes or 1) or 1, rate_hr = rate,
    estimate = info.estimate and vibeml.json.encode(info.estimate) or nil, cap_usd = cap,
  })
  local dir = jdb.job_dir(id)
  local layout = local_run and storage.local_layout(dir) or storage.layout(id, where)
  storage.apply(task, layout, id)
  task.name = task.name or name
  -- the files the task runs: the job's workdir (SkyPilot uploads it to ~/sky_workdir)
  local task_path = dir .. "/task.yaml" -- JSON text; SkyPilot reads it as YAML
  if not local_run then
    local workdir = dir .. "/workdir"
    vibeml.fs.mkdirs(workdir)
    local okw, werr = pcall(require("vibeml.workflows").write_files, task, workdir)
    if not okw then
      jdb.update(id, { state = "failed", failure_category = "setup", failure_retry = 0, dir = dir,
        failure_message = "could not prepare the job's files: " .. tostring(werr) },
          "files missing")
      return nil, "could not prepare the job's files: " .. tostring(werr), E.EIO, { job_id = id }
    end
    task.workdir = workdir
  end
  assert(vibeml.fs.write(task_path, (require("vibeml.workflows").encode_task(task))))
  assert(vibeml.fs.write(dir .. "/task.json", vibeml.json.encode(task)))
  jdb.update(id,
    { dir = dir, task_path = dir .. "/task.json", storage = vibeml.json.encode(layout) })
  progress(1, 4, "checking the budget")
  local est_cost = info.estimate and info.estimate.cost or {}
  local amount = est_cost.max or est_cost.expected or cap or 0
  if not local_run and amount <= 0 then
    -- a cloud run with neither an estimate nor a cap cannot be held against a budget: refuse it
    -- rather than let it spend unchecked
    local lim = budget.limits() or {}
    if lim.monthly or lim.per_job then
      jdb.update(id, { state = "failed", failure_category = "quota", failure_retry = 0,
        failure_message = "budget: no cost estimate and no cap" }, "budget refused")
      return nil, "this launch has no cost estimate and no cap, so it cannot be held against your "
        .. "budget; give it a cap (CLI --max-cost USD, MCP max_cost, Lua opts.cap) or launch from "
        .. "a plan", E.EMONEY
    end
  end
  if not local_run and opts.confirm and not opts.ctx and budget.confirm_cap then
    -- the CLI: a cap below the expected cost is put to the person first (launch_training asks
    -- through elicitation before it calls launch)
    local okc, msg_c = budget.confirm_cap{ cap = cap, expected = est_cost.expected,
      confirm = opts.confirm }
    if not okc then
      jdb.update(id, { state = "failed", failure_category = "quota", failure_retry = 0,
        failure_message = "budget: " .. tostring(msg_c) }, "cap below the estimate")
      return nil, msg_c, E.EMONEY
    end
  end
  if not local_run and amount > 0 then
    local fn = (opts.ctx or opts.confirm) and budget.authorize or budget.reserve
    local okr, ok, rmsg, rcode, rinfo = pcall(fn,
      { job_id = id, amount = amount, cap = cap, ctx = opts.ctx, confirm = opts.confirm })
    if not okr then
      ok, rmsg, rcode = nil, "the budget check failed: "
        .. tostring(type(ok) == "table" and ok.message or ok), E.EMONEY
    end
    if not ok then
      jdb.update(id,
        { state = "failed", failure_category = "quota", failure_message = "budget: "
        .. tostring(rmsg),
                       failure_retry = 0 }, "budget refused")
      return nil, rmsg, rcode or E.EMONEY, rinfo
    end
  end
  progress(2, 4, "starting on " .. backend_name)
  local row = jdb.get(id)
  local ok, smsg, scode = backend.start(row, task,
    { secrets = secret_env, gpu_required = info.gpu_required,
    managed = opts.managed, task_path = task_path, retries = opts.retries })
  if not ok then
    local c = require("vibeml.jobs.errors").classify(smsg or "", { job_id = id })
    if jdb.get(id).state ~= "failed" then
      jdb.update(id,
      { state = "failed", failure_category = c and c.category
      or (scode == E.EUNSUPPORTED and "invalid_resource" or "setup"),
      failure_message = smsg, failure_advice = c and vibeml.json.encode(vibeml.array(c.fixes))
        or nil,
      failure_retry = c and c.retry and 1 or 0 }, "start failed") end
    if not local_run then pcall(budget.release, id) end
    announce(id)
    return nil, smsg, scode or E.EPROC, { job_id = id }
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
  local total = check(db:first("SELECT count(*) AS n FROM jobs" .. w, table.unpack(args))).n
  local limit = math.tointeger(filter.limit or 50) or 50
  local offset = math.tointeger(filter.offset or 0) or 0
  args[#args + 1] = limit
  args[#args + 1] = offset
  local rows =
    check(db:query("SELECT * FROM jobs" .. w
    .. " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", table.unpack(args)))
  local out = {}
  for i, row in ipairs(rows) do out[i] = M.status_of(row) end
  return vibeml.array(out), total
end

function M.stop(id, opts)
  opts = opts or {}
  local row = jdb.get(id)
  if not row then return fail("no job '" .. tostring(id) .. "'", E.ENOENT) end
  if jdb.TERMINAL[row.state] then return M.status_of(row) end
  local backend = M.backend(row.backend)
  local ok, msg, code = backend.stop(row, opts.reason or "user", opts.grace)
  if not ok then return nil, msg, code end
  announce(id)
  if opts.wait ~= false then
    local st = M.wait(id,
      { timeout = opts.wait_timeout or ((opts.grace or 10) + 20), interval = 0.2 })
    if st then return st end
  end
  return M.status(id)
end

-- The cap is enforced in two places that both must move: the job's row (the local supervisor
-- and the SkyPilot poll compare cost_accrued with cap_usd) and the budget's ledger (its
-- reservation, and accrue's "over cap" for cloud jobs). The ledger goes first, so a raise is
-- never enforced before its money is reserved.
function M.set_cap(id, usd, opts)
  opts = opts or {}
  if type(usd) ~= "number" or usd ~= usd or usd <= 0 or usd == math.huge then
    return fail("a cap is an amount in USD above 0 (e.g. 5 or 12.50), not " .. tostring(usd))
  end
  usd = math.floor(usd * 1e6 + 0.5) / 1e6
  local row = jdb.get(id)
  if not row then
    return fail("no job '" .. tostring(id) .. "' (list them with `vibeml jobs list`)", E.ENOENT)
  end
  if jdb.TERMINAL[row.state] then
    return fail(
      string.format("job %s has ended (%s); only a pending or running job's cap can change",
      id, row.state), E.ESTATE)
  end
  if row.stop_requested_at then
    return fail(string.format("job %s is already stopping (%s); its cap can no longer change",
      id, row.stop_reason or "stop requested"), E.ESTATE)
  end
  local budget = guarded("vibeml.budget")
  local money = budget and budget.set_cap and row.backend ~= "local"
  local old, spent = row.cap_usd, jdb.cost_of(row)
  local function fmt(x)
    return x and (budget and budget.format(x) or string.format("$%.2f", x)) or "none"
  end
  if usd < spent then
    return fail(string.format("a cap of %s is below what job %s has already cost (%s); choose "
      .. "%s or more", fmt(usd), id, fmt(spent), fmt(spent)), E.EINVAL)
  end
  if money then
    local ok, msg, code, info = budget.set_cap{ job_id = id, cap = usd, ctx = opts.ctx,
      confirm = opts.confirm }
    if not ok and code == E.ENOENT then
      -- launched without a reservation (no estimate, no cap, no limits): hold the new cap now
      ok, msg, code, info = budget.authorize{ job_id = id, amount = usd, cap = usd, ctx = opts.ctx,
        confirm = opts.confirm }
    end
    if not ok then return nil, msg, code or E.EMONEY, info end
  end
  local db = jdb.db()
  db:exec("UPDATE jobs SET cap_usd = ?, updated_at = ? WHERE id = ? AND state NOT IN "
    .. "('completed', 'failed', 'terminated') AND stop_requested_at IS NULL", usd, jdb.now(), id)
  if db:changes() == 0 then
    return fail("job " .. id .. " ended while its cap was changed; the cap stays as it was",
      E.ESTATE)
  end
  jdb.event(db, id, "cost", { cap = usd, old_cap = old, accrued = spent, by = opts.by,
    message = string.format("cap %s from %s to %s by %s", (old and usd < old) and "lowered"
      or "raised",
      fmt(old), fmt(usd), opts.by or "Lua") })
  announce(id)
  return M.status(id)
end

local function read_tail(path, n, since)
  local st = vibeml.fs.stat(path)
  if not st then return {}, 0, false end
  -- regular files only: a symlink or a FIFO planted as a log must not be followed or block
  local text = vibeml.fs.read(path, { regular = true }) or ""
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
  if not row then return fail("no job '" .. tostring(id) .. "'", E.ENOENT) end
  local stream = opts.stream or "stdout"
  if stream ~= "stdout" and stream ~= "stderr" and stream ~= "events" then
    return fail("stream must be stdout, stderr or events", E.EINVAL)
  end
  local tail = opts.tail and math.tointeger(opts.tail)
  if stream == "events" then
    local db = jdb.db()
    local since = math.tointeger(opts.since or 0) or 0
    local rows
    if tail and not opts.since then
      rows =
        check(
        db:query(
          "SELECT * FROM (SELECT id, ts, kind, data FROM job_events WHERE job_id = ? ORDER BY " ..
            "id DESC LIMIT ?) ORDER BY id", id, tail))
    else
      rows =
        check(
        db:query(
          "SELECT id, ts, kind, data FROM job_events WHERE job_id = ? AND id > ? ORDER BY id " ..
            "LIMIT ?", id, since, tail or 1000))
    end
    local lines, cursor = {}, since
    for i, r in ipairs(rows) do
      lines[i] =
        redact(vibeml.json.encode({ id = r.id, ts = r.ts, kind = r.kind, data = decode(r.data) }))
      cursor = r.id
    end
    return { stream = "events", lines = vibeml.array(lines), cursor = cursor, job_id = id,
      state = row.state }
  end
  local backend = M.backend(row.backend)
  if backend and backend.pull_logs and opts.pull ~= false then pcall(backend.pull_logs, row) end
  local lines, cursor, truncated = read_tail(row.dir .. "/" .. stream .. ".log", tail, opts.since)
  for i, l in ipairs(lines) do lines[i] = redact(l) end
  return { stream = stream, lines = vibeml.array(lines), cursor = cursor, truncated = truncated,
    job_id = id, state = row.state }
end

-- }===============================================================

-- {=============================================================== tracking

local seen = {}          -- id -> updated_at last announced by this process
local last_poll, polling = -math.huge, false

-- The jobs whose row changed since this process last looked (other processes write too: a
-- supervisor, a CLI, the poller of another server state), appended to into (a list of ids).
function M.changes(opts, into)
  opts = opts or {}
  into = into or {}
  for _,
    r in ipairs(
    check(jdb.db():query("SELECT id, updated_at FROM jobs WHERE updated_at > ?",
      (opts.since_ts or 0)))) do
    if seen[r.id] ~= r.updated_at then
      if seen[r.id] ~= nil or opts.announce_new ~= false then into[#into + 1] = r.id end
      seen[r.id] = r.updated_at
    end
  end
  return into
end

-- Announces (job_changed, resource_updated) every job that changed since this process last
-- looked, without asking any backend: for a server state that does not run the poller itself
-- (an HTTP session), so its subscribers hear of changes while no request is open.
function M.announce_changes()
  local ids = M.changes({})
  for _, id in ipairs(ids) do announce(id) end
  return ids
end

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
    for _,
      row in ipairs(
      check(
        db:query(
          "SELECT * FROM jobs WHERE state IN ('pending','launching','running','recovering')"))) do
      by_backend[row.backend] = by_backend[row.backend] or {}
      table.insert(by_backend[row.backend], row)
    end
    for name, rows in pairs(by_backend) do
      local b = M.backend(name)
      if b and b.poll then
        local okp, err = pcall(b.poll, rows)
        if not okp then
          vibeml.log("warning", "polling %s jobs: %s", name,
            tostring(type(err) == "table" and err.message or err))
        end
      end
    end
    return M.changes(opts, changed)
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
    if not row then return fail("no job '" .. tostring(id) .. "'", E.ENOENT) end
    if jdb.TERMINAL[row.state] then return M.status_of(row) end
    if row.backend ~= "local"
      or (row.pid and not vibeml.proc.alive(row.pid, row.pid_start or 0)) then
      M.poll({ interval = math.max(interval, row.backend == "local" and 0 or M.POLL_INTERVAL) })
    end
    if deadline and vibeml.monotonic() >= deadline then
      return nil, "timeout: job " .. id .. " is still " .. row.state, E.ETIMEOUT
    end
    vibeml.sleep(interval)
  end
end

-- }===============================================================

return M

-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.skypilot — the `skypilot` backend, driving SkyPilot through its CLI
-- (its documented command-line contract): actions with -y -d, reads with -o json, exit codes
-- (JobExitCode 100 failed, 101 not finished, 102 not found, 103 cancelled), errors from
-- `sky.exceptions.<Class>: msg` on stderr, ANSI colour stripped. `sky` is VIBEML_SKY or found on
-- PATH; every call has a time limit; SKYPILOT_DISABLE_USAGE_COLLECTION=1 is always set.
--   managed jobs (default; spot unless the task says otherwise): sky jobs launch TASK.yaml -n NAME
--     -y -d
--   cluster runs (opts.managed == false): sky launch TASK.yaml -c NAME -y -d
-- Tracking costs one `sky jobs queue -o json` call per poll for ALL managed jobs (plus
-- `sky status -o json` and `sky queue -o json` when cluster runs exist), however many there are.
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check
local progress = require "vibeml.jobs.progress"
local errors = require "vibeml.jobs.errors"
local E = vibeml.E

local M = { name = "skypilot" }

M.MIN_VERSION = { 0, 12 }
M.TIMEOUTS = { read = 60, launch = 600, logs = 120, cancel = 120, down = 600, check = 120 }
M.calls = {} -- argv[1..2] -> count, for the bench and tests

local STATUS = {
  PENDING = "launching", STARTING = "launching", RUNNING = "running", RECOVERING = "recovering",
  CANCELLING = nil, SUCCEEDED = "completed", CANCELLED = "terminated", FAILED = "failed",
  FAILED_SETUP = "failed", FAILED_PRECHECKS = "failed", FAILED_NO_RESOURCE = "failed",
  FAILED_CONTROLLER = "failed", FAILED_DRIVER = "failed",
  -- cluster job statuses (sky queue)
  INIT = "launching", SETTING_UP = "launching",
}
M.STATUS = STATUS

function M.sky_path()
  local p = os.getenv("VIBEML_SKY")
  if p and p ~= "" then return p end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local cand = dir .. "/sky"
    if vibeml.fs.exists(cand) == "file" then return cand end
  end
  return nil
end

local function env()
  return { SKYPILOT_DISABLE_USAGE_COLLECTION = "1", NO_COLOR = "1", TERM = "dumb",
    PYTHONUNBUFFERED = "1" }
end

-- Runs `sky args...`. Returns {code=, out=, err=} (ANSI stripped) or nil, message, code.
function M.sky(args, opts)
  opts = opts or {}
  local sky = M.sky_path()
  if not sky then
    return nil,
      "SkyPilot's `sky` command was not found (set VIBEML_SKY or install SkyPilot >= 0.12: "
      .. "pip install \"skypilot[nebius]\"), or use the local backend", E.ENOENT
  end
  local argv = { sky }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local key = args[1] .. (args[2] and not args[2]:find("^[-/]") and (" " .. args[2]) or "")
  M.calls[key] = (M.calls[key] or 0) + 1
  local r, msg, code = vibeml.proc.run(argv,
    { env = env(), timeout = opts.timeout or M.TIMEOUTS.read,
                                               grace = 5, secrets = opts.secrets, group = true })
  if not r then return nil, "could not run " .. sky .. ": " .. tostring(msg), code end
  local out = { code = r.code, out = progress.strip_ansi(r.stdout),
    err = progress.strip_ansi(r.stderr),
                timed_out = r.timed_out }
  if r.timed_out then
    return nil, string.format("`sky %s` did not finish within %d s", table.concat(args, " "),
      math.floor(opts.timeout or M.TIMEOUTS.read)), E.ETIMEOUT, out
  end
  return out
end

-- The exception SkyPilot reported on stderr: class, message.
function M.exception(text)
  local cls, msg = text:match("sky%.exceptions%.([%w_]+):%s*([^\n]*)")
  if cls then return cls, msg end
  cls, msg = text:match("([%w_]*Error):%s*([^\n]*)")
  return cls, msg
end

-- JSON from a command's stdout, anchored at the first '[' or '{'.
function M.json_of(text)
  local i = text:find("[%[{]")
  if not i then return nil, "no JSON in the output" end
  local v, e = vibeml.json.decode(text:sub(i))
  if v == nil then return nil, e end
  return v
end

-- A failed call as a failure table: {category, message, fixes, retry, class, detail}.
function M.failure(out, ctx)
  local text = (out and (out.err .. "\n" .. out.out)) or ""
  local cls, msg = M.exception(text)
  local c = errors.classify(text, ctx or {}, { sources = { "skypilot" }, class = cls })
  if c then
    c.class = cls
    c.raw = msg
    return c
  end
  return { category = "setup", retry = false, class = cls, raw = msg,
           message = cls and (cls .. ": " .. tostring(msg))
             or ("sky exited with code " .. tostring(out and out.code)),
           fixes = errors.fallback("setup", ctx) } -- never a failure without a next step
end

-- {=============================================================== version and clouds

local cache = {}
local CACHE_S = 600

-- Answers of `sky api info` / `sky check` are shared by every VibeML process through the store
-- for CACHE_S seconds, so a CLI launch does not pay two extra sky calls.
local function shared_get(key)
  local ok, row = pcall(function()
    return check(jdb.db():first("SELECT value, at FROM sky_info WHERE key = ?", key))
  end)
  if ok and row and jdb.now() - row.at < CACHE_S then return vibeml.json.decode(row.value) end
end

local function shared_put(key, value)
  pcall(function()
    check(
      jdb.db():exec(
        "INSERT INTO sky_info(key, value, at) VALUES(?, ?, ?) ON CONFLICT(key) DO UPDATE SET " ..
          "value = excluded.value, at = excluded.at",
      key, vibeml.json.encode(value), jdb.now()))
  end)
end

local function vnum(s)
  local a, b, c = tostring(s):match("(%d+)%.(%d+)%.?(%d*)")
  return tonumber(a), tonumber(b), tonumber(c ~= "" and c or 0)
end

-- SkyPilot's version, checked >= 0.12 (the first with -o json). Cached 10 minutes.
function M.version()
  local c = cache.version
  if c and vibeml.monotonic() - c.at < CACHE_S then return table.unpack(c.res) end
  local sh = shared_get("version")
  if sh then return sh.version, sh.info end
  local out, msg, code = M.sky({ "api", "info", "-o", "json" }, { timeout = M.TIMEOUTS.check })
  local res
  if not out then
    res = { nil, msg, code }
  elseif out.code ~= 0 then
    local f = M.failure(out)
    res = { nil, "SkyPilot is not answering (`sky api info` exited " .. out.code .. "): "
      .. f.message, E.EPROC, f }
  else
    local info = M.json_of(out.out)
    local v = type(info) == "table" and ((type(info.client) == "table" and info.client.version)
      or (type(info.server) == "table" and info.server.version)) or nil
    local major, minor = vnum(v)
    if not major and type(info) == "table" then
      res = { nil,
        "SkyPilot answered `sky api info -o json` without a version: VibeML needs SkyPilot "
        .. ">= 0.12 (pip install -U \"skypilot[nebius]\"); check which `sky` is on PATH (or " ..
          "VIBEML_SKY)", E.EUNSUPPORTED }
    elseif not major then
      local text = (out.out or ""):gsub("%s+", " "):sub(1, 120)
      res = { nil, "`sky api info -o json` printed something that is not SkyPilot's JSON (" .. text
        .. "); check that the `sky` on PATH (or VIBEML_SKY) is SkyPilot >= 0.12 and that `sky " ..
          "api info` "
        .. "works in a terminal", E.EPROTO }
    elseif major < M.MIN_VERSION[1] or (major == M.MIN_VERSION[1] and minor < M.MIN_VERSION[2]) then
      res = { nil, "SkyPilot " .. v
        .. " is too old: VibeML needs >= 0.12 (JSON output). Upgrade with "
        .. "pip install -U \"skypilot[nebius]\"", E.EUNSUPPORTED }
    else
      res = { v, info }
      shared_put("version", { version = v, info = info })
    end
  end
  cache.version = { at = vibeml.monotonic(), res = res }
  return table.unpack(res)
end

-- Enabled clouds from `sky check -o json` ({workspace: {Cloud: [capabilities]}}): a sorted list
-- of lower-case names. Cached 10 minutes.
function M.clouds()
  local c = cache.clouds
  if c and vibeml.monotonic() - c.at < CACHE_S then return table.unpack(c.res) end
  local sh = shared_get("clouds")
  if sh then return sh end
  local out, msg, code = M.sky({ "check", "-o", "json" }, { timeout = M.TIMEOUTS.check })
  local res
  if not out then
    res = { nil, msg, code }
  elseif out.code ~= 0 then
    res = { nil, "`sky check` failed: " .. M.failure(out).message, E.EPROC }
  else
    local doc = M.json_of(out.out)
    local names, seen, storage = {}, {}, {}
    for _, ws in pairs(type(doc) == "table" and doc or {}) do
      for cloud, caps in pairs(type(ws) == "table" and ws or {}) do
        local n = tostring(cloud):lower()
        if not seen[n] then seen[n] = true; names[#names + 1] = n end
        for _, cap in ipairs(type(caps) == "table" and caps or {}) do
          if cap == "storage" then storage[n] = true end
        end
      end
    end
    table.sort(names)
    local storage_names = {}
    for _, n in ipairs(names) do if storage[n] then storage_names[#storage_names + 1] = n end end
    cache.storage_clouds = storage_names
    shared_put("storage_clouds", storage_names)
    if #names == 0 then
      res = { nil, "no cloud is enabled in SkyPilot. Set one up (e.g. Nebius: put the IAM token in "
        .. "~/.nebius/NEBIUS_IAM_TOKEN.txt and the tenant id in " ..
          "~/.nebius/NEBIUS_TENANT_ID.txt), then run "
        .. "`sky check nebius`; or use the local backend", E.ECONFIG }
    else
      res = { names }
      shared_put("clouds", names)
    end
  end
  cache.clouds = { at = vibeml.monotonic(), res = res }
  return table.unpack(res)
end

-- Enabled clouds whose object store SkyPilot can use (`sky check` capability "storage"), sorted:
-- without a cloud in the plan, SkyPilot puts a new bucket on the first of them.
function M.storage_clouds()
  M.clouds()
  return cache.storage_clouds or shared_get("storage_clouds") or {}
end

-- The SkyPilot user ({name=, id=}) from `sky api info`, for the default bucket's name.
function M.user()
  local v, info = M.version()
  if not v or type(info) ~= "table" or type(info.user) ~= "table" then return nil end
  return { name = info.user.name, id = info.user.id }
end

function M.reset_cache()
  cache = {}
  pcall(function() check(jdb.db():exec("DELETE FROM sky_info")) end)
end

-- sky present, version >= 0.12, at least one cloud enabled.
function M.usable()
  if not M.sky_path() then return false, "sky not found" end
  local v, msg = M.version()
  if not v then return false, msg end
  local c, cmsg = M.clouds()
  if not c then return false, cmsg end
  return true
end

-- }===============================================================

local function sky_name(row)
  local n = ("vml-" .. row.id):lower():gsub("[^a-z0-9-]", "-")
  return n:sub(1, 50)
end

local function ctx_of(row, extra)
  local params = type(row.params) == "string" and vibeml.json.decode(row.params) or {}
  local ctx = { job_id = row.id, cloud = row.cloud, region = row.region, gpu = row.gpu,
    count = row.gpu_count,
                spot = row.spot == nil and nil or row.spot == 1, cluster = row.cluster,
                  sky_job_id = row.backend_id,
                model = row.model, dataset = row.dataset, hp = params.hyperparameters,
                  alternatives = {} }
  -- other options from the planner, with the cost difference, for "try elsewhere" fixes
  local ok, planner = pcall(require, "vibeml.planner")
  local est = type(row.estimate) == "string" and vibeml.json.decode(row.estimate) or {}
  if ok and type(planner) == "table" and planner.plan and row.model then
    local okp, plan = pcall(planner.plan,
      { model = row.model, dataset = row.dataset, workflow = row.workflow,
                                            offline = true, no_task = true })
    if okp and type(plan) == "table" then
      local base = (est.cost or {}).expected
      for _, o in ipairs(plan.options or {}) do
        -- only real alternatives: a GPU offer on a cloud, other than the one that failed
        if o.gpu and o.cloud and o.cloud ~= "local"
           and not (o.gpu == row.gpu and o.cloud == row.cloud and o.region == row.region) then
          local exp = type(o.cost) == "table" and o.cost.expected or nil
          ctx.alternatives[#ctx.alternatives + 1] = { gpu = o.gpu, cloud = o.cloud,
            region = o.region, spot = o.spot,
            cost = exp, delta = (exp and base) and (exp - base) or nil }
          if #ctx.alternatives >= 3 then break end
        end
      end
    end
  end
  for k, v in pairs(extra or {}) do ctx[k] = v end
  return ctx
end
M.ctx_of = ctx_of

local function record_failure(row, f, note, extra)
  local fields = { state = "failed", failure_category = f.category, failure_message = f.message
    .. (f.detail and (" (" .. f.detail .. ")") or ""),
                   failure_advice =
                     vibeml.json.encode(vibeml.array((f.fixes and #f.fixes > 0) and f.fixes
                     or errors.fallback(f.category,
                       { job_id = row.id, model = row.model, dataset = row.dataset }))),
                   failure_retry = f.retry and 1 or 0 }
  for k, v in pairs(extra or {}) do fields[k] = v end
  return jdb.update(row.id, fields, note)
end

-- {=============================================================== start

function M.start(row, task, opts)
  opts = opts or {}
  local v, vmsg, vcode = M.version()
  if not v then return nil, vmsg, vcode end
  local clouds, cmsg, ccode = M.clouds()
  if not clouds then return nil, cmsg, ccode end
  local managed = opts.managed ~= false
  local name = sky_name(row)
  local path = opts.task_path
  if not path or not path:match("^/") or not path:match("%.yaml$") then
    return nil, "internal: the task file must be an absolute *.yaml path", E.EINVAL
  end
  -- spot by default for managed jobs: rewrite the task file when the plan left it open
  local res = task.resources or {}
  if managed and res.use_spot == nil and not res.any_of and not res.ordered then
    res.use_spot = true
    task.resources = res
    assert(vibeml.fs.write(path, (require("vibeml.workflows").encode_task(task))))
  end
  local args
  if managed then
    args = { "jobs", "launch", path, "-n", name, "-y", "-d" }
  else
    args = { "launch", path, "-c", name, "-y", "-d" }
  end
  local secret_names = {}
  for k in pairs(task.secrets or {}) do secret_names[#secret_names + 1] = k end
  table.sort(secret_names)
  for _, k in ipairs(secret_names) do args[#args + 1] = "--secret"; args[#args + 1] = k end
  local attempts = 0
  local max_attempts = opts.retries or 3
  while true do
    attempts = attempts + 1
    -- the name and this process are recorded BEFORE SkyPilot is asked: if this process dies
    -- while `sky jobs launch` runs, the next poll finds the job by name (M.reconcile)
    local me = vibeml.proc.getpid()
    jdb.update(row.id,
      { attempts = attempts, sky_name = name, mode = managed and "managed" or "cluster",
                         cluster = (not managed) and name or nil, launcher_pid = me,
                         launcher_start = vibeml.proc.start_time(me) })
    local out, msg, code = M.sky(args, { timeout = M.TIMEOUTS.launch, secrets = opts.secrets })
    if out and out.code == 0 then
      local id = managed and out.out:match("Managed Job ID: (%d+)")
        or out.out:match("Job ID: (%d+)")
      if not id then
        return nil, "SkyPilot accepted the launch but printed no job id:\n" .. out.out:sub(1, 500),
          E.EPROTO
      end
      local after = jdb.update(row.id,
        { state = "launching", backend_id = id, backend_status = managed and "PENDING" or "INIT" },
        (managed and "managed job " or "cluster job ") .. id .. " submitted")
      if after and after.stop_requested_at then
        -- stopped while SkyPilot was still launching it: cancel it now that it has an id
        M.sky(managed and { "jobs", "cancel", "-y", id } or { "down", "-y", name },
          { timeout = M.TIMEOUTS.cancel })
      end
      return true
    end
    local f = out and M.failure(out, ctx_of(row))
      or { category = "api_server", retry = false, message = msg, fixes = {} }
    jdb.event(jdb.db(), row.id, "attempt",
      { attempt = attempts, category = f.category, message = f.message,
      class = f.class, retry = f.retry })
    if not (f.retry and (f.category == "api_server" or (not managed and f.category == "capacity")))
      or attempts >= max_attempts then
      local message = f.message .. (f.raw and (" — SkyPilot said: " .. f.raw) or "")
      record_failure(row, f, "launch failed")
      return nil, message, code or E.EPROC, f
    end
    vibeml.sleep(errors.backoff(attempts, tonumber(os.getenv("VIBEML_SKY_BACKOFF") or "") or 2, 60))
  end
end

-- }===============================================================

-- {=============================================================== tracking

-- The money module is required, not guarded: if it cannot load, the poll fails loudly (and
-- the job's own cap, checked from its row, still holds) instead of charges vanishing quietly.
local function money_accrue(id, cost)
  local okc, over = pcall(require("vibeml.budget").accrue, id, cost)
  return okc and over
end

local function money_settle(id, cost)
  pcall(require("vibeml.budget").settle, id, cost)
end

-- The end of a job: logs archived, failure explained, cost settled.
local function finish(row, new_state, status, reason, rec)
  pcall(M.pull_logs, row, true)
  local cur = jdb.get(row.id)
  local now = jdb.now()
  local fields = { state = new_state, backend_status = status }
  if new_state == "completed" and cur.storage and not M.output_saved(cur) then
    -- SkyPilot says SUCCEEDED, but the run never reported its output in durable storage: the VM
    -- and its disk are gone, so this is a failure (the checkpoints in the bucket stay)
    local lay = vibeml.json.decode(cur.storage) or {}
    new_state, fields.state = "failed", "failed"
    reason = "the run ended without reporting its saved output (no artifact event in its log); "
      .. "nothing was found to keep at " .. tostring(lay.output_uri)
        .. "; its checkpoints are kept at "
      .. tostring(lay.checkpoints_uri)
  end
  if new_state == "failed" then
    local text = (reason or "") .. "\n" .. status .. "\n"
      .. (vibeml.fs.read(row.dir .. "/stdout.log") or ""):sub(-32768)
    local f = errors.classify(text, ctx_of(cur), { sources = { "training", "skypilot" } })
    if status == "FAILED_SETUP" and (not f or f.category == "user_code") then
      f = errors.classify("FAILED_SETUP", ctx_of(cur), { sources = { "skypilot" } })
    end
    f = f
      or { category = "user_code", message = "the job failed (" .. status .. ")", fixes = {},
      retry = false }
    fields.failure_category = f.category
    fields.failure_message = f.message
      .. (reason and reason ~= "" and (" — SkyPilot said: " .. reason) or "")
    fields.failure_advice = vibeml.json.encode(vibeml.array(f.fixes or {}))
    fields.failure_retry = f.retry and 1 or 0
    fields.exit_code = 100
  elseif new_state == "terminated" then
    fields.stop_reason = cur.stop_reason or "cancelled outside VibeML"
    fields.exit_code = 103
  else
    fields.exit_code = 0
  end
  -- close billing first so the final cost includes the last segment
  local tmp = {}
  for k, v in pairs(cur) do tmp[k] = v end
  -- a job can start and end between two polls: bill at least the time SkyPilot says it ran
  local ran = rec and (tonumber(rec.job_duration)
    or (tonumber(rec.end_at) and tonumber(rec.start_at) and rec.end_at - rec.start_at)) or nil
  local billed = jdb.billed_seconds(tmp, now)
  if ran and ran > billed then
    tmp.billed_s, tmp.billing_since = ran, nil -- all of it, the open segment included
    fields.billed_s, fields.billing_since = tmp.billed_s, vibeml.null
  end
  local final = jdb.cost_of(tmp, now)
  fields.cost_accrued = final
  fields.cost_final = final
  jdb.update(row.id, fields, "SkyPilot status " .. status)
  money_settle(row.id, final)
  require("vibeml.jobs.report").write(row.id) -- report.json + report.md in the job folder
end

-- What the queue says a job runs on: {cloud=, region=, gpu=, count=, spot=} (fields it does not
-- say are nil). `accelerators` is {"A100": 1} (or "A100:1"); spot shows as "[Spot]" in
-- cluster_resources_full.
function M.placement(rec)
  if type(rec) ~= "table" or type(rec.cloud) ~= "string" or rec.cloud == "" then return nil end
  local p = { cloud = rec.cloud:lower(), region = type(rec.region) == "string" and rec.region ~= ""
    and rec.region or nil }
  local acc = rec.accelerators
  if type(acc) == "table" then
    for k, v in pairs(acc) do p.gpu, p.count = tostring(k), math.tointeger(v) or tonumber(v) end
  elseif type(acc) == "string" then
    local g, n = acc:match("^([%w%-_.]+):?(%d*)")
    if g then p.gpu, p.count = g, tonumber(n) or 1 end
  end
  local full = rec.cluster_resources_full or rec.cluster_resources
  if type(full) == "string" and full ~= "" then p.spot = full:find("[Spot]", 1, true) ~= nil end
  return p
end

-- The plan's candidate that matches a placement (nil when none does).
function M.match_candidate(cands, p)
  for _, c in ipairs(cands or {}) do
    local ok = c.cloud and c.cloud:lower() == p.cloud
    if ok and c.region and p.region then ok = c.region == p.region end
    if ok and c.gpu and p.gpu then
      ok = c.gpu:lower() == p.gpu:lower() and (not p.count or (c.count or 1) == p.count)
    end
    if ok and p.spot ~= nil and c.spot ~= nil then ok = c.spot == p.spot end
    if ok then return c end
  end
end

-- Whether the job's log reported its output saved (an `artifact` event; with push_to_hub, the
-- upload phase ended too).
function M.output_saved(row)
  local db = jdb.db()
  local art =
    check(
    db:first(
      "SELECT count(*) AS n FROM job_events WHERE job_id = ? AND json_extract(data, '$.event') " ..
        "= 'artifact'", row.id)).n
  if art == 0 then return false end
  local params = type(row.params) == "string" and vibeml.json.decode(row.params) or {}
  if type(params) == "table" and type(params.push_to_hub) == "string" then
    local up =
      check(
      db:first(
        "SELECT count(*) AS n FROM job_events WHERE job_id = ? AND json_extract(data, " ..
          "'$.phase') = 'upload' AND json_extract(data, '$.status') = 'end'", row.id)).n
    return up > 0
  end
  return true
end

local function apply(row, status, rec, mapped)
  local changed = false
  -- where SkyPilot actually placed it: it fails over down the plan's candidates, and recovers
  -- a preempted job wherever capacity is. Bill at the rate of what runs from now on.
  local where = M.placement(rec)
  if where then
    local offer = type(row.offer) == "string" and vibeml.json.decode(row.offer) or {}
    local cand = M.match_candidate(type(offer) == "table" and offer.candidates or nil, where)
    local moved = where.cloud ~= row.cloud or (where.region and where.region ~= row.region)
      or (where.gpu and cand and cand.gpu ~= row.gpu)
    if moved or (cand and cand.rate_hr and cand.rate_hr ~= row.rate_hr) then
      local fields = { cloud = where.cloud, region = where.region or row.region }
      local note = string.format("running on %s%s", where.cloud, where.region
        and ("/" .. where.region) or "")
      if cand then
        fields.gpu, fields.gpu_count = cand.gpu or row.gpu, cand.count or row.gpu_count
        fields.spot = cand.spot and 1 or 0
        if cand.rate_hr and cand.rate_hr ~= row.rate_hr then
          for k, v in pairs(jdb.rerate(row, cand.rate_hr, row.nodes)) do fields[k] = v end
          note = note .. string.format(" (%s%s): billed at $%.4f/h instead of $%.4f/h",
            cand.gpu and (tostring(cand.count or 1) .. "x" .. cand.gpu) or "", cand.spot
              and ", spot" or "",
            cand.rate_hr, row.rate_hr or 0)
        end
      else
        note = note .. " (not one of the plan's candidates: the rate stays the plan's)"
      end
      row = jdb.update(row.id, fields)
      jdb.event(jdb.db(), row.id, "note", { message = note, placement = where })
      changed = true
    end
  end
  if rec and math.type(rec.recovery_count) == "integer"
    and rec.recovery_count > (row.recoveries or 0) then
    jdb.update(row.id, { recoveries = rec.recovery_count })
    jdb.event(jdb.db(), row.id, "recovery", { recovery_count = rec.recovery_count,
      message = "preempted: SkyPilot is recovering the job; it resumes from its last checkpoint" })
    changed = true
  end
  if not mapped then
    if status ~= row.backend_status then
      jdb.update(row.id, { backend_status = status })
      changed = true
    end
    return changed
  end
  if jdb.TERMINAL[mapped] then
    finish(row, mapped, status, rec and rec.failure_reason, rec)
    return true
  end
  if mapped ~= row.state or status ~= row.backend_status then
    jdb.update(row.id, { state = mapped, backend_status = status }, "SkyPilot status " .. status)
    changed = true
  end
  -- cost and cap while it runs: written (and reported to the ledger) when it moved by a cent or
  -- more, so a steady poll of many jobs costs no writes
  local cur = changed and jdb.get(row.id) or row
  local cost = jdb.cost_of(cur)
  if (cur.rate_hr or 0) > 0 then
    local capped = cur.cap_usd and cost >= cur.cap_usd
    if capped or cost - (cur.cost_accrued or 0) >= 0.01 then
      jdb.update(row.id, { cost_accrued = cost })
      local over = money_accrue(row.id, cost)
      if (capped or over) and not cur.stop_requested_at then
        jdb.event(jdb.db(), row.id, "cost",
          { accrued = cost, cap = cur.cap_usd, message = "cost cap reached: stopping the job" })
        M.stop(cur, "budget")
      end
    end
  end
  return changed
end

-- One pass over the active SkyPilot jobs, whatever their number: one `sky jobs queue -o json`
-- (managed), plus `sky status -o json` and `sky queue -o json` (cluster runs) when there are any.
-- A launch whose process died while `sky jobs launch` ran leaves a row with a SkyPilot name and
-- no id. Such a row is orphaned once its launcher is gone (or has held it past the launch time
-- limit); it is then matched by name in the queue: adopted and tracked (its budget reservation
-- still held), or, when SkyPilot has no such job, failed and its reservation released.
local function orphaned(row)
  if row.backend_id or not row.sky_name or row.mode == "cluster" then return false end
  if row.launcher_pid and vibeml.proc.alive(row.launcher_pid, row.launcher_start or 0)
     and jdb.now() - (row.created_at or 0) < M.TIMEOUTS.launch + 60 then
    return false
  end
  return true
end

local function reconcile(row, list)
  local found
  for _, rec in ipairs(list) do
    if type(rec) == "table" and rec.job_name == row.sky_name
      and (not found or (tonumber(rec.job_id) or 0) > (tonumber(found.job_id) or 0)) then
      found = rec
    end
  end
  if found then
    local id = tostring(math.tointeger(found.job_id) or found.job_id)
    jdb.update(row.id, { backend_id = id, state = "launching", backend_status = found.status },
      "adopted SkyPilot job " .. id .. " (its launch was interrupted)")
    jdb.event(jdb.db(), row.id, "note",
      { message = "the process that launched this job ended before "
      .. "SkyPilot answered; found managed job " .. id .. " by its name " .. row.sky_name
        .. " and tracking it" })
    return jdb.get(row.id), found
  end
  if row.stop_requested_at then
    jdb.update(row.id, { state = "terminated", stop_reason = row.stop_reason or "user" },
      "stopped; SkyPilot never created the job")
  else
    record_failure(row, { category = "setup", retry = true, fixes = {},
      message = "the launch was interrupted before SkyPilot created the job (no managed job named "
        .. row.sky_name .. " exists); nothing ran and nothing was charged — launch it again" },
          "launch interrupted")
  end
  money_settle(row.id, 0)
  return nil
end

function M.poll(rows)
  local managed, clusters, orphans = {}, {}, {}
  for _, row in ipairs(rows) do
    if row.backend_id then
      if row.mode == "cluster" then clusters[#clusters + 1] = row else
        managed[#managed + 1] = row end
    elseif orphaned(row) then
      orphans[#orphans + 1] = row
    end
  end
  if #managed > 0 or #orphans > 0 then
    local out, msg = M.sky({ "jobs", "queue", "-o", "json", "-v" })
    if not out then error(msg) end
    if out.code ~= 0 then error("sky jobs queue failed: " .. M.failure(out).message) end
    local list = M.json_of(out.out)
    if type(list) ~= "table" then error("sky jobs queue: unreadable JSON") end
    local by_id = {}
    -- a record that is not an object is skipped: one bad entry must not stop tracking the others
    for _, rec in ipairs(list) do
      if type(rec) == "table" then
        by_id[tostring(math.tointeger(rec.job_id) or rec.job_id)] = rec
      end
    end
    for _, row in ipairs(orphans) do
      local adopted, rec = reconcile(row, list)
      if adopted then apply(adopted, rec.status, rec, STATUS[rec.status]) end
    end
    for _, row in ipairs(managed) do
      local rec = by_id[tostring(row.backend_id)]
      if rec then apply(row, rec.status, rec, STATUS[rec.status]) end
    end
  end
  if #clusters > 0 then
    local st = M.sky({ "status", "-o", "json" })
    local up = {}
    for _, c in ipairs(st and st.code == 0 and M.json_of(st.out) or {}) do
      if type(c) == "table" and c.name ~= nil then up[c.name] = c.status end
    end
    local q = M.sky({ "queue", "-o", "json" })
    local queues = q and q.code == 0 and M.json_of(q.out) or {}
    for _, row in ipairs(clusters) do
      local cname = row.cluster or row.sky_name
      if st and st.code == 0 and not up[cname] then
        -- the cluster is gone: preempted or torn down
        if row.stop_requested_at then
          finish(row, "terminated", "CANCELLED")
        else
          finish(row, "failed", "FAILED", "Cluster '" .. cname
            .. "' not found on the cloud provider. It was likely preempted or autodowned.")
        end
      else
        local q_of = type(queues) == "table" and queues[cname] or {}
        for _, j in ipairs(type(q_of) == "table" and q_of or {}) do
          if type(j) == "table"
            and tostring(math.tointeger(j.job_id) or j.job_id) == tostring(row.backend_id) then
            local mapped = STATUS[j.status]
            apply(row, j.status, nil, mapped)
            if jdb.TERMINAL[mapped or ""] then
              -- a plain cluster costs money until it is down
              M.sky({ "down", "-y", cname }, { timeout = M.TIMEOUTS.down })
            end
          end
        end
      end
    end
  end
end

-- Pulls the job's log into the archive (state/jobs/<id>/stdout.log), redacted, and records new
-- progress from it. Rate-limited per job (force skips the limit).
local last_pull = {}
function M.pull_logs(row, force)
  if not row.backend_id then return false end
  local now = vibeml.monotonic()
  if not force and last_pull[row.id] and now - last_pull[row.id] < 10 then return false end
  last_pull[row.id] = now
  local args
  if row.mode == "cluster" then
    args = { "logs", row.cluster or row.sky_name, tostring(row.backend_id), "--no-follow" }
  else
    args = { "jobs", "logs", tostring(row.backend_id), "--no-follow" }
  end
  local out = M.sky(args, { timeout = M.TIMEOUTS.logs })
  if not out or out.code == 102 then return false end
  local text = out.out
  if vibeml.vault and vibeml.vault.redact then
    local ok, red = pcall(vibeml.vault.redact, text)
    if ok and type(red) == "string" then text = red end
  end
  vibeml.fs.write(row.dir .. "/stdout.log", text)
  if out.err ~= "" then vibeml.fs.write(row.dir .. "/stderr.log", out.err) end
  -- progress: the last step line wins; new @@VIBEML events are recorded once
  local best, evs, protocol = nil, {}, false
  for line in text:gmatch("[^\n]+") do
    local kind, t = progress.parse_line(line)
    if kind == "vibeml" then protocol = true end
    if kind and (kind == "vibeml" or not protocol) then
      local p = progress.to_progress(kind, t)
      if p and (p.event == "step" or p.event == "end" or p.event == "start") then best = p end
      if kind == "vibeml" then evs[#evs + 1] = t end
    end
  end
  local db = jdb.db()
  check(db:tx(function()
    local seen =
      check(
      db:first(
        "SELECT count(*) AS n FROM job_events WHERE job_id = ? AND kind IN " ..
          "('progress','checkpoint','phase','error') AND json_extract(data, '$.source') = 'log'",
          row.id)).n
    for i = seen + 1, #evs do
      local e = evs[i]
      e.source = "log"
      local kind = (e.event == "checkpoint" or e.event == "phase" or e.event == "error") and e.event
        or "progress"
      jdb.event(db, row.id, kind, e)
    end
    if best then
      local f = {}
      for _,
        k in ipairs({ "step", "total_steps", "loss", "lr", "tokens_per_s", "eta_s", "epoch" }) do
        if best[k] ~= nil then f[#f + 1] = k end
      end
      if #f > 0 then
        local cols, vals = {}, {}
        for _, k in ipairs(f) do cols[#cols + 1] = k .. " = ?"; vals[#vals + 1] = best[k] end
        vals[#vals + 1] = jdb.now()
        vals[#vals + 1] = row.id
        check(db:exec("UPDATE jobs SET " .. table.concat(cols, ", ")
          .. ", progress_at = ? WHERE id = ?", table.unpack(vals)))
      end
    end
  end))
  require("vibeml.jobs.watchdog").observe(row, evs)
  return true
end

-- }===============================================================

-- (no grace period: SkyPilot's cancel has none)
function M.stop(row, reason, _grace)
  jdb.update(row.id, { stop_requested_at = jdb.now(), stop_reason = reason or "user" })
  if not row.backend_id then
    if row.sky_name and row.mode ~= "cluster" then
      -- a launch may be under way (or died mid-way): cancel whatever SkyPilot has by that name,
      -- so a job the launcher never heard of cannot run on unwatched
      local out = M.sky({ "jobs", "cancel", "-y", "-n", row.sky_name },
        { timeout = M.TIMEOUTS.cancel })
      jdb.event(jdb.db(), row.id, "note",
        { message = "cancel by name " .. row.sky_name .. " requested from SkyPilot",
        code = out and out.code })
    end
    jdb.update(row.id, { state = "terminated" }, "stopped before SkyPilot assigned an id")
    money_settle(row.id, 0)
    return true
  end
  local out, msg, code
  if row.mode == "cluster" then
    local cname = row.cluster or row.sky_name
    M.sky({ "cancel", "-y", cname, tostring(row.backend_id) }, { timeout = M.TIMEOUTS.cancel })
    pcall(M.pull_logs, row, true)
    out, msg, code = M.sky({ "down", "-y", cname }, { timeout = M.TIMEOUTS.down })
    if out and out.code == 0 then
      finish(jdb.get(row.id), "terminated", "CANCELLED")
      return true
    end
  else
    out, msg, code = M.sky({ "jobs", "cancel", "-y", tostring(row.backend_id) },
      { timeout = M.TIMEOUTS.cancel })
    if out and out.code == 0 then
      jdb.event(jdb.db(), row.id, "note",
        { message = "cancel requested from SkyPilot", reason = reason })
      -- the end (CANCELLED) is read by the next poll
      return true
    end
  end
  if not out then return nil, msg, code end
  local f = M.failure(out, ctx_of(row))
  return nil, "SkyPilot could not stop job " .. row.id .. ": " .. f.message, E.EPROC
end

return M

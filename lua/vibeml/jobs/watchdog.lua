-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.watchdog — acts on a running job's progress (issue 15). Rules come from the shipped
-- plugins/watchdogs/*.lua and the user's <config>/watchdogs/*.lua (kind "watchdog", loaded as
-- data + pure functions in an environment without files or processes, like the error rules; a
-- user rule with a shipped id overrides its action, message and settings), and the user's
-- plugins of kind "watchdog" that the plugin loader serves (<config>/plugins; checked in
-- core/plugin.c), whose checks run in their own sandboxed states through plugins.call.
--
--   observe(row, new_events [, {flag = true}])  called where progress is recorded (the local
--     supervisor, the SkyPilot log pull) with the job row and the @@VIBEML events that just
--     arrived (possibly none: the stall rule needs the clock too). A rule that fires records a
--     job event (kind "watchdog": rule, action, message, evidence, fixes); "warn" fires once per
--     job; "stop" also writes the rule, evidence and fixes into the job's failure fields and
--     stops it with reason "watchdog: <rule>" (the program gets SIGTERM and saves a checkpoint).
--     flag = true: only set the stop request (the supervisor acts on it in its own tick).
--     Returns the list of firings (for tests), or nil.
--   rules() -> { {id=, action=, message=, settings=, check=, fixes=, source=} ... }; reset()
--   setup_estimate(row) -> seconds, source | nil: the set-up a job's first step is expected
--     after (the stuck-in-set-up rules): the plan's estimate.setup_s, else the workflow's ranges,
--     else the sizing defaults (see below)
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check

local M = {}

M.SHIPPED = { "plugins/watchdogs/builtin.lua" }
M.ACTIONS = { warn = true, stop = true }
M.HISTORY = 40       -- recent step events a rule sees
M.IDLE_EVERY = 2     -- seconds between checks when no new step arrived (the clock-only rules)

local cache
local last_idle = {}
local busy = {}

local function read_shipped(path)
  local emb = vibeml.embedded
  if emb and emb.read then
    local t = emb.read(path)
    if t then return t end
  end
  local src = os.getenv("VML_SOURCE_DIR")
  if src then return vibeml.fs.read(src .. "/" .. path) end
  return nil, "embedded file " .. path .. " is not available"
end

local function load_file(text, path)
  local env = { string = string, table = table, math = math, pairs = pairs, ipairs = ipairs,
    tostring = tostring, tonumber = tonumber, type = type, select = select, error = error,
    pcall = pcall, next = next }
  local fn, e = load(text, "@" .. path, "t", env)
  if not fn then return nil, e end
  local ok, desc = pcall(fn)
  if not ok then return nil, tostring(desc) end
  if type(desc) ~= "table" or desc.kind ~= "watchdog" or type(desc.rules) ~= "table" then
    return nil, path
      .. ": not a watchdog plugin (return { kind = \"watchdog\", name =, rules = { ... } })"
  end
  for i, r in ipairs(desc.rules) do
    if type(r.id) ~= "string" or r.id == "" then
      return nil, string.format("%s: rule %d has no id", path, i)
    end
    if r.action ~= nil and not M.ACTIONS[r.action] then
      return nil,
        string.format("%s: rule %s: action must be \"warn\" or \"stop\", not %s", path, r.id,
        tostring(r.action))
    end
  end
  return desc
end

local function merge_rule(into, r, source)
  if r.action then into.action = r.action end
  if r.message then into.message = r.message end
  if type(r.check) == "function" then into.check = r.check end
  if r.fixes ~= nil then into.fixes = r.fixes end
  into.settings = into.settings or {}
  for k, v in pairs(r.settings or {}) do into.settings[k] = v end
  into.source = source
end

function M.rules()
  if cache then return cache end
  local list, byid = {}, {}
  local function add(desc, source)
    for _, r in ipairs(desc.rules) do
      local cur = byid[r.id]
      if cur then
        merge_rule(cur, r, source)
      elseif type(r.check) == "function" then
        cur = { id = r.id, action = "warn", settings = {} }
        merge_rule(cur, r, source)
        byid[r.id] = cur
        list[#list + 1] = cur
      else
        vibeml.log("warning", "watchdog %s: rule %s has no check and overrides no rule; ignored",
          source, r.id)
      end
    end
  end
  for _, p in ipairs(M.SHIPPED) do
    local text, err = read_shipped(p)
    local d
    if text then d, err = load_file(text, p) end
    if d then add(d, p) else vibeml.log("warning", "watchdog rules %s: %s", p, tostring(err)) end
  end
  -- user plugins of kind "watchdog" served by the plugin loader (<config>/plugins, sandboxed
  -- states): data from the descriptor, checks and fixes through plugins.call
  local okp, plugins = pcall(require, "vibeml.plugins")
  if okp and type(plugins) == "table" and plugins.list then
    local okl, found = pcall(plugins.list, "watchdog")
    for _, p in ipairs(okl and found or {}) do
      local g = p.name ~= "builtin" and plugins.get(p.name)
      local desc = g and (g.descriptor or g)
      if type(desc) == "table" and type(desc.rules) == "table" then
        local copy = { rules = {} }
        for i, r in ipairs(desc.rules) do
          local rr = { id = r.id, action = r.action, message = r.message, settings = r.settings }
          local fns = {}
          for _, f in ipairs(p.functions or {}) do fns[f] = true end
          if fns["rules." .. i .. ".check"] then
            rr.check = function(ctx, st)
              local res = plugins.call(p.name, "rules." .. i .. ".check", ctx, st)
              return type(res) == "string" and res or nil
            end
          end
          if fns["rules." .. i .. ".fixes"] then
            rr.fixes = function(ctx, st)
              local res = plugins.call(p.name, "rules." .. i .. ".fixes", ctx, st)
              return type(res) == "table" and res or {}
            end
          end
          copy.rules[i] = rr
        end
        add(copy, "plugin " .. p.name)
      end
    end
  end
  local dir = vibeml.fs.paths().config .. "/watchdogs"
  if vibeml.fs.exists(dir) == "dir" then
    for _, name in ipairs(vibeml.fs.list(dir) or {}) do
      if name:match("%.lua$") then
        local path = dir .. "/" .. name
        local text = vibeml.fs.read(path)
        local d, err = nil, "unreadable"
        if text then d, err = load_file(text, path) end
        if d then add(d, path) else
          vibeml.log("warning", "watchdog rules %s: %s", path, tostring(err)) end
      end
    end
  end
  cache = list
  return cache
end

function M.reset() cache = nil end

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  return vibeml.json.decode(s)
end

-- The recent step events of the job since it last became running (a recovered job is judged
-- on its new VM only), oldest first.
local function recent_steps(db, row)
  local since =
    check(
    db:first(
      "SELECT max(ts) AS ts FROM job_events WHERE job_id = ? AND kind = 'state' AND " ..
        "json_extract(data, '$.to') = 'running'", row.id))
  local rows =
    check(
    db:query("SELECT ts, data FROM job_events WHERE job_id = ? AND kind = 'progress' AND ts >= ? "
    .. "AND json_extract(data, '$.event') = 'step' ORDER BY id DESC LIMIT ?", row.id, since
      and since.ts or 0, M.HISTORY))
  local ended =
    check(
    db:first("SELECT 1 AS x FROM job_events WHERE job_id = ? AND kind = 'progress' AND ts >= ? "
    .. "AND json_extract(data, '$.event') = 'end'", row.id, since and since.ts or 0))
  local out = {}
  for i = #rows, 1, -1 do
    local d = decode(rows[i].data) or {}
    out[#out + 1] = { step = tonumber(d.step), loss = d.loss, ts = tonumber(d.ts) or rows[i].ts,
                      step_time_s = tonumber(d.step_time_s),
                        tokens_per_s = tonumber(d.tokens_per_s) }
  end
  return out, ended ~= nil
end

-- Expected set-up seconds (install, download and load before the first step) and where the
-- figure came from: the plan's estimate.setup_s when the job's stored estimate has it; else the
-- workflow descriptor's set-up and warm-up ranges (throughput.setup_s / warmup_s, their middle),
-- plus the download and load (its download_mb_s / load_gb_s) of a mid-size model (8 B parameters
-- in bf16: the job row does not keep the model's size) unless the workflow runs on CPU; what the
-- descriptor lacks comes from the sizing module's defaults. Cached per job: it does not change.
local setup_cache = {}
M.DEFAULT_MODEL_BYTES = 8e9 * 2

local function setup_estimate(row, est)
  if row.id and setup_cache[row.id] then return table.unpack(setup_cache[row.id]) end
  local s = type(est) == "table" and est.setup_s
  s = type(s) == "table" and (tonumber(s.expected) or tonumber(s.max)) or tonumber(s)
  local src = "the plan's set-up estimate"
  if not (s and s > 0) then
    local okz, sizing = pcall(require, "vibeml.sizing")
    local S = okz and type(sizing) == "table" and sizing.SETUP
    if not S then return nil end
    local okw, wfs = pcall(require, "vibeml.workflows")
    local d = okw and row.workflow and select(2, pcall(wfs.get, row.workflow))
    local th = type(d) == "table" and type(d.throughput) == "table" and d.throughput or {}
    local cpu = type(d) == "table" and type(d.vram) == "table" and d.vram.cpu_only
    local function mid(r, dflt)
      if type(r) == "table" and tonumber(r[1]) and tonumber(r[2]) then return (r[1] + r[2]) / 2 end
      return dflt
    end
    local bytes = M.DEFAULT_MODEL_BYTES
    s = mid(th.setup_s, S.install[2]) + mid(th.warmup_s, S.warmup[2])
    if not cpu then
      s = s + bytes / ((tonumber(th.download_mb_s) or S.download_mb_s[2]) * 1e6)
        + bytes / ((tonumber(th.load_gb_s) or S.load_gb_s) * 1e9)
    end
    src = type(th.setup_s) == "table"
      and ("workflow " .. tostring(row.workflow) .. "'s set-up range")
      or "the default set-up of a mid-size model (the plan gave none)"
  end
  if row.id then setup_cache[row.id] = { s, src } end
  return s, src
end

function M.setup_estimate(row) return setup_estimate(row, decode(row.estimate)) end

local function plan_of(row, steps)
  local est = decode(row.estimate)
  local out = {}
  out.setup_s, out.setup_source = setup_estimate(row, est)
  local total = row.total_steps or (steps[#steps] and steps[#steps].total_steps)
  if type(est) ~= "table" or not total or total <= 0 then return out end
  local d = est.duration_h
  local h = type(d) == "table" and (d.expected or d.max) or tonumber(d)
  if not h or h <= 0 then return out end
  out.step_s, out.duration_h = h * 3600 / total, h
  return out
end

-- When the machine that runs the job now began setting up: the local supervisor runs the
-- workflow's set-up while the job is "launching"; a cloud job's VM is up (and billed) from
-- "running" on, after a recovery too. Waiting for capacity before that is not set-up (and costs
-- nothing). nil when the job is not in that stretch.
M.SETUP_FROM = { ["local"] = "launching" }

local function setup_since(db, row)
  local from = M.SETUP_FROM[row.backend] or "running"
  if row.state ~= from and row.state ~= "running" then return nil end
  local e =
    db:first(
    "SELECT max(ts) AS ts FROM job_events WHERE job_id = ? AND kind = 'state' AND " ..
      "json_extract(data, '$.to') = ?",
    row.id, from)
  return e and e.ts
end

-- The job's hyperparameters: what it was given over the workflow's defaults (a fix names the
-- value in force, e.g. the default learning rate).
local function hyperparameters(row)
  local params = decode(row.params) or {}
  local hp = {}
  local okw, wfs = pcall(require, "vibeml.workflows")
  local d = okw and row.workflow and select(2, pcall(wfs.get, row.workflow))
  if type(d) == "table" and type(d.hyperparameters) == "table" then
    for k, spec in pairs(d.hyperparameters) do
      if type(spec) == "table" and spec.default ~= nil then hp[k] = spec.default end
    end
  end
  for k, v in pairs(type(params.hyperparameters) == "table" and params.hyperparameters or {}) do
    hp[k] = v
  end
  return hp
end

local function fired_before(db, id, rule)
  return check(
    db:first(
      "SELECT 1 AS x FROM job_events WHERE job_id = ? AND kind = 'watchdog' AND " ..
        "json_extract(data, '$.rule') = ?", id, rule)) ~= nil
end

local function fire(db, row, rule, evidence, ctx, opts)
  local fixes = {}
  if type(rule.fixes) == "function" then
    local ok, f = pcall(rule.fixes, ctx, rule.settings)
    if ok and type(f) == "table" then fixes = f end
  elseif type(rule.fixes) == "table" then
    fixes = rule.fixes
  end
  local reason = "watchdog: " .. rule.id
  local ev = { rule = rule.id, action = rule.action, message = rule.message, evidence = evidence,
               fixes = vibeml.array(fixes), source = rule.source }
  jdb.event(db, row.id, "watchdog", ev)
  if rule.action == "stop" then
    jdb.update(row.id, { failure_category = "watchdog",
      failure_message = string.format("stopped by watchdog %s: %s Evidence: %s.", rule.id,
        rule.message or "", evidence),
      failure_advice = vibeml.json.encode(vibeml.array(fixes)), failure_retry = 0 })
    if opts.flag then
      jdb.update(row.id, { stop_requested_at = jdb.now(), stop_reason = reason })
    else
      local ok, msg = pcall(function()
        local r, m = require("vibeml.jobs").stop(row.id, { reason = reason, wait = false })
        if not r then error(m) end
      end)
      if not ok then
        vibeml.log("warning", "job %s: watchdog could not stop it: %s", row.id, tostring(msg))
      end
    end
  end
  local okn, notify = pcall(require, "vibeml.notify")
  if okn and type(notify) == "table" and notify.send then
    pcall(notify.send, row.id, "watchdog", ev)
  end
  return ev
end

local function observe(row, new_events, opts)
  local db = jdb.db()
  local cur = jdb.get(row.id)
  if not cur or not jdb.ACTIVE[cur.state] or cur.stop_requested_at then return nil end
  local new = {}
  for _, e in ipairs(new_events) do
    if type(e) == "table" and e.event == "step" then
      new[#new + 1] = { step = tonumber(e.step), loss = e.loss, ts = tonumber(e.ts),
        tokens_per_s = tonumber(e.tokens_per_s) }
    end
  end
  local mono = vibeml.monotonic()
  if #new == 0 then
    if last_idle[row.id] and mono - last_idle[row.id] < M.IDLE_EVERY then return nil end
  end
  last_idle[row.id] = mono
  local steps, ended = recent_steps(db, cur)
  if ended then return nil end -- the program said it ended: nothing left to watch
  local ctx = { job_id = cur.id, steps = steps, new = new, now = jdb.now(), state = cur.state,
                hp = hyperparameters(cur),
                plan = plan_of(cur, steps), started_at = cur.started_at, workflow = cur.workflow,
                setup_since = setup_since(db, cur), backend = cur.backend }
  local out = {}
  for _, rule in ipairs(M.rules()) do
    local ok, evidence = pcall(rule.check, ctx, rule.settings or {})
    if not ok then
      vibeml.log("warning", "watchdog rule %s failed: %s", rule.id, tostring(evidence))
    elseif evidence and not fired_before(db, cur.id, rule.id) then
      out[#out + 1] = fire(db, cur, rule, tostring(evidence), ctx, opts)
      if rule.action == "stop" then return out end
    end
  end
  -- the re-quote's warnings (projected total over the cap, 80 % of the cap) ride on the same calls
  -- and so do the "started" and "recovered" notifications
  if #new > 0 then
    require("vibeml.jobs.requote").watch(cur)
    require("vibeml.notify").progress(cur)
  end
  return out
end

function M.observe(row, new_events, opts)
  if type(row) ~= "table" or not row.id or busy[row.id] then return nil end
  busy[row.id] = true -- a stop pulls logs again: no second look from inside the first
  local ok, res = pcall(observe, row, new_events or {}, opts or {})
  busy[row.id] = nil
  if not ok then
    vibeml.log("warning", "watchdog for job %s: %s", tostring(row.id), tostring(res))
    return nil
  end
  return res
end

return M

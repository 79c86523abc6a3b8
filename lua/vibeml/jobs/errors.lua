-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.errors — turns a backend's or a training program's error text into
--   { category=, message=, fixes={...}, retry=bool, rule=, source=, detail= }
-- using the error_rules plugins: the shipped plugins/errors/skypilot.lua and training.lua, plus
-- any user plugin of kind "error_rules" served by the plugin loader (vibeml.plugins) when that is
-- present. Categories: capacity, quota, credentials, cloud_not_enabled, invalid_resource,
-- preempted, user_code, setup, not_found, api_server.
--   classify(text, ctx [, {sources = {"skypilot", "training"}, class =
--     "ResourcesUnavailableError"}])
--   fixes_of(rule, ctx) -> the rule's fixes, never empty (fallback(category, ctx) when it has none)
--   fallback(category, ctx) -> at least one concrete fix (a tool call or a command) per category
--   backoff(attempt) -> seconds (bounded exponential with jitter) for retryable failures
local M = {}

M.CATEGORIES = { capacity = true, quota = true, credentials = true, cloud_not_enabled = true,
  invalid_resource = true, preempted = true, user_code = true, setup = true, not_found = true,
  api_server = true }

local SHIPPED = { "plugins/errors/skypilot.lua", "plugins/errors/training.lua" }
local rulesets -- name -> descriptor

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

-- Loads a rules file as data + pure functions, in an environment without files or processes.
local function load_rules(path)
  local text, err = read_shipped(path)
  if not text then return nil, err end
  local env = { string = string, table = table, math = math, pairs = pairs, ipairs = ipairs,
    tostring = tostring, tonumber = tonumber, type = type, select = select, error = error,
    pcall = pcall, next = next, vibeml = { null = vibeml.null } }
  local fn, e = load(text, "@" .. path, "t", env)
  if not fn then return nil, e end
  local ok, desc = pcall(fn)
  if not ok then return nil, tostring(desc) end
  if type(desc) ~= "table" or desc.kind ~= "error_rules" or type(desc.rules) ~= "table" then
    return nil, path .. ": not an error_rules plugin"
  end
  for i, r in ipairs(desc.rules) do
    if not M.CATEGORIES[r.category] then
      return nil,
        string.format("%s: rule %d (%s) has unknown category %s", path, i, tostring(r.id),
        tostring(r.category))
    end
  end
  return desc
end

function M.rulesets()
  if rulesets then return rulesets end
  rulesets = {}
  for _, p in ipairs(SHIPPED) do
    local d, e = load_rules(p)
    if d then rulesets[d.name] = d
    else vibeml.log("warning", "error rules %s: %s", p, tostring(e)) end
  end
  -- user error_rules plugins through the plugin loader (sandboxed states): data from the
  -- descriptor, fixes through plugins.call
  local ok, plugins = pcall(require, "vibeml.plugins")
  if ok and type(plugins) == "table" and plugins.list then
    local okl, list = pcall(plugins.list, "error_rules")
    for _, p in ipairs(okl and list or {}) do
      if not rulesets[p.name] then
        local g = plugins.get(p.name)
        local desc = g and (g.descriptor or g)
        if desc and type(desc.rules) == "table" then
          local copy = { name = p.name, rules = {} }
          for i, r in ipairs(desc.rules) do
            local rr = {}
            for k, v in pairs(r) do rr[k] = v end
            rr.fixes = function(ctx)
              local res = plugins.call(p.name, "rules." .. i .. ".fixes", ctx)
              return type(res) == "table" and res or {}
            end
            copy.rules[i] = rr
          end
          rulesets[p.name] = copy
        end
      end
    end
  end
  return rulesets
end

function M.reset() rulesets = nil end

local function matches(rule, text)
  for _, pat in ipairs(rule.patterns or {}) do
    local okf, s, e = pcall(string.find, text, pat)
    if okf and s then
      -- the line holding the match, for the detail
      local ls = text:sub(1, s):match(".*\n()") or 1
      local le = text:find("\n", e, true) or (#text + 1)
      return text:sub(ls, le - 1)
    end
  end
  return nil
end

-- The exception class SkyPilot named on stderr (`sky.exceptions.<Class>: msg`), if any.
function M.exception_class(text)
  return text:match("sky%.exceptions%.([%w_]+):") or text:match("([%w_]+Error): ")
end

-- At least one concrete fix for a failure of this category: a tool call with its arguments
-- (for an assistant) or a command (for a person), so no failure ends without a next step.
function M.fallback(category, ctx)
  ctx = ctx or {}
  local job = ctx.job_id
  local replan = ctx.model
    and { title = "Plan again to see other GPUs, clouds and regions", tool = "plan_training",
    arguments = { model = ctx.model, dataset = ctx.dataset }, command = "vibeml plan --model "
      .. tostring(ctx.model) } or nil
  local logs = job and { title = "Read the end of the job's error output", tool = "get_job_logs",
    arguments = { job_id = job, stream = "stderr", tail = 100 }, command = "vibeml jobs logs "
      .. job .. " --stream stderr" } or nil
  local setup = { title = "Check the set-up (backends, clouds, credentials) and how to fix it",
    tool = "check_setup", arguments = {}, command = "vibeml doctor" }
  local f = {}
  local function add(x) if x then f[#f + 1] = x end end
  if category == "capacity" or category == "quota" or category == "invalid_resource" then
    add(replan); add(setup)
  elseif category == "credentials" or category == "cloud_not_enabled" then
    add({ title = "See which clouds SkyPilot can use and why not", command = "sky check" });
      add(setup)
  elseif category == "api_server" then
    add({ title = "Start the local SkyPilot API server", command = "sky api start" }); add(setup)
  elseif category == "preempted" then
    add(job
      and { title = "Watch the recovery (the job resumes from its last checkpoint)",
      tool = "get_job_status",
      arguments = { job_id = job }, command = "vibeml jobs show " .. job } or nil)
    add(setup)
  elseif category == "not_found" then
    add({ title = "List the jobs", tool = "list_jobs", arguments = {},
      command = "vibeml jobs list" })
  else -- user_code, setup
    add(logs); add(setup)
  end
  return f
end

-- A rule's fixes for ctx; never empty (the category's fallback fills an empty list).
function M.fixes_of(rule, ctx)
  local fixes = {}
  if type(rule.fixes) == "function" then
    local okf, f = pcall(rule.fixes, ctx)
    if okf and type(f) == "table" then fixes = f end
  elseif type(rule.fixes) == "table" then
    fixes = rule.fixes
  end
  if #fixes == 0 then fixes = M.fallback(rule.category, ctx) end
  return fixes
end

function M.classify(text, ctx, opts)
  opts = opts or {}
  ctx = ctx or {}
  text = tostring(text or "")
  local sets = M.rulesets()
  local order = opts.sources or { "skypilot", "training" }
  local class = opts.class or M.exception_class(text)
  for _, name in ipairs(order) do
    local set = sets[name]
    for _, r in ipairs(set and set.rules or {}) do
      if not r.class or r.class == class or not class or class == ""
        or r.class_optional ~= false then
        local detail = matches(r, text)
        if detail then
          return { category = r.category, message = r.message, fixes = M.fixes_of(r, ctx),
            retry = r.retry and true or false,
                   rule = r.id, source = name, detail = detail:gsub("^%s+", ""):sub(1, 500),
                   class = class }
        end
      end
    end
  end
  return nil
end

-- Bounded exponential backoff with jitter: 2, 4, 8, ... capped at `cap` seconds (default 60).
function M.backoff(attempt, base, cap)
  base, cap = base or 2, cap or 60
  local d = math.min(cap, base * 2 ^ math.max(0, (attempt or 1) - 1))
  return d * (0.75 + 0.5 * math.random())
end

return M

-- vibeml.prefs — the user's preferences: one human-editable JSON file, config.json in the config
-- folder ($XDG_CONFIG_HOME/vibeml, or VIBEML_HOME). Created with the defaults when missing,
-- validated on every load (unknown keys and bad values are refused with the allowed values),
-- written atomically (temp file, fsync, rename).
--
-- The file (keys starting with "_" are comments and are kept as they are):
--   {
--     "_doc": "VibeML preferences ...",
--     "backend": "auto",          -- auto: skypilot when SkyPilot has a cloud enabled, else local;
--                                 --   or "skypilot" / "local" (always that one; null = auto)
--     "cloud": null,              -- null = any; or aws, azure, gcp, lambda, nebius, vast, runpod,
--                                 --   kubernetes, ...  (a SkyPilot cloud name)
--     "region": null,             -- null = any; e.g. "eu-north1", "us-east-1"
--     "gpu": null,                -- null = the planner chooses; e.g. "H100", "A100-80GB", "L40S"
--     "spot": true, -- prefer spot instances (managed recovery resumes preempted jobs)
--     "workflow": null,           -- null = the planner chooses; e.g. "lora", "qlora", "unsloth"
--     "storage": null             -- null = a bucket named after the SkyPilot user; or
--                                 --   "s3://my-bucket", "gs://my-bucket", "my-bucket"
--   }
-- Money limits (monthly budget, per-job cap) are NOT in this file: they live in the ledger and
-- are set only from the command line (`vibeml budget set`), never by an assistant over MCP.
-- get() shows them (per_job_cap, monthly_budget) for reference.
-- Names are matched by vibeml.names (any case, aliases, plurals: "GCP", "H100s", "LoRA") and
-- stored canonical; set() refuses an unknown GPU, cloud, region or workflow with the closest
-- valid names (a region is checked against the price catalog). A hand-edited file is checked
-- by pattern only on load, so a catalog or plugin change never makes it unreadable.
--
--   local prefs = require "vibeml.prefs"
--   prefs.get()            -> table (with per_job_cap/monthly_budget from the ledger) | nil, err
--   prefs.set{ cloud = "nebius", spot = false }  -> true | nil, err      (vibeml.null clears)
--   prefs.keys()           -> { {key=, type=, allowed=, default=, description=}, ... }
--   prefs.path()           -> the file
local names = require "vibeml.names"

local M = {}

M.MONEY_KEYS = { per_job_cap = true, monthly_budget = true, monthly_limit = true,
  per_job = true, monthly = true, budget = true }

local CLOUDS = { "aws", "azure", "gcp", "lambda", "nebius", "vast", "runpod", "kubernetes",
  "oci", "paperspace", "fluidstack", "cudo", "do", "scp", "ibm", "vsphere", "hyperbolic",
  "seeweb", "primeintellect", "slurm", "coreweave" }

-- key, type, default, description, allowed (list) or pattern
M.SPEC = {
  { key = "backend", type = "string", default = "auto", allowed = { "auto", "skypilot", "local" },
    description = "where jobs run: skypilot (cloud GPUs through SkyPilot), local (this machine), "
      .. "or auto (skypilot when SkyPilot has a cloud enabled, else local; null sets auto)" },
  { key = "cloud", type = "string", default = nil, allowed = CLOUDS, nullable = true,
    description = "preferred cloud (null = any enabled cloud)" },
  { key = "region", type = "string", default = nil, nullable = true,
    pattern = "^[a-z][a-z0-9-]*[a-z0-9]$",
      pattern_text = "a region name such as eu-north1 or us-east-1",
    description = "preferred region (null = any)" },
  { key = "gpu", type = "string", default = nil, nullable = true,
    pattern = "^[A-Za-z][A-Za-z0-9-]*$",
      pattern_text = "a GPU name such as H100, A100-80GB or L40S",
    description = "preferred GPU (null = the planner chooses)" },
  { key = "spot", type = "boolean", default = true,
    description = "prefer spot instances (cheaper; preempted jobs are resumed from checkpoints)" },
  { key = "storage", type = "string", default = nil, nullable = true,
    pattern = "^[a-z0-9]*:?/?/?[a-z0-9][a-z0-9.-]*[a-z0-9]/?$",
    pattern_text = "a bucket name or URL such as s3://my-bucket, gs://my-bucket or my-bucket",
    description = "bucket for cloud jobs' checkpoints and outputs (null = vibeml-<user>-<hash> "
      .. "on the store of the cloud the plan chose)" },
  { key = "workflow", type = "string", default = nil, nullable = true,
    pattern = "^[a-z][a-z0-9_-]*$", pattern_text = "a workflow name such as lora, qlora or unsloth",
    description = "preferred workflow (null = the planner chooses)" },
}
local BY_KEY = {}
for _, s in ipairs(M.SPEC) do BY_KEY[s.key] = s end

function M.path()
  return vibeml.fs.paths().config .. "/config.json"
end

local function allowed_keys()
  local t = {}
  for _, s in ipairs(M.SPEC) do t[#t + 1] = s.key end
  return table.concat(t, ", ")
end

local function in_list(v, list)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

-- The canonical spelling of a name-valued preference, or nil, refusal (with the closest valid
-- names). strict (set time): a GPU, region or workflow must be one VibeML knows; on load a name
-- that no longer resolves is kept as written (it still has to match the pattern).
local function canonical(key, v, strict)
  if key == "backend" or key == "cloud" then
    local s = BY_KEY[key]
    local list = key == "cloud" and names.cloud_entries(s.allowed)
      or { { name = "auto", aliases = { "automatic", "default" } },
        { name = "skypilot", aliases = { "sky", "cloud" } },
           { name = "local", aliases = { "this-machine" } } }
    local c, close = names.match(v, list)
    if c then return c end
    return nil, string.format("'%s' cannot be '%s' (allowed: %s%s)%s", key, tostring(v),
      table.concat(s.allowed, ", "), s.nullable and ", or null" or "", names.suggestion_text(close))
  elseif key == "gpu" then
    local gpus = require "vibeml.gpus"
    local c, msg = gpus.resolve(v)
    if c then return c end
    if not strict then return v end
    return nil, "'gpu' cannot be '" .. tostring(v) .. "' (or null): " .. msg
  elseif key == "workflow" then
    local ok, wf = pcall(require, "vibeml.workflows")
    if not ok or type(wf) ~= "table" or type(wf.resolve) ~= "function" then return v end
    local okr, c, msg = pcall(wf.resolve, v)
    if okr and c then return c end
    if not strict or not okr then return v end
    local okn, all = pcall(wf.names)
    if not okn or type(all) ~= "table" then
      return nil, "'workflow' cannot be '" .. tostring(v) .. "': " .. tostring(msg)
    end
    return nil, string.format("'workflow' cannot be '%s' (allowed: %s, or null)%s", tostring(v),
      table.concat(all, ", "), names.suggestion_text(names.suggest(v, all)))
  elseif key == "region" then
    v = M.region_key(v)
    if not v:match(BY_KEY.region.pattern) or not strict then return v end
    local ok, catalog = pcall(require, "vibeml.catalog")
    if not ok or type(catalog) ~= "table" then return v end
    local okc, offers = pcall(catalog.offers)
    if not okc or type(offers) ~= "table" or #offers == 0 then return v end
    local seen, list = {}, {}
    for _, o in ipairs(offers) do
      if type(o.region) == "string" and not seen[o.region] and o.region:match("^[%w_.:%-]+$") then
        seen[o.region] = true
        list[#list + 1] = o.region
      end
    end
    table.sort(list)
    local c = names.match(v, list)
    if c then return c end
    local msg = names.unknown("region", v, list, { max_listed = 25 })
    return nil, "'region' cannot be '" .. tostring(v) .. "' (not a region in the price catalog; "
      .. "`vibeml gpus` lists offers by region; or null): " .. msg
  end
  return v
end

-- Region names are lower case in every catalog SkyPilot ships.
function M.region_key(v) return (tostring(v):lower():gsub("[%s_]+", "-")) end

-- Validates one value; returns the clean value (nil for null) or nil, message.
-- strict: a set (GPU, region and workflow names are checked against what VibeML knows).
function M.check(key, v, strict)
  if M.MONEY_KEYS[key] then
    return nil, string.format("'%s' is a money limit: money limits are set only from the "
      .. "command line, with `vibeml budget set --monthly USD --per-job USD`", key), true
  end
  local s = BY_KEY[key]
  if not s then
    local keys = {}
    for _, x in ipairs(M.SPEC) do keys[#keys + 1] = x.key end
    return nil, string.format("unknown preference '%s' (allowed: %s)%s", tostring(key),
      allowed_keys(), names.suggestion_text(names.suggest(key, keys)))
  end
  if v == nil or vibeml.isnull(v) then
    if key == "backend" then return "auto" end -- not chosen = automatic (jobs.default_backend)
    if s.nullable then return nil end
    return nil, string.format("'%s' cannot be null (allowed: %s)", key,
      s.allowed and table.concat(s.allowed, ", ") or s.type)
  end
  if type(v) ~= s.type then
    return nil, string.format("'%s' must be a %s%s, not %s", key, s.type,
      s.nullable and " or null" or "", type(v) == "userdata" and "null" or type(v))
  end
  if type(v) == "string" then
    local c, msg = canonical(key, v, strict)
    if not c then return nil, msg end
    v = c
  end
  if s.allowed and not in_list(v, s.allowed) then
    return nil, string.format("'%s' cannot be '%s' (allowed: %s%s)", key, tostring(v),
      table.concat(s.allowed, ", "), s.nullable and ", or null" or "")
  end
  if s.pattern and not tostring(v):match(s.pattern) then
    return nil, string.format("'%s' cannot be '%s' (expected %s, or null)", key, tostring(v),
      s.pattern_text)
  end
  if key == "storage" then
    local okb, err = require("vibeml.jobs.storage").parse(v)
    if not okb then return nil, err end
  end
  return v
end

local function defaults()
  local t = {}
  for _, s in ipairs(M.SPEC) do t[s.key] = s.default end
  return t
end

local DOC = "VibeML preferences. Edit by hand or with `vibeml config set KEY VALUE`; null = no "
  .. "preference. Keys: backend (auto|skypilot|local; auto = skypilot when set up, else local), " ..
    "cloud, region, gpu, spot (true|false), "
  .. "workflow, storage. Money limits are not here: `vibeml budget set --monthly USD --per-job " ..
    "USD`."

-- Renders the file with a stable key order (people edit it; diffs stay small).
local function render(values, comments)
  local enc = vibeml.json.encode
  local lines = {}
  local ck = {}
  for k in pairs(comments) do ck[#ck + 1] = k end
  table.sort(ck)
  for _, k in ipairs(ck) do lines[#lines + 1] = "  " .. enc(k) .. ": " .. enc(comments[k]) end
  for _, s in ipairs(M.SPEC) do
    local v = values[s.key]
    lines[#lines + 1] = "  " .. enc(s.key) .. ": " .. (v == nil and "null" or enc(v))
  end
  return "{\n" .. table.concat(lines, ",\n") .. "\n}\n"
end

local function write(values, comments)
  local path = M.path()
  local ok, msg = vibeml.fs.write(path, render(values, comments), { mode = 384, atomic = true })
  if not ok then return nil, "cannot write " .. path .. ": " .. tostring(msg) end
  return true
end

-- Reads and validates the file; creates it with the defaults when missing.
local function load()
  local path = M.path()
  if not vibeml.fs.exists(path) then
    local ok, msg = write(defaults(), { _doc = DOC })
    if not ok then return nil, msg end
  end
  local text, rerr = vibeml.fs.read(path)
  if not text then return nil, "cannot read " .. path .. ": " .. tostring(rerr) end
  local ok, doc = pcall(vibeml.json.decode, text)
  if not ok or type(doc) ~= "table" then
    return nil, string.format("%s is not valid JSON (%s); fix it, or delete it to get the "
      .. "defaults back", path, ok and "not an object" or tostring(doc.message or doc))
  end
  local values, comments, problems = defaults(), {}, {}
  for k, v in pairs(doc) do
    if type(k) == "string" and k:sub(1, 1) == "_" then
      comments[k] = v
    else
      local clean, msg = M.check(k, v)
      if msg then problems[#problems + 1] = msg else values[k] = clean end
    end
  end
  if #problems > 0 then
    table.sort(problems)
    return nil, path .. ": " .. table.concat(problems, "; ")
  end
  return values, comments
end

function M.get()
  local values, comments_or_err = load()
  if not values then return nil, comments_or_err end
  local out = {}
  for k, v in pairs(values) do out[k] = v end
  local ok, budget = pcall(require, "vibeml.budget")
  if ok then
    local okl, l = pcall(budget.limits)
    if okl and type(l) == "table" then
      out.per_job_cap = l.per_job
      out.monthly_budget = l.monthly
    end
  end
  return out
end

-- Sets the given keys (vibeml.null clears one). All or nothing: any bad key or value refuses
-- the whole change and leaves the file as it was.
function M.set(tbl)
  if type(tbl) ~= "table" then return nil, "prefs.set expects a table of preferences" end
  local values, comments = load()
  if not values then return nil, comments end
  local problems = {}
  for k, v in pairs(tbl) do
    local clean, msg = M.check(k, v, true)
    if msg then problems[#problems + 1] = msg else values[k] = clean end
  end
  if #problems > 0 then
    table.sort(problems)
    return nil, table.concat(problems, "; ")
  end
  local ok, msg = write(values, comments)
  if not ok then return nil, msg end
  return true
end

function M.keys()
  local out = {}
  for _, s in ipairs(M.SPEC) do
    out[#out + 1] = { key = s.key, type = s.type, default = s.default, allowed = s.allowed,
      nullable = s.nullable or false, description = s.description }
  end
  return out
end

return M

-- vibeml.workflows — workflows (plugins of kind "workflow") for the rest of VibeML.
--
--   local wf = require "vibeml.workflows"
--   wf.list()                      -> { descriptor, ... } sorted by name (data only, no functions)
--   wf.get(name)                   -> descriptor | nil, message (names the available ones)
--   wf.resolve(typed) -> installed name ("LoRA" -> lora, "qlora" -> unsloth) | nil, msg
--   wf.validate(name, params)      -> clean params (defaults filled) | nil, message
--   wf.build(name, p)              -> SkyPilot task table | nil, message
--   wf.select(req [, estimate])    -> name, reason
--   wf.encode_task(task)           -> JSON text for a *.yaml task file, files to ship
--   wf.check_task(task, p)         -> true | nil, message   (the invariants build() guarantees)
--
-- params / p (docs/plugins.md): { job_name=, model=, dataset=, dataset_format=,
-- hyperparameters={}, model_info={params_b=, gated=}, candidates={ {accelerator=, count=, cloud=,
-- region=, spot=, instance_type=} ... }, num_nodes=, checkpoint_bucket=, push_to_hub=, secrets= }
local plugins = require "vibeml.plugins"
local ids = require "vibeml.ids"

local M = {}

M.FORMATS = { "auto", "alpaca", "sharegpt", "messages", "text", "prompt_completion" }
M.PREFERENCES = { "cheapest", "balanced", "best_quality" }

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function names()
  local out = {}
  for _, p in ipairs(plugins.list("workflow")) do out[#out + 1] = p.name end
  return out
end

function M.names() return names() end

function M.list()
  local out = {}
  for _, info in ipairs(plugins.list("workflow")) do
    local p = plugins.get(info.name)
    if p then
      local d = p.descriptor
      d.source, d.path = p.source, p.path
      out[#out + 1] = d
    end
  end
  return out
end

-- Workflow names with their training method as an alias ("qlora" -> unsloth), for vibeml.names.
local function name_entries()
  local out, methods = {}, {}
  for _, info in ipairs(plugins.list("workflow")) do
    local p = plugins.get(info.name)
    local m = p and type(p.descriptor) == "table" and p.descriptor.method
    out[#out + 1] = { name = info.name, aliases = {} }
    if type(m) == "string" and not methods[m] then
      methods[m] = true
      out[#out].aliases = { m }
    end
  end
  return out
end

-- The installed workflow a typed name means (any case, a plural, or the training method:
-- "LoRA", "qlora"), or nil and a refusal naming the closest workflows.
function M.resolve(name)
  if type(name) ~= "string" then return nil, "workflow name must be a string" end
  local list = name_entries()
  local c = require("vibeml.names").match(name, list)
  if c then return c end
  return nil, (require("vibeml.names").unknown("workflow", name, list))
end

function M.get(name)
  if type(name) ~= "string" then return nil, "workflow name must be a string" end
  local p = plugins.get(name)
  if not p or p.kind ~= "workflow" then
    local c = M.resolve(name)
    local nm = require "vibeml.names"
    return nil, string.format("workflow '%s' not found; available: %s%s", name,
      table.concat(names(), ", "), nm.suggestion_text(c and { c } or nm.suggest(name, names())))
  end
  local d = p.descriptor
  d.source, d.path = p.source, p.path
  return d
end

-- {======================================================= validation

local TOP_KEYS = {
  job_name = true, model = true, dataset = true, dataset_format = true, hyperparameters = true,
  model_info = true, candidates = true, num_nodes = true, checkpoint_bucket = true,
  push_to_hub = true, secrets = true, hub_private = true,
}

local function isint(v)
  return math.type(v) == "integer"
    or (type(v) == "number" and v == math.floor(v) and v > -2^53 and v < 2^53)
end

-- Coerces a CLI string ("2e-5", "true") to the spec's type; returns value or nil, message.
local function coerce(name, spec, v)
  local t = spec.type
  if type(v) == "string" and (t == "integer" or t == "number") then
    local n = v:match("^%s*[-+]?[%d.]+[eE]?[-+]?%d*%s*$") and tonumber(v)
    if not n then
      return nil, string.format("hyperparameter '%s' must be %s %s, got %q", name,
        t == "integer" and "an" or "a", t, v)
    end
    v = n
  elseif type(v) == "string" and t == "boolean" then
    if v == "true" or v == "1" or v == "yes" then v = true
    elseif v == "false" or v == "0" or v == "no" then v = false end
  end
  if t == "integer" then
    if type(v) ~= "number" or not isint(v) then
      return nil, string.format("hyperparameter '%s' must be an integer, got %s", name, tostring(v))
    end
    v = math.tointeger(v)
  elseif t == "number" then
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      return nil, string.format("hyperparameter '%s' must be a number, got %s", name, tostring(v))
    end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then
      return nil,
        string.format("hyperparameter '%s' must be true or false, got %s", name, tostring(v))
    end
  elseif t == "string" then
    if type(v) ~= "string" then
      return nil, string.format("hyperparameter '%s' must be a string, got %s", name, type(v))
    end
  end
  if type(v) == "number" then
    if spec.min and v < spec.min then
      return nil, string.format("hyperparameter '%s' = %s is below the minimum %s (allowed %s..%s)",
        name, tostring(v), tostring(spec.min), tostring(spec.min), tostring(spec.max or "any"))
    end
    if spec.max and v > spec.max then
      return nil, string.format("hyperparameter '%s' = %s is above the maximum %s (allowed %s..%s)",
        name, tostring(v), tostring(spec.max), tostring(spec.min or "any"), tostring(spec.max))
    end
  end
  if spec.enum then
    local ok = false
    for _, e in ipairs(spec.enum) do if e == v then ok = true end end
    if not ok then
      local allowed = {}
      for _, e in ipairs(spec.enum) do allowed[#allowed + 1] = tostring(e) end
      return nil, string.format("hyperparameter '%s' = %s is not allowed; choose one of: %s", name,
        tostring(v), table.concat(allowed, ", "))
    end
  elseif type(v) == "string" then
    local ok, e = ids.check_value(v, "hyperparameter '" .. name .. "'")
    if not ok then return nil, e end
  end
  return v
end

local function check_candidate(i, c, gpu)
  local where = "candidates[" .. i .. "]"
  if type(c) ~= "table" then return nil, where .. " must be a table" end
  for k in pairs(c) do
    if not ({ accelerator = 1, count = 1, cloud = 1, region = 1, spot = 1, instance_type = 1,
              cpus = 1, rate_hr = 1, zone = 1 })[k] then
      return nil, string.format("%s: unknown field '%s' (allowed: accelerator, count, cloud, "
        .. "region, spot, instance_type, cpus)", where, tostring(k))
    end
  end
  for _, k in ipairs({ "accelerator", "cloud", "region", "instance_type" }) do
    if c[k] ~= nil then
      local ok, e = ids.check_token(c[k], where .. "." .. k)
      if not ok then return nil, e end
    end
  end
  if c.cpus ~= nil
    and not (type(c.cpus) == "number"
    or (type(c.cpus) == "string" and c.cpus:match("^%d+%+?$"))) then
    return nil, where .. ".cpus must be a number or a string like \"8+\""
  end
  if gpu.required then
    if not c.accelerator then return nil, where .. ": this workflow needs a GPU (accelerator=)" end
    local n = c.count or 1
    if not isint(n) or n < (gpu.min_count or 1) or n > (gpu.max_count or 8) then
      return nil, string.format("%s: count %s is outside what this workflow supports (%d..%d GPUs "
        .. "per node)", where, tostring(n), gpu.min_count or 1, gpu.max_count or 8)
    end
  end
  if c.spot ~= nil and type(c.spot) ~= "boolean" then
    return nil, where .. ".spot must be true or false"
  end
  return true
end

function M.validate(name, params)
  local d, e = M.get(name)
  if not d then return nil, e end
  if type(params) ~= "table" then return nil, "parameters must be a table" end
  for k in pairs(params) do
    if not TOP_KEYS[k] then
      return nil, string.format("unknown parameter '%s'; allowed: %s", tostring(k),
        table.concat(sorted_keys(TOP_KEYS), ", "))
    end
  end
  local out = {}
  local ok
  ok, e = ids.check_repo(params.model, "model id")
  if not ok then return nil, e end
  -- a CPU-only workflow (smoke) trains on its own text: a dataset id is only a label there
  if params.dataset ~= nil or not (d.vram or {}).cpu_only then
    ok, e = ids.check_repo(params.dataset, "dataset id")
    if not ok then return nil, e end
  end
  out.model, out.dataset = params.model, params.dataset
  if params.dataset_format ~= nil then
    local f = params.dataset_format
    local good = false
    for _, x in ipairs(M.FORMATS) do if x == f then good = true end end
    if not good then
      return nil, string.format("dataset_format %q is not known; allowed: %s", tostring(f),
        table.concat(M.FORMATS, ", "))
    end
    if f ~= "auto" then out.dataset_format = f end
  end
  out.job_name = params.job_name or ("vibeml-" .. name:gsub("_", "-"))
  ok, e = ids.check_job_name(out.job_name)
  if not ok then return nil, e end
  if params.checkpoint_bucket ~= nil then
    ok, e = ids.check_bucket(params.checkpoint_bucket)
    if not ok then return nil, e end
    out.checkpoint_bucket = params.checkpoint_bucket
  end
  if params.push_to_hub ~= nil and params.push_to_hub ~= false
    and not vibeml.isnull(params.push_to_hub) then
    ok, e = ids.check_repo(params.push_to_hub, "push_to_hub repository", { owner_required = true })
    if not ok then return nil, e end
    out.push_to_hub = params.push_to_hub
  end
  if params.hub_private ~= nil then
    if type(params.hub_private) ~= "boolean" then
      return nil, "hub_private must be true or false"
    end
    out.hub_private = params.hub_private
  end
  -- hyperparameters: known names only, typed, in range, defaults filled
  local specs = d.hyperparameters or {}
  local hp = params.hyperparameters or {}
  if type(hp) ~= "table" then return nil, "hyperparameters must be a table" end
  local clean = {}
  for k, v in pairs(hp) do
    local spec = specs[k]
    if not spec then
      return nil, string.format("unknown hyperparameter '%s' for workflow '%s'; allowed: %s",
        tostring(k), name, table.concat(sorted_keys(specs), ", "))
    end
    if not vibeml.isnull(v) then
      local val, err = coerce(k, spec, v)
      if val == nil then return nil, err end
      clean[k] = val
    end
  end
  for k, spec in pairs(specs) do
    if clean[k] == nil and spec.default ~= nil and not vibeml.isnull(spec.default) then
      clean[k] = spec.default
    end
  end
  out.hyperparameters = vibeml.object(clean)
  -- model information (from the planner's Hub lookup)
  local mi = params.model_info or {}
  if type(mi) ~= "table" then return nil, "model_info must be a table {params_b=, gated=}" end
  for k in pairs(mi) do
    if k ~= "params_b" and k ~= "gated" and k ~= "source" then
      return nil,
        string.format("model_info: unknown field '%s' (allowed: params_b, gated)", tostring(k))
    end
  end
  if mi.params_b ~= nil
    and (type(mi.params_b) ~= "number" or mi.params_b < 0 or mi.params_b > 10000) then
    return nil, "model_info.params_b must be a number of billions of parameters (0..10000)"
  end
  local sizes = d.model_sizes or {}
  if mi.params_b
    and (mi.params_b < (sizes.min_b or 0) or mi.params_b > (sizes.max_b or math.huge)) then
    return nil, string.format("a %gB model is outside what workflow '%s' supports (%g..%gB)",
      mi.params_b, name, sizes.min_b or 0, sizes.max_b or 0)
  end
  out.model_info = { params_b = mi.params_b, gated = mi.gated and true or false }
  -- resources
  local gpu = d.gpu or {}
  local nodes = params.num_nodes or 1
  if not isint(nodes) or nodes < 1 or nodes > 64 then
    return nil, "num_nodes must be an integer 1..64"
  end
  if nodes > 1 and not gpu.multi_node then
    return nil,
      string.format("workflow '%s' runs on one node; num_nodes = %d is not supported", name, nodes)
  end
  out.num_nodes = math.tointeger(nodes)
  local cands = params.candidates or {}
  if type(cands) ~= "table" then return nil, "candidates must be a list" end
  out.candidates = vibeml.array({})
  for i, c in ipairs(cands) do
    ok, e = check_candidate(i, c, gpu)
    if not ok then return nil, e end
    local cc = {}
    for k, v in pairs(c) do cc[k] = v end
    if cc.count then cc.count = math.tointeger(cc.count) end
    out.candidates[i] = cc
  end
  if params.secrets ~= nil then
    if type(params.secrets) ~= "table" then return nil, "secrets must be a list of names" end
    out.secrets = vibeml.array({})
    for i, n in ipairs(params.secrets) do
      if type(n) ~= "string" or not n:match("^[A-Z_][A-Z0-9_]*$") or #n > 64 then
        return nil,
          string.format("secrets[%d] must be an environment variable name (A-Z, 0-9, _)", i)
      end
      out.secrets[i] = n
    end
  end
  return out
end

-- }=======================================================

-- {======================================================= building and checking tasks

local function collect_user_strings(p)
  local out = {}
  local function add(s) if type(s) == "string" and #s >= 3 then out[#out + 1] = s end end
  add(p.model); add(p.dataset); add(p.push_to_hub); add(p.job_name); add(p.checkpoint_bucket)
  for _, v in pairs(p.hyperparameters or {}) do
    if type(v) == "string" and #v >= 6 then add(v) end
  end
  return out
end

-- The invariants every generated task keeps: user values travel only as data,
-- inside envs.VIBEML_PARAMS (docs/plugins.md). Their only home: the plugin loader runs this on a
-- workflow's trial build (vibeml.plugin_kinds), wf.build on every task.
function M.check_task(task, p)
  if type(task) ~= "table" then return nil, "the workflow returned no task" end
  for _, k in ipairs({ "setup", "run" }) do
    if task[k] ~= nil and type(task[k]) ~= "string" then return nil, k .. " must be a string" end
  end
  if task.run == nil or task.run == "" then return nil, "the task needs a 'run' command" end
  if type(task.resources) ~= "table" then return nil, "the task needs a 'resources' table" end
  local envs = task.envs
  if type(envs) ~= "table" or type(envs.VIBEML_PARAMS) ~= "string" then
    return nil, "envs.VIBEML_PARAMS (the job's parameters as one JSON string) is missing"
  end
  for k, v in pairs(envs) do
    if type(k) ~= "string" or not k:match("^[A-Za-z_][A-Za-z0-9_]*$") then
      return nil, "env name " .. tostring(k) .. " is not valid"
    end
    if type(v) ~= "string" then return nil, "envs." .. k .. " must be a string" end
  end
  local doc = vibeml.json.decode(envs.VIBEML_PARAMS)
  if type(doc) ~= "table" then return nil, "envs.VIBEML_PARAMS is not a JSON object" end
  for k, v in pairs(task.secrets or {}) do
    if not vibeml.isnull(v) then
      return nil, "secrets." .. tostring(k) .. " carries a value; tasks list secret names only"
    end
  end
  -- nothing from this machine travels except the files VibeML ships: no local paths in
  -- file_mounts (they would be uploaded), no workdir (the backend sets it)
  if task.workdir ~= nil then
    return nil, "a workflow must not set workdir (the backend gives the job its own folder)"
  end
  for dst, src in pairs(task.file_mounts or {}) do
    local url = type(src) == "string" and src or (type(src) == "table" and src.source) or nil
    if type(src) == "table" and src.source == nil and type(src.name) ~= "string" then
      return nil, "file_mounts." .. tostring(dst) .. " needs a bucket name or a bucket URL"
    end
    if url ~= nil and (type(url) ~= "string" or not url:match("^[a-z][a-z0-9]*://")) then
      return nil, string.format("file_mounts.%s = %s: only buckets (s3://, gs://, ...) may be "
        .. "mounted, never a path on this machine", tostring(dst), tostring(url))
    end
  end
  for i, f in ipairs((task.vibeml or {}).files or {}) do
    local path = type(f) == "table" and f.path
    if type(path) ~= "string" or path:sub(1, 1) == "/" or path:find("..", 1, true)
      or not path:match("^[A-Za-z0-9_./%-]+$") then
      return nil, string.format("vibeml.files[%d].path %s must be a relative path inside the job "
        .. "folder", i, tostring(path))
    end
    if f.embedded ~= nil and (type(f.embedded) ~= "string"
      or not (f.embedded:match("^workflows/") or f.embedded:match("^plugins/"))) then
      return nil, string.format("vibeml.files[%d].embedded must name a shipped workflows/ or "
        .. "plugins/ file", i)
    end
  end
  if p then
    -- user-supplied text must never reach a command line: only the JSON document carries it
    for _, s in ipairs(collect_user_strings(p)) do
      for _, k in ipairs({ "setup", "run" }) do
        if task[k] and task[k]:find(s, 1, true) then
          return nil, string.format("the task's %s contains the user-supplied value %q; "
            .. "parameters must travel only in VIBEML_PARAMS", k, s)
        end
      end
      for name, v in pairs(envs) do
        if name ~= "VIBEML_PARAMS" and v:find(s, 1, true) then
          return nil, string.format("envs.%s contains the user-supplied value %q", name, s)
        end
      end
    end
  end
  return true
end

function M.build(name, p)
  local clean, e = M.validate(name, p)
  if not clean then return nil, e end
  local task, msg = plugins.call(name, "build", clean)
  if task == nil then
    return nil, string.format("workflow '%s' cannot build this job: %s", name, tostring(msg))
  end
  local ok, why = M.check_task(task, clean)
  if not ok then return nil, string.format("workflow '%s' built an unsafe task: %s", name, why) end
  return task
end

-- Rewrites numbers with an exponent (outside strings) as plain decimals: YAML 1.1 reads "1e-5"
-- as a string (the task file is JSON read as YAML).
local function plain_numbers(text)
  local out, i, n = {}, 1, #text
  local start = 1
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' then
      i = i + 1
      while i <= n do
        local d = text:sub(i, i)
        if d == "\\" then i = i + 2
        elseif d == '"' then break
        else i = i + 1 end
      end
      i = i + 1
    elseif c:match("[-0-9]") then
      local s, e = text:find("^-?%d+%.?%d*[eE][-+]?%d+", i)
      if s then
        local x = tonumber(text:sub(s, e))
        local dec = string.format("%.20f", x):gsub("0+$", "")
        if dec:sub(-1) == "." then dec = dec .. "0" end
        out[#out + 1] = text:sub(start, s - 1)
        out[#out + 1] = dec
        start = e + 1
        i = e + 1
      else
        local _, e2 = text:find("^-?[%d.]+", i)
        i = (e2 or i) + 1
      end
    else
      i = i + 1
    end
  end
  out[#out + 1] = text:sub(start)
  return table.concat(out)
end
M._plain_numbers = plain_numbers

-- The task file's text (JSON, which SkyPilot reads as YAML: name the file *.yaml) and the files
-- the job needs beside it ({path=, embedded=}). The `vibeml` section is VibeML's, not SkyPilot's.
function M.encode_task(task)
  local copy = {}
  for k, v in pairs(task) do
    if k ~= "vibeml" then copy[k] = v end
  end
  local text = vibeml.json.encode(copy, { indent = 2, sort_keys = true })
  text = plain_numbers(text)
  return text .. "\n", (task.vibeml or {}).files or {}
end

-- Writes the files a task ships (task.vibeml.files: {path=, embedded=|text=}) into dir, the
-- folder that becomes the job's working directory: the local supervisor runs there, and for
-- SkyPilot it is the task's `workdir`, uploaded to ~/sky_workdir on every node. Everything a
-- workflow's commands name must be in this list: nothing else from this machine reaches a VM.
-- Returns the list of relative paths written; errors (a missing embedded file) are raised.
function M.write_files(task, dir)
  local written = {}
  for _, f in ipairs(((task.vibeml or {}).files) or {}) do
    local text = f.text
    if not text and f.embedded then
      local emb = vibeml.embedded
      text = emb and emb.read and emb.read(f.embedded)
      if not text and os.getenv("VML_SOURCE_DIR") then
        text = vibeml.fs.read(os.getenv("VML_SOURCE_DIR") .. "/" .. f.embedded)
      end
    end
    if not text then
      error("the job needs file " .. tostring(f.embedded or f.path) .. " and it is not available")
    end
    if f.path:find("..", 1, true) or f.path:sub(1, 1) == "/" then
      error("bad file path in task: " .. f.path)
    end
    local sub = f.path:match("^(.*)/[^/]+$")
    if sub then vibeml.fs.mkdirs(dir .. "/" .. sub) end
    assert(vibeml.fs.write(dir .. "/" .. f.path, text, { mode = 0x1ed }))
    written[#written + 1] = f.path
  end
  return written
end

-- }=======================================================

-- {======================================================= selection

local function has(name)
  local p = plugins.get(name)
  return p and p.kind == "workflow"
end

local function fits(name, size)
  local d = M.get(name)
  if not d or not size then return d ~= nil end
  local s = d.model_sizes or {}
  return size >= (s.min_b or 0) and size <= (s.max_b or math.huge)
end

-- Chooses a workflow for req = { params_b=, budget=|max_cost=, preference="cheapest"|"balanced"|
-- "best_quality", deadline_h=, gpu=false (no GPU wanted) }. estimate (optional, from the planner)
-- is function(name) -> {cost=, duration_h=} | nil; with it the choice respects budget and deadline
-- with real numbers. Returns name, reason.
function M.select(req, estimate)
  req = req or {}
  local size = req.params_b
  local pref = req.preference or "balanced"
  local budget = req.budget or req.max_cost
  local deadline = req.deadline_h
  if req.gpu == false or req.cpu_only then
    return "smoke", "no GPU was wanted: the smoke workflow checks the whole pipeline on CPU"
  end
  local order
  if pref == "cheapest" then
    order = { "unsloth", "lora", "full" }
  elseif pref == "best_quality" then
    order = { "full", "lora", "unsloth" }
  else
    -- balanced: bf16 LoRA while the model fits one large GPU in 16 bits, else QLoRA
    if size and size > 14 then order = { "unsloth", "lora", "full" }
    else order = { "lora", "unsloth", "full" } end
  end
  local why_not = {}
  for _, name in ipairs(order) do
    if not has(name) then
      why_not[#why_not + 1] = name .. " is not installed"
    elseif not fits(name, size) then
      local d = M.get(name)
      why_not[#why_not + 1] = string.format("%s supports %g-%gB models", name, d.model_sizes.min_b,
        d.model_sizes.max_b)
    else
      local est = estimate and estimate(name)
      local ok = true
      if estimate and not est then
        -- the planner found no offer on which this workflow fits the request
        ok = false
        why_not[#why_not + 1] = name .. " has no GPU offer that fits"
      elseif est then
        if budget and est.cost and est.cost > budget then
          ok = false
          why_not[#why_not + 1] = string.format("%s would cost about $%.2f, over the $%.2f budget",
            name, est.cost, budget)
        elseif deadline and est.duration_h and est.duration_h > deadline then
          ok = false
          why_not[#why_not + 1] =
            string.format("%s would take about %.1f h, past the %.1f h deadline",
            name, est.duration_h, deadline)
        end
      elseif name == "full" and size and budget then
        -- without estimates: a full fine-tune needs ~16 bytes per parameter across GPUs; keep it
        -- for budgets that can pay for several large GPUs
        local need = size * 16 * 1.2
        if need > 80 and budget < 50 then
          ok = false
          why_not[#why_not + 1] = string.format("full fine-tune of a %gB model needs ~%d GB of GPU "
            .. "memory (several GPUs), too much for a $%.2f budget", size, math.ceil(need), budget)
        end
      end
      if ok then
        local because = ({
          cheapest = "the cheapest method: 4-bit QLoRA needs the least GPU memory, so the smallest "
            .. "and cheapest GPUs fit",
          best_quality = "best quality: it trains the most weights that fit the limits",
          balanced = (size and size > 14)
            and "balanced: the model is large, so 4-bit QLoRA keeps it on one GPU at a fraction " ..
              "of the cost"
            or "balanced: bf16 LoRA gives better quality than 4-bit QLoRA and this model still " ..
              "fits one GPU",
        })[pref] or "it fits the request"
        if order[1] ~= name then
          because = because .. " (first choice not possible: " .. table.concat(why_not, "; ") .. ")"
        end
        if est and est.cost then
          because = because .. string.format("; estimated $%.2f", est.cost)
          if est.duration_h then because = because .. string.format(", %.1f h", est.duration_h) end
        end
        return name, because
      end
    end
  end
  return nil, "no workflow fits: " .. table.concat(why_not, "; ")
end

-- }=======================================================

return M

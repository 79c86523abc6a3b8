-- vibeml.plan.workflows — the planner's view of the live workflow registry (vibeml.workflows:
-- shipped workflows and the user's plugins). The planner keeps no descriptors of its own: a
-- change in a workflow plugin (its sizes, hardware, constants) is what the next plan sees.
--
--   pw.get(name)                 -> descriptor | nil, message
--   pw.gpu_training()            -> { name, ... }: workflows that train on GPUs (method qlora,
--                                   lora or full), cheapest method first, then by name
--   pw.method(wf)                -> "qlora" | "lora" | "full" | nil (not a GPU training method)
--   pw.on_cpu(wf)                -> true when the workflow needs no GPU (planned from its typical
--                                   ranges, vibeml.planner.plan_cpu)
--   pw.covers(wf, params_b)      -> true when its model_sizes cover the size
--   pw.for_size(params_b)        -> names of the GPU training workflows that cover the size
--   pw.runs_on(wf, spec)         -> true | false, why (vendor, compute capability)
--   pw.resolve(typed)            -> installed name | nil, message (the one name rule)
--   pw.validate(name, hp, req)   -> clean hyperparameters | nil, message
--   pw.choose(req, params_b, estimate) -> name, reason | nil, reason
--   pw.build(name, p)            -> SkyPilot task | nil, message (never raises)
local workflows = require "vibeml.workflows"
local plugins = require "vibeml.plugins"

local M = {}

local METHOD_ORDER = { qlora = 1, lora = 2, full = 3 }

-- A descriptor is copied out of the registry (~0.1 ms) and a plan asks a dozen times: kept per
-- name with the plugin's content hash and load time, so an edited or overriding plugin is seen
-- by the next call.
local cache = {}

function M.get(name)
  if type(name) ~= "string" or name == "" then return nil, "no workflow name" end
  for _, info in ipairs(plugins.list("workflow")) do
    if info.name == name then
      local c = cache[name]
      if c and c.hash == info.hash and c.loaded_at == info.loaded_at then return c.d end
      local d, err = workflows.get(name)
      if d then cache[name] = { hash = info.hash, loaded_at = info.loaded_at, d = d } end
      return d, err
    end
  end
  return workflows.get(name) -- not installed: the registry's message names the available ones
end

function M.method(wf)
  local m = type(wf) == "table" and wf.method or nil
  if METHOD_ORDER[m] then return m end
  return nil
end

function M.on_cpu(wf)
  return type(wf) == "table" and type(wf.gpu) == "table" and wf.gpu.required == false
end

function M.covers(wf, params_b)
  local s = type(wf) == "table" and wf.model_sizes or {}
  return params_b >= (s.min_b or 0) and params_b <= (s.max_b or math.huge)
end

function M.gpu_training()
  local list = {}
  for _, info in ipairs(plugins.list("workflow")) do
    local d = M.get(info.name)
    if d and M.method(d) and not M.on_cpu(d) then list[#list + 1] = d end
  end
  table.sort(list, function(a, b)
    if a.method ~= b.method then return METHOD_ORDER[a.method] < METHOD_ORDER[b.method] end
    return a.name < b.name
  end)
  local out = {}
  for i, d in ipairs(list) do out[i] = d.name end
  return out
end

function M.for_size(params_b)
  local out = {}
  for _, name in ipairs(M.gpu_training()) do
    if M.covers(M.get(name), params_b) then out[#out + 1] = name end
  end
  return out
end

-- Whether a workflow can run on a GPU: its descriptor's gpu.vendor ("nvidia"; a ROCm build would
-- be a workflow of its own) and gpu.min_compute_capability / max_compute_capability (CUDA; bf16
-- needs 8.0) against the GPU's facts (vibeml.gpu_specs). A GPU without those facts is refused
-- when the workflow asks for them: nobody has checked that it works.
function M.runs_on(wf, spec)
  local g = (wf or {}).gpu or {}
  if not spec then return false, "unknown GPU" end
  if g.vendor and spec.vendor ~= g.vendor then
    return false, string.format("%s is %s; workflow '%s' installs %s wheels", spec.name,
      spec.vendor and spec.vendor:upper() or "of an unknown vendor", tostring(wf.name),
      g.vendor == "nvidia" and "CUDA" or tostring(g.vendor))
  end
  local lo, hi = tonumber(g.min_compute_capability), tonumber(g.max_compute_capability)
  if (lo or hi) and not spec.cc then
    return false, string.format("%s has no known compute capability", spec.name)
  end
  if lo and spec.cc < lo - 1e-9 then
    return false, string.format("%s has compute capability %.1f; workflow '%s' needs %.1f or "
      .. "newer%s", spec.name, spec.cc, tostring(wf.name), lo, lo >= 8 and " (bf16)" or "")
  end
  if hi and spec.cc > hi + 1e-9 then
    return false, string.format("%s has compute capability %.1f; the pinned PyTorch of "
      .. "workflow '%s' is built up to %.1f", spec.name, spec.cc, tostring(wf.name), hi)
  end
  return true
end

-- Any case, a plural, or a method name where a workflow is expected ("LoRA", "qlora"): the one
-- name rule of the registry (workflows.resolve), refused with the closest workflows.
function M.resolve(typed)
  return workflows.resolve(typed)
end

function M.validate(name, hp, req)
  local h = {}
  for k, v in pairs(hp or {}) do h[k] = v end
  -- the request's epochs/max_steps are workflow hyperparameters too
  if req.epochs ~= nil and h.epochs == nil then h.epochs = req.epochs end
  if req.max_steps ~= nil and h.max_steps == nil then h.max_steps = req.max_steps end
  -- planning may go without a dataset: a stand-in id lets the hyperparameters be checked
  local ok, clean, err = pcall(workflows.validate, name, { model = req.model,
    dataset = req.dataset or "planning/no-dataset", hyperparameters = h })
  if ok and clean then return clean.hyperparameters or {} end
  if ok then return nil, err end
  return nil, tostring(type(clean) == "table" and clean.message or clean)
end

-- The workflow for a request that names none: the registry chooses (workflows.select) with the
-- planner's real numbers (estimate(name) -> {cost=, duration_h=} | nil); when it cannot, the
-- cheapest GPU training method that covers the size.
function M.choose(req, params_b, estimate)
  local ok, pick, why = pcall(workflows.select, {
    model = req.model, params_b = params_b, max_cost = req.max_cost,
    deadline_h = req.deadline_h, preference = req.preference }, estimate)
  if ok and type(pick) == "string" and not M.on_cpu(M.get(pick)) then
    return pick, type(why) == "string" and why or "selected by the workflow registry"
  end
  local name = M.for_size(params_b)[1]   -- the first that covers the size
  if name then
    local wf = M.get(name)
    return name, string.format("%s: the lowest cost for a %g B model", wf.title or name, params_b)
  end
  return nil, ok and type(why) == "string" and why or "no installed workflow covers this size"
end

function M.build(name, p)
  local ok, task, err = pcall(workflows.build, name, p)
  if not ok then return nil, tostring(type(task) == "table" and task.message or task) end
  if not task then return nil, err end
  return task
end

return M

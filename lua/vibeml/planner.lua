-- vibeml.planner — picks the workflow and the GPU offer with the lowest TOTAL job cost (not the
-- lowest $/hour) and says what the job will cost and take before a cent is spent. The one public
-- entry of the planner; its parts live in lua/vibeml/plan/: request (preferences, constraints),
-- facts (model and dataset), workflows (the live registry's view), solve (the solver), suggest
-- (what would work when nothing fits), present (options, estimate, task preview) and measured
-- (throughput of finished jobs).
--
--   planner.plan(req) -> plan | nil, message, code, info
--   planner.estimate(req) -> {gpu=, count=, hours=, rows={...}} | nil, message, code
--   planner.solve(ctx, cons [, only_best]) -> ranked candidates, rejected   (vibeml.plan.solve)
--   planner.workflow(name) -> descriptor | nil          (the live registry, vibeml.workflows)
--   planner.runs_on(wf, gpu_spec) -> true | false, why
--   planner.workflows_for_size(params_b) -> { name, ... }
-- req: model (HF id, required), dataset (HF id), workflow, gpu, gpus (total count), cloud, region,
--      spot (true = spot only, false = on-demand only, nil = both), max_cost (USD), deadline_h,
--      epochs, max_steps, hyperparameters (workflow parameters), limit (options shown, 8),
--      offline (skip Hugging Face), params_b / model_info / dataset_info (skip the lookups),
--      job_name, checkpoint_bucket, push_to_hub, no_task (skip the task preview),
--      ignore_preferences, measured (false: the throughput model only, no finished runs).
-- plan: { request=, model_info=, dataset_info=, workflow=, workflow_reason=, method=, tokens=,
--         vram=, best = option, options = {option...}, alternatives = {per workflow},
--         estimate = what a launched job keeps (below), warnings = {}, assumptions = {},
--         catalog = {sources}, task = SkyPilot task | nil, task_note=, candidates= }
-- option: { gpu=, count=, gpus_per_node=, nodes=, accelerators="H100:8", cloud=, region=,
--           regions={...}, instance_type=, spot=, rate_hr= (all nodes), rate_per_gpu_hr=,
--           duration_h={min=,expected=,max=}, cost={min=,expected=,max=}, tokens_per_s=,
--           setup_s=, vram={need_gb=, with_margin_gb=, usable_gb=}, reasons={...} }
-- estimate (stored with the job, jobs row `estimate`): duration_h, cost (as best), setup_s /
--           setup_s_max (seconds from billing to the first training step, expected / pessimistic),
--           tokens_per_s, model_tokens_per_s, throughput_source ("model" | "measured" |
--           "typical"), step_s, steps, tokens_per_step, workflow, method, params_b, gpu, count,
--           nodes.
-- When nothing fits the constraints: nil, a message that says what would work (a bigger GPU,
-- fewer steps, QLoRA instead of full...) with its cost, "VML_ELIMIT", {suggestions = {...}}.
local E = vibeml.E
local sizing = require "vibeml.sizing"
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local names = require "vibeml.names"
local request = require "vibeml.plan.request"
local facts = require "vibeml.plan.facts"
local pw = require "vibeml.plan.workflows"
local solve = require "vibeml.plan.solve"
local suggest = require "vibeml.plan.suggest"
local present = require "vibeml.plan.present"

local M = {}

M.DEFAULT_LIMIT = 8

M.solve = solve.solve
M.runs_on = pw.runs_on
M.workflows_for_size = pw.for_size
function M.workflow(name) return (pw.get(name)) end

local round = present.round

local function model_info(mi, req)
  return { id = mi.id or req.model, params_b = mi.params_b, params_source = mi.params_source,
           gated = facts.gated(mi), private = mi.private, quantized = mi.quantized,
           access = mi.access, cached = mi.cached }
end

-- Workflows that need no GPU (smoke: a tiny CPU run that checks the whole pipeline): no GPU
-- offers to rank; duration and cost come from the descriptor's typical ranges.
local function plan_cpu(req, wfname, wf, warnings, assumptions)
  local mi, di
  local labels_only = (wf.vram or {}).cpu_only == true
  if labels_only then
    -- it trains its own tiny model on its own text: the model and the dataset are labels, so no
    -- size and no Hub lookup is needed (and none is made)
    local size = tonumber(req.params_b) or sizing.params_from_name(req.model) or 0
    mi = { id = req.model, params_b = size, params_source = "label", gated = false }
    local hp = req.hyperparameters or {}
    local what = hp.dataset_file and ("the local file " .. tostring(hp.dataset_file))
      or "its built-in text"
    assumptions[#assumptions + 1] = string.format("workflow '%s' trains a tiny character model "
      .. "on %s; the model%s name%s only a label", wfname, what,
      req.dataset and " and dataset" or "", req.dataset and "s are" or " is")
    di = { rows = 0, mean_tokens = 0, source = hp.dataset_file and "file" or "builtin" }
  else
    local err, code
    mi, err, code = facts.model(req, warnings, assumptions)
    if not mi then return nil, err, code end
    di, err, code = facts.dataset(req, warnings, assumptions)
    if not di then return nil, err, code end
  end
  local hp, err = pw.validate(wfname, req.hyperparameters or req.params, req)
  if not hp then return nil, err, E.EINVAL end
  local t = wf.typical or {}
  local dh = t.duration_h or { 0.05, 0.2 }
  local cu = t.cost_usd or { 0, 0 }
  local cloud = req.cloud or "local"
  local best = {
    gpu = nil, count = 0, gpus_per_node = 0, nodes = 1, cloud = cloud,
    -- on a cloud the run still rents a small CPU VM (typical.cpu_rate_hr); local runs cost nothing
    region = req.region or "", regions = vibeml.array(), spot = false, rate_hr = t.cpu_rate_hr or 0,
    rate_per_gpu_hr = 0, duration_h = { min = dh[1], expected = (dh[1] + dh[2]) / 2, max = dh[2] },
    cost = { min = cu[1], expected = (cu[1] + cu[2]) / 2, max = cu[2] },
    vram = { need_gb = 0, with_margin_gb = 0, usable_gb = 0 },
    reasons = vibeml.array { string.format("workflow '%s' runs on CPU: no GPU to rent; on the "
      .. "local backend it costs nothing, on a cloud VM its small hourly rate", wfname) },
  }
  -- set-up: the workflow's install and warm-up (no model to download), plus a VM on a cloud
  local st = sizing.setup(nil, 0, { throughput = wf.throughput, provision = cloud ~= "local" })
  best.setup_s = math.floor(st.expected + 0.5)
  assumptions[#assumptions + 1] = string.format("duration and cost from workflow '%s''s typical "
    .. "ranges", wfname)
  local plan = {
    request = req, workflow = wfname, workflow_reason = "requested", method = wf.method or "other",
    model_info = { id = mi.id or req.model, params_b = mi.params_b,
                   params_source = mi.params_source, gated = facts.gated(mi) },
    dataset_info = di, hyperparameters = hp, tokens = 0, vram = best.vram, best = best,
    options = vibeml.array { best }, feasible_offers = 0, alternatives = vibeml.array(),
    estimate = { duration_h = best.duration_h, cost = best.cost, setup_s = best.setup_s,
                 setup_s_max = math.floor(st.max + 0.5), throughput_source = "typical",
                 workflow = wfname, method = wf.method or "other", count = 0, nodes = 1 },
    warnings = vibeml.array(warnings), assumptions = vibeml.array(assumptions),
    catalog = catalog.info().sources,
  }
  if not req.no_task then
    if req.dataset or labels_only then
      local task, terr = pw.build(wfname, {
        job_name = req.job_name, model = req.model, dataset = req.dataset,
        dataset_format = di.format, hyperparameters = hp,
        model_info = { params_b = mi.params_b, gated = mi.gated and true or false },
        candidates = {}, num_nodes = 1, push_to_hub = req.push_to_hub,
        hub_private = req.hub_private })
      if task then plan.task = task else plan.task_note = "no task preview: " .. tostring(terr) end
    else
      plan.task_note = "no task preview: give a dataset to see the task that would be launched"
    end
  end
  return plan
end

-- The cheapest plan of every other GPU workflow, for comparison (`cheapest_of` is the plan's memo).
local function alternatives(req, wfname, ctx, best, mi, di, cheapest_of, memo)
  local out = {}
  for _, name in ipairs(pw.gpu_training()) do
    if name == wfname then
      out[#out + 1] = { workflow = name, method = ctx.method, chosen = true,
        cost = best.cost, gpu = best.gpu, count = best.count, duration_h = best.duration_h }
    else
      local wf = pw.get(name)
      local actx = pw.covers(wf, mi.params_b) and solve.context(req, name, mi, di, memo) or nil
      local c = actx and cheapest_of(name, actx)
      if c then
        local p = present.option(c)
        out[#out + 1] = { workflow = name, method = actx.method, cost = p.cost,
          gpu = p.gpu, count = p.count, duration_h = p.duration_h }
      elseif actx or not pw.covers(wf, mi.params_b) then
        -- out of the workflow's size range, or no offer fits it
        out[#out + 1] = { workflow = name, method = pw.method(wf), feasible = false }
      end
    end
  end
  return out
end

local function plan(req)
  if type(req) ~= "table" then return nil, "plan needs a request table", E.EINVAL end
  if type(req.model) ~= "string" or req.model == "" then
    return nil, "model is required (a Hugging Face id such as meta-llama/Llama-3.1-8B)",
      E.EINVAL
  end
  local warnings, assumptions = {}, {}
  req = request.with_preferences(req, assumptions)
  local cons, cerr = request.constraints(req)
  if not cons then return nil, cerr, E.EINVAL end

  -- the workflow the request names, by the registry's one name rule ("LoRA", "qlora", plurals)
  local wfname, why = req.workflow, "requested"
  if wfname == "" then wfname = nil end
  if wfname and not pw.get(wfname) then
    local c, rmsg = pw.resolve(wfname)
    if not c then return nil, rmsg, E.EINVAL end
    if names.key(c) ~= names.key(wfname) then why = "the workflow for " .. wfname end
    wfname = c
  end
  -- the one place a workflow that needs no GPU turns away from the solver
  local wfd = wfname and pw.get(wfname)
  if wfd and pw.on_cpu(wfd) then return plan_cpu(req, wfname, wfd, warnings, assumptions) end

  local mi, merr, mcode = facts.model(req, warnings, assumptions)
  if not mi then return nil, merr, mcode end
  if mi.gated == nil then
    assumptions[#assumptions + 1] = string.format("whether '%s' is gated is unknown (Hugging "
      .. "Face %s): if it is, the job needs HF_TOKEN (`vibeml secrets set HF_TOKEN`)", req.model,
      req.offline and "not consulted offline" or "did not say")
  end
  local di, derr, dcode = facts.dataset(req, warnings, assumptions)
  if not di then return nil, derr, dcode end

  -- the cheapest option per workflow, computed once per plan (selection and alternatives), and
  -- the finished runs' throughput per workflow
  local cheap_memo, memo = {}, {}
  local function cheapest_of(name, c)
    if cheap_memo[name] == nil then cheap_memo[name] = solve.cheapest(c, cons) or false end
    return cheap_memo[name] or nil
  end
  if not wfname then
    -- the registry chooses with real numbers: the cheapest option of each workflow
    local function estimate(name)
      local ectx = solve.context(req, name, mi, di, memo)
      local c = ectx and cheapest_of(name, ectx)
      if not c then return nil end
      return { cost = c.cost.expected, duration_h = c.ev.duration.expected }
    end
    wfname, why = pw.choose(req, mi.params_b, estimate)
    if not wfname then
      return nil, string.format("no installed workflow can plan %s (%.1f B parameters): %s",
        req.model, mi.params_b, tostring(why)), E.EINVAL,
        { workflows = vibeml.array(pw.for_size(mi.params_b)) }
    end
  end
  local ctx, xerr = solve.context(req, wfname, mi, di, memo)
  if not ctx then
    return nil, string.format("%s. Available workflows: %s", xerr,
      table.concat(pw.gpu_training(), ", ")), E.EINVAL
  end
  if not pw.covers(ctx.wf, mi.params_b) then
    -- the workflow's scripts, memory model and tests cover this range only
    local sz, fit = ctx.wf.model_sizes or {}, pw.for_size(mi.params_b)
    return nil, string.format("workflow '%s' trains models of %g-%g B parameters; %s has %.1f B. "
      .. "%s", wfname, sz.min_b or 0, sz.max_b or 0, req.model, mi.params_b,
      #fit > 0 and ("Use workflow " .. table.concat(fit, " or ") .. ".")
        or "No installed workflow covers this size."), E.EINVAL,
      { workflows = vibeml.array(fit) }
  end
  local ranked, rejected = solve.solve(ctx, cons)
  if #ranked == 0 then
    local sugg = suggest.all(req, ctx, cons, mi, di)
    for _, sg in ipairs(sugg) do
      if sg.option then vibeml.array(sg.option.reasons); vibeml.array(sg.option.regions) end
    end
    return nil, present.no_fit(wfname, req, mi, ctx, cons, rejected, sugg), E.ELIMIT,
      { suggestions = vibeml.array(sugg), rejected = rejected }
  end
  local options = present.options(ranked, tonumber(req.limit) or M.DEFAULT_LIMIT)
  local best, top = options[1], ranked[1]
  if best.spot then
    warnings[#warnings + 1] = "the cheapest option is spot capacity: it can be preempted; the job "
      .. "checkpoints and SkyPilot resumes it, and the estimate includes the expected recovery cost"
  end
  if cons.max_cost and best.cost.max > cons.max_cost then
    warnings[#warnings + 1] = string.format("the expected cost %s is within max_cost %s, but the "
      .. "pessimistic estimate %s is not", present.money(best.cost.expected),
      present.money(cons.max_cost), present.money(best.cost.max))
  end
  present.budget_warnings(best, warnings)
  if best.nodes > 1 then
    warnings[#warnings + 1] = string.format("the model needs %d GPUs on %d nodes (multi-node "
      .. "training)", best.count, best.nodes)
  end
  assumptions[#assumptions + 1] = "training tokens: " .. solve.tokens_text(ctx, best.count)
  assumptions[#assumptions + 1] = present.measured_note(top, wfname, mi.params_b)
  local alts = alternatives(req, wfname, ctx, best, mi, di, cheapest_of, memo)
  for _, o in ipairs(options) do vibeml.array(o.reasons); vibeml.array(o.regions) end
  local p = {
    request = req,
    model_info = model_info(mi, req),
    dataset_info = di,
    workflow = wfname,
    workflow_reason = why,
    method = ctx.method,
    hyperparameters = ctx.hp,
    tokens = math.floor(top.ev.tokens),
    vram = best.vram,
    best = best,
    options = vibeml.array(options),
    feasible_offers = rejected.feasible,
    alternatives = vibeml.array(alts),
    estimate = present.estimate(top, ctx, wfname),
    warnings = vibeml.array(warnings),
    assumptions = vibeml.array(assumptions),
    catalog = catalog.info().sources,
  }
  if not req.no_task then
    local task, terr, cands = present.task(req, wfname, mi, di, ctx, ranked, best)
    p.task = task
    p.candidates = cands and vibeml.array(cands) or nil
    if not task then p.task_note = "no task preview: " .. tostring(terr) end
  end
  return p
end

-- A failure a saved preference caused says which preference and how to clear it.
function M.plan(req)
  local p, err, code, info = plan(req)
  if p then return p end
  return request.explain(req, err, code, info)
end

-- A lighter entry point for tools: price GPU × count × hours.
-- req: gpu, count (1), hours, spot (nil = both), cloud, region. Returns {rows = {...}} | nil, err.
function M.estimate(req)
  local name, err = gpus.resolve(req.gpu)
  if not name then return nil, err, E.EINVAL end
  local hours = tonumber(req.hours)
  if not hours or hours <= 0 then return nil, "hours must be a positive number", E.EINVAL end
  local count = math.tointeger(tonumber(req.count or 1))
  if not count or count < 1 then return nil, "count must be a whole number ≥ 1", E.EINVAL end
  local rows = {}
  for _, o in ipairs(catalog.by_gpu(name)) do
    if (not req.cloud or o.cloud == req.cloud) and (not req.region or o.region == req.region)
       and count % o.count == 0 then
      local nodes = count // o.count
      local d = { min = hours, expected = hours, max = hours * 1.15 }
      for pass = 1, 2 do
        local spot = pass == 2
        local rate = spot and o.spot_price or (not spot and o.price)
        if rate and (req.spot == nil or req.spot == spot) then
          local c = sizing.cost(rate, d, { nodes = nodes, spot = spot, recovery_h = 0.25 })
          rows[#rows + 1] = { cloud = o.cloud, region = o.region, instance_type = o.instance_type,
            gpus_per_node = o.count, nodes = nodes, spot = spot, rate_hr = round(rate * nodes, 4),
            cost = { min = round(c.min), expected = round(c.expected), max = round(c.max) } }
        end
      end
    end
  end
  table.sort(rows, function(a, b)
    if a.cost.expected ~= b.cost.expected then return a.cost.expected < b.cost.expected end
    return a.cloud .. a.region < b.cloud .. b.region
  end)
  if #rows == 0 then
    return nil, string.format("no %s offer with %d GPU%s in total%s%s", name, count,
      count == 1 and "" or "s", req.cloud and (" on " .. req.cloud) or "",
      req.region and (" in " .. req.region) or ""), E.ENOENT
  end
  return { gpu = name, count = count, hours = hours, rows = vibeml.array(rows) }
end

return M

-- vibeml.plan.present — what a plan shows: the public shape of ranked candidates (with the
-- reasons they rank where they do), the estimate a launched job keeps, the message when nothing
-- fits, the throughput and budget notes, and the SkyPilot task preview.
--
--   present.option(c)                 -> option (the shape listed in vibeml.planner)
--   present.options(ranked, limit)    -> { option, ... } (the first `limit`, regions folded in)
--   present.describe(c)               -> "1× H100 on gcp europe-north1 (spot) ≈ $1.64, 1.4 h"
--   present.estimate(c, ctx, wfname)  -> the job's estimate (vibeml.planner's `estimate` field)
--   present.measured_note(c, wfname, params_b) -> assumption text | nil
--   present.no_fit(wfname, req, mi, ctx, cons, rejected, suggestions) -> message
--   present.budget_warnings(option, warnings)
--   present.task(req, wfname, mi, di, ctx, ranked, best) -> task, nil, candidates | nil, message
--   present.money(x), present.round(x [, digits])
local sizing = require "vibeml.sizing"
local pw = require "vibeml.plan.workflows"

local M = {}

function M.round(x, d)
  local m = 10 ^ (d or 2)
  return math.floor(x * m + 0.5) / m
end
local round = M.round

function M.money(x) return string.format("$%.2f", x) end
local money = M.money

-- 2950 -> "2,950"
local function thousands(x)
  local s = tostring(math.floor(x + 0.5))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

-- The public shape of one ranked candidate, with the reasons it ranks where it does.
function M.option(c)
  local o, ev = c.offer, c.ev
  local reasons = {}
  reasons[#reasons + 1] = string.format("fits VRAM: needs %.1f GB per GPU (%.1f with the margin) "
    .. "of %.1f usable on %s", ev.need, ev.need * ev.margin, ev.usable, o.gpu)
  reasons[#reasons + 1] = string.format("%s/h for %d× %s%s → %.1f h expected (%.0f tokens/s%s)",
    money(c.rate * ev.nodes), ev.n, o.gpu, ev.nodes > 1 and (" on " .. ev.nodes .. " nodes") or "",
    ev.duration.expected, ev.parts.tokens_per_s,
    ev.measured and string.format(", measured in %d finished run%s", ev.measured.runs,
      ev.measured.runs == 1 and "" or "s") or "")
  reasons[#reasons + 1] = string.format("region %s on %s (%s)", o.region, o.cloud,
    o.instance_type ~= "" and o.instance_type or "GPU only")
  if c.spot then
    reasons[#reasons + 1] = string.format("spot: %.0f%% below on-demand; expected preemption "
      .. "recovery adds %s (checkpoints resume the run)",
      (1 - c.rate / o.price) * 100,
      money(c.cost.expected - c.rate * ev.nodes * ev.duration.expected))
  else
    reasons[#reasons + 1] = "on-demand: no preemption risk"
  end
  return {
    gpu = o.gpu, count = ev.n, gpus_per_node = o.count, nodes = ev.nodes,
    accelerators = o.gpu .. ":" .. o.count,
    cloud = o.cloud, region = o.region, regions = { o.region },
    zones = o.zones ~= "" and o.zones or nil,
    instance_type = o.instance_type ~= "" and o.instance_type or nil,
    spot = c.spot, rate_hr = round(c.rate * ev.nodes, 4),
    rate_per_gpu_hr = round(c.rate / o.count, 4),
    on_demand_rate_hr = round(o.price * ev.nodes, 4),
    duration_h = { min = round(ev.duration.min, 3), expected = round(ev.duration.expected, 3),
                   max = round(ev.duration.max, 3) },
    cost = { min = round(c.cost.min), expected = round(c.cost.expected), max = round(c.cost.max) },
    tokens_per_s = math.floor(ev.parts.tokens_per_s + 0.5),
    setup_s = math.floor(ev.parts.setup_s.expected + 0.5),
    vram = { need_gb = round(ev.need, 1), with_margin_gb = round(ev.need * ev.margin, 1),
             usable_gb = round(ev.usable, 1) },
    reasons = reasons,
  }
end

function M.options(ranked, limit)
  local out = {}
  for i = 1, math.min(limit, #ranked) do
    local c = ranked[i]
    local p = M.option(c)
    p.regions = { table.unpack(c.regions or { c.offer.region }) }
    out[#out + 1] = p
  end
  return out
end

function M.describe(c)
  return string.format("%d× %s on %s %s (%s) ≈ %s, %.1f h", c.ev.n, c.offer.gpu, c.offer.cloud,
    c.offer.region, c.spot and "spot" or "on-demand", money(c.cost.expected),
    c.ev.duration.expected)
end

-- What a launched job keeps of the plan (the jobs row's `estimate`, JSON): the ranges it is
-- billed and watched against, the expected set-up before the first training step (provisioning,
-- install, model download and load, warm-up; `setup` has the parts), the planned throughput and
-- step time, and the facts a finished run's measurement is filed under (vibeml.plan.measured).
function M.estimate(c, ctx, wfname)
  local ev = c.ev
  local st, parts = ev.parts.setup_s, ev.parts
  local f = ev.measured and ev.measured.factor or 1
  return {
    duration_h = { min = round(ev.duration.min, 3), expected = round(ev.duration.expected, 3),
                   max = round(ev.duration.max, 3) },
    cost = { min = round(c.cost.min), expected = round(c.cost.expected), max = round(c.cost.max) },
    setup_s = math.floor(st.expected + 0.5), setup_s_max = math.floor(st.max + 0.5),
    tokens_per_s = round(parts.tokens_per_s, 1),
    model_tokens_per_s = round(parts.tokens_per_s / f, 1),
    throughput_source = ev.measured and "measured" or "model",
    step_s = round(ev.tokens_per_step / parts.tokens_per_s, 4), steps = ev.steps,
    tokens_per_step = ev.tokens_per_step,
    workflow = wfname, method = ctx.method, params_b = ctx.params_b,
    gpu = c.offer.gpu, count = ev.n, nodes = ev.nodes,
  }
end

-- The assumption a measured throughput adds to the plan: where the figure came from.
function M.measured_note(c, wfname, params_b)
  local m = c and c.ev.measured
  if not m then return nil end
  local tps = c.ev.parts.tokens_per_s
  return string.format("throughput on %s for %s %g B from %d finished run%s (median %s tok/s, "
    .. "%.2f× the model) instead of the model's %s tok/s", c.offer.gpu, wfname, params_b, m.runs,
    m.runs == 1 and "" or "s", thousands(tps), m.factor, thousands(tps / m.factor))
end

function M.no_fit(wfname, req, mi, ctx, cons, rejected, sugg)
  local parts = {}
  local function add(n, fmt, ...)
    if n > 0 then parts[#parts + 1] = string.format(fmt, n, ...) end
  end
  add(rejected.vram, "%d too small for the VRAM needed")
  add(rejected.budget, "%d over max_cost %s", cons.max_cost and money(cons.max_cost))
  add(rejected.deadline, "%d past the %g h deadline", cons.deadline_h)
  add(rejected.count, "%d with another GPU count")
  add(rejected.filter, "%d in other clouds/regions")
  add(rejected.hardware, "%d on GPUs workflow '%s' cannot run on", wfname)
  add(rejected.storage, "%d on clouds where SkyPilot cannot mount the bucket that keeps a job's "
    .. "checkpoints and output (Vast)")
  local need = sizing.vram_gb(ctx.method, mi.params_b, { seq_len = ctx.shape.seq_len,
    batch = ctx.shape.batch, rank = ctx.shape.rank, optimizer = ctx.shape.optimizer,
    vram = ctx.wf.vram })
  local msg = string.format("No GPU offer fits %s of %s (%.1f B parameters, %.0f GB on one GPU) "
    .. "within the constraints (offers ruled out: %s).", wfname, req.model, mi.params_b, need,
    #parts > 0 and table.concat(parts, ", ") or "none in the catalog")
  if #sugg > 0 then
    local lines = {}
    for _, s in ipairs(sugg) do lines[#lines + 1] = "  - " .. s.text end
    msg = msg .. " What would work:\n" .. table.concat(lines, "\n")
  end
  return msg
end

-- Warnings when the expected cost meets the money limits (vibeml.budget), before any launch.
function M.budget_warnings(best, warnings)
  local ok, m = pcall(require, "vibeml.budget")
  if not ok or type(m) ~= "table" or type(m.status) ~= "function" then return end
  local ok2, st = pcall(m.status)
  if not ok2 or type(st) ~= "table" then return end
  local c = best.cost.expected
  if st.per_job_cap and c > st.per_job_cap then
    warnings[#warnings + 1] = string.format("the expected cost %s is over your per-job cap of %s: "
      .. "a launch needs your approval (or set a lower max_cost)", money(c), money(st.per_job_cap))
  end
  if st.remaining and c > st.remaining then
    warnings[#warnings + 1] = string.format("the expected cost %s is more than the %s left in this "
      .. "month's budget", money(c), money(math.max(st.remaining, 0)))
  end
end

-- The SkyPilot task the plan would launch, built by the workflow from the top candidates of the
-- best option's node count (SkyPilot falls through them in order).
function M.task(req, wfname, mi, di, ctx, ranked, best)
  if not req.dataset then return nil, "give a dataset to see the task that would be launched" end
  local cands, seen = {}, {}
  for _, c in ipairs(ranked) do
    local o = c.offer
    local key = table.concat({ o.gpu, o.count, o.cloud, o.region, tostring(c.spot),
                               o.instance_type }, "|")
    if not seen[key] and c.ev.nodes == best.nodes then
      seen[key] = true
      -- marketplace "regions" (Vast: "Japan, JP, AS") are locations, not names a task can carry
      local region = o.region:match("^[%w_.:%-]+$") and o.region or nil
      -- rate_hr (USD per node-hour) travels with each candidate so a job is billed at the rate
      -- of the candidate SkyPilot actually runs, not the first one's
      cands[#cands + 1] = { accelerator = o.gpu, count = o.count, cloud = o.cloud, region = region,
                            spot = c.spot,
                            instance_type = o.instance_type ~= "" and o.instance_type or nil,
                            rate_hr = c.rate }
      if #cands >= 5 then break end
    end
  end
  local task, err = pw.build(wfname, {
    job_name = req.job_name, model = req.model, dataset = req.dataset,
    dataset_format = di.format, hyperparameters = ctx.hp,
    model_info = { params_b = mi.params_b, gated = mi.gated and true or false },
    candidates = cands, num_nodes = best.nodes,
    checkpoint_bucket = req.checkpoint_bucket, push_to_hub = req.push_to_hub,
    hub_private = req.hub_private,
  })
  if not task then return nil, err end
  return task, nil, cands
end

return M

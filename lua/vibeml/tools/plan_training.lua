-- plan_training — the full plan for a fine-tuning job: workflow, ranked GPU options (cheapest
-- expected TOTAL cost first), VRAM, duration and cost ranges, the SkyPilot task that would run,
-- warnings (gated model, missing token, spot) and assumptions. Read-only: it launches nothing.
-- the planner (with sizing) is required on the first call: a server that never plans does not
-- hold it (~80 kB of the idle server's Lua heap, ~1 ms of its start)

local kit = require "vibeml.mcp.toolkit"
local plans = require "vibeml.mcp.plans"

local inputs = kit.plan_inputs()

local M = {
  name = "plan_training",
  title = "Plan a fine-tuning job",
  description =
    "Plans a fine-tuning job before money is spent: workflow, GPU memory, GPU offers across "
    .. "clouds ranked by expected total cost, cost and duration ranges, other workflows' "
    .. "cheapest plans, warnings. Returns plan_id for launch_training. When nothing fits, the "
    .. "error says what would.",
  inputSchema = { type = "object", properties = inputs, required = { "model" },
                  additionalProperties = false },
  outputSchema = kit.out({ plan_id = "string", workflow = "string", best = "object",
    options = "array", alternatives = "array", warnings = "array", cap = "object" },
    { "plan_id", "workflow", "best", "options", "warnings" }),
  annotations = kit.READ,
}

-- The per-job cap against the plan's expected cost: the job is stopped when it reaches the cap.
function M.cap_of(p)
  local ok, budget = pcall(require, "vibeml.budget")
  if not ok or type(budget) ~= "table" then return nil end
  local okl, lim = pcall(budget.limits)
  local per_job = okl and type(lim) == "table" and lim.per_job or nil
  if per_job ~= nil and vibeml.isnull(per_job) then per_job = nil end
  local own = p.request and p.request.max_cost
  local cap = per_job
  if own and (not cap or own < cap) then cap = own end
  if not cap then return nil end
  local expected = p.best and p.best.cost and p.best.cost.expected or 0
  local out = { usd = cap, per_job_cap = per_job, expected = expected,
    below_expected = cap < expected }
  if out.below_expected and expected > 0 then
    out.stops_at_percent = math.floor(100 * cap / expected)
  end
  return out
end

function M.cap_warning(c)
  if not (c and c.below_expected) then return nil end
  return string.format("the cap of $%.2f is below the expected cost of $%.2f: the job would be "
    .. "stopped at about %d%% of its training; launching asks the person first (or plan fewer "
    .. "steps, or ask the person to raise it with `vibeml budget set --per-job USD`)", c.usd,
    c.expected, c.stops_at_percent or 0)
end

local function summary(p)
  local b = p.best
  if b.count == 0 then
    return string.format("%s with workflow %s runs on CPU (no GPU): expected $%.2f, %.2f h. %s",
      p.model_info.id, p.workflow, b.cost.expected, b.duration_h.expected, b.reasons[1])
  end
  local lines = {
    string.format("%s (%.2f B parameters) with workflow %s: best is %d× %s on %s %s (%s), "
      .. "expected $%.2f ($%.2f–$%.2f) and %.1f h.", p.model_info.id, p.model_info.params_b,
      p.workflow, b.count, b.gpu, b.cloud, b.region, b.spot and "spot" or "on-demand",
      b.cost.expected, b.cost.min, b.cost.max, b.duration_h.expected),
  }
  for i = 2, math.min(4, #p.options) do
    local o = p.options[i]
    lines[#lines + 1] = string.format("#%d: %d× %s on %s %s (%s) $%.2f, %.1f h", i, o.count, o.gpu,
      o.cloud, o.region, o.spot and "spot" or "on-demand", o.cost.expected, o.duration_h.expected)
  end
  for _, w in ipairs(p.warnings) do lines[#lines + 1] = "Warning: " .. w end
  for _, a in ipairs(p.assumptions) do lines[#lines + 1] = "Assumed: " .. a end
  return table.concat(lines, "\n")
end

function M.handler(args, ctx)
  local req = {}
  for k, v in pairs(args) do req[k] = v end
  if ctx and ctx.progress then ctx:progress(0, 2, "looking up the model and dataset") end
  local p, err = require("vibeml.planner").plan(req)
  if not p then return nil, err end
  if ctx and ctx.progress then ctx:progress(2, 2, "planned") end
  local request = p.request or req
  p.request = nil
  p.cap = M.cap_of({ request = request, best = p.best })
  local w = M.cap_warning(p.cap)
  if w then
    -- one wording for the cap: the planner's own note about the per-job cap gives way to it
    for i = #p.warnings, 1, -1 do
      if tostring(p.warnings[i]):find("per-job cap", 1, true) then table.remove(p.warnings, i) end
    end
    p.warnings[#p.warnings + 1] = w
  end
  for _, list in ipairs { p.warnings, p.assumptions } do
    for i, t in ipairs(list) do list[i] = kit.tool_speak(t) end
  end
  local stored = {}
  for k, v in pairs(p) do stored[k] = v end
  stored.request = request
  p.plan_id = plans.save(args, stored)
  return p, string.format("Plan %s: ", p.plan_id) .. summary(p)
end

function M.next(p)
  return { kit.call("launch_training", { plan_id = p.plan_id }) }
end

return M

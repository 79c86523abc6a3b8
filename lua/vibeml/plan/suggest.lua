-- vibeml.plan.suggest — what would work when nothing fits the constraints: relax one constraint
-- at a time (GPU, cloud/region, spot, the training method, steps, budget, deadline) and price
-- the result with the solver.
--
--   suggest.all(req, ctx, cons, mi, di) -> { {text=, option=, cost=, [gpu=, gpus=, workflow=,
--                                            max_steps=]}, ... }
local solve = require "vibeml.plan.solve"
local present = require "vibeml.plan.present"
local pw = require "vibeml.plan.workflows"

local M = {}

local cheapest, describe, money = solve.cheapest, present.describe, present.money

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- The installed QLoRA workflow (the least GPU memory per parameter), if any.
local function qlora_workflow()
  for _, name in ipairs(pw.gpu_training()) do
    if pw.method(pw.get(name)) == "qlora" then return name end
  end
  return nil
end

function M.all(req, ctx, cons, mi, di)
  local out = {}
  local function add(text, c, extra)
    local s = { text = text }
    if c then s.option = present.option(c); s.cost = s.option.cost.expected end
    for k, v in pairs(extra or {}) do s[k] = v end
    out[#out + 1] = s
  end
  local nofilter = { spot = cons.spot }
  local free = cheapest(ctx, nofilter)
  if cons.gpu or cons.gpus then
    local c = cheapest(ctx, { spot = cons.spot, cloud = cons.cloud, region = cons.region,
                              max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    if c then
      add(string.format("a bigger or different GPU: %s", describe(c)), c,
        { gpu = c.offer.gpu, gpus = c.ev.n })
    end
  end
  if cons.cloud or cons.region then
    local c = cheapest(ctx, { spot = cons.spot, gpu = cons.gpu, gpus = cons.gpus,
                              max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    if c then add(string.format("another cloud or region: %s", describe(c)), c) end
  end
  if cons.spot ~= nil then
    local relaxed = copy(cons)
    relaxed.spot = nil
    local c = cheapest(ctx, relaxed)
    if c then add(string.format("%s: %s", cons.spot and "on-demand" or "spot", describe(c)), c) end
  end
  local q = qlora_workflow()
  if ctx.method ~= "qlora" and q then
    local qctx = solve.context(req, q, mi, di)
    local c = qctx and cheapest(qctx, cons)
    if not c and qctx and (cons.gpu or cons.gpus) then
      c = cheapest(qctx, { spot = cons.spot, cloud = cons.cloud, region = cons.region,
                           max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    end
    if c then
      add(string.format("QLoRA (workflow %s) instead of %s: %s", q, ctx.method, describe(c)), c,
        { workflow = q })
    end
  end
  if cons.max_cost and free then
    -- fewer training tokens: scale steps so the cheapest offer fits the budget
    local c = free
    local setup_cost = c.rate * c.ev.nodes * (c.ev.duration.expected - c.ev.parts.train_h)
    local train_cost = c.cost.expected - setup_cost
    if c.cost.expected > cons.max_cost and cons.max_cost > setup_cost and train_cost > 0 then
      local f = (cons.max_cost - setup_cost) / train_cost * 0.95
      local sh = ctx.shape
      local global = sh.batch * sh.grad_accum * c.ev.n
      local padded = math.min(sh.seq_len, 1.2 * ctx.data.mean_tokens)
      local steps = math.floor(c.ev.tokens * f / (global * padded))
      if steps >= 10 then
        local ctx2 = copy(ctx)
        ctx2.shape = copy(ctx.shape)
        ctx2.shape.max_steps = steps
        local c2 = cheapest(ctx2, cons)
        if c2 then
          add(string.format("fewer steps: max_steps=%d (%.0f%% of the data) fits the budget: %s",
            steps, f * 100, describe(c2)), c2, { max_steps = steps })
        end
      end
    end
    if free.cost.expected > cons.max_cost then
      add(string.format("a larger budget: the cheapest way costs %s (max_cost %s)",
        money(free.cost.expected), money(cons.max_cost)), free)
    end
  end
  if cons.deadline_h then
    local relaxed = copy(cons)
    relaxed.deadline_h = nil
    local opts = solve.solve(ctx, relaxed)
    local fastest
    for _, c in ipairs(opts) do
      if not fastest or c.ev.duration.expected < fastest.ev.duration.expected then fastest = c end
    end
    if fastest then
      add(string.format("a later deadline: the fastest option takes %.1f h: %s",
        fastest.ev.duration.expected, describe(fastest)), fastest)
    end
  end
  return out
end

return M

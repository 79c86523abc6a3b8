-- vibeml.plan.solve — the solver: every catalog offer × {on-demand, spot} priced by its expected
-- TOTAL cost (VRAM fit, GPU count and nodes, duration with set-up, checkpoints, evals and spot
-- recovery), ranked cheapest first. No I/O of its own; the context carries what it needs.
--
--   solve.context(req, wfname, mi, di [, memo]) -> ctx | nil, message  (memo: a table kept for
--       one plan, so the finished runs are looked up once per workflow)
--       ctx: wf (descriptor), method, params_b, shape (training shape), hp (validated
--            hyperparameters), data = {rows=, mean_tokens=}, measured = {[gpu] = m} (finished
--            runs' throughput, vibeml.plan.measured; nil with req.measured == false)
--   solve.solve(ctx, cons [, only_best]) -> candidates (ranked), rejected counts
--       cons: gpu, gpus (total count), cloud, region, spot, max_cost, deadline_h
--       candidate: {offer=, ev=, spot=, rate=, exp=, cost={min=, expected=, max=}, regions=}
--       ev: nodes, n (GPUs), need (GB per GPU), usable, margin, duration {min,expected,max} h,
--           parts (sizing.duration's), tokens, steps, tokens_per_step, measured (the finished
--           runs used for this GPU's throughput, or nil)
--       rejected: vram, budget, deadline, filter, count, hardware, storage, feasible
--   solve.cheapest(ctx, cons) -> candidate | nil
--   solve.tokens_text(ctx, count) -> the "training tokens" assumption
local sizing = require "vibeml.sizing"
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local pw = require "vibeml.plan.workflows"
local facts = require "vibeml.plan.facts"

local M = {}

local function first(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then return v end
  end
  return nil
end

local function num(v) if v == nil then return nil end return tonumber(v) end

-- Training shape from the request and the workflow's (validated) hyperparameters.
local function shape(req, hp)
  hp = hp or {}
  local s = {
    seq_len = num(first(hp.max_seq_length, hp.max_length, hp.seq_len, req.seq_len)) or 2048,
    batch = num(first(hp.per_device_batch_size, hp.per_device_train_batch_size, hp.batch_size,
                      req.batch_size)) or 2,
    grad_accum = num(first(hp.gradient_accumulation_steps, hp.grad_accum)) or 4,
    rank = num(first(hp.lora_r, hp.lora_rank, hp.rank, hp.r)) or 16,
    optimizer = first(hp.optim, hp.optimizer),
    epochs = num(first(req.epochs, hp.num_train_epochs, hp.epochs)) or 1,
    max_steps = num(first(req.max_steps, hp.max_steps)),
    packing = hp.packing == true,
    max_samples = num(hp.max_samples),
    save_steps = num(hp.save_steps) or 100,
    eval_fraction = num(hp.eval_fraction) or 0,
    eval_max_rows = num(hp.eval_max_rows) or 0,
  }
  if s.max_steps and s.max_steps <= 0 then s.max_steps = nil end -- -1: "run the epochs"
  return s
end

function M.context(req, wfname, mi, di, memo)
  local wf = pw.get(wfname)
  if not wf then return nil, "unknown workflow '" .. tostring(wfname) .. "'" end
  local method = pw.method(wf)
  if not method or pw.on_cpu(wf) then
    return nil, "workflow '" .. wfname .. "' does not train on GPUs"
  end
  local hp, err = pw.validate(wfname, req.hyperparameters or req.params, req)
  if not hp then return nil, err end
  local measured
  if req.measured ~= false then
    -- one look-up per workflow and plan (memo: the plan's table)
    measured = memo and memo[wfname]
    if not measured then
      measured = require("vibeml.plan.measured").factors(wfname, mi.params_b)
      if memo then memo[wfname] = measured end
    end
  end
  return { wf = wf, method = method, params_b = mi.params_b, shape = shape(req, hp), hp = hp,
           data = { rows = di.rows, mean_tokens = di.mean_tokens }, measured = measured }
end

-- Ranking: expected total cost, then expected duration, then names (a stable, total order).
local function better(a, b)
  if a.exp ~= b.exp then return a.exp < b.exp end
  if a.ev.duration.expected ~= b.ev.duration.expected then
    return a.ev.duration.expected < b.ev.duration.expected
  end
  if a.spot ~= b.spot then return not a.spot end
  if a.offer.cloud ~= b.offer.cloud then return a.offer.cloud < b.offer.cloud end
  if a.offer.region ~= b.offer.region then return a.offer.region < b.offer.region end
  return a.offer.instance_type < b.offer.instance_type
end

function M.solve(ctx, cons, only_best)
  local method, P, sh = ctx.method, ctx.params_b, ctx.shape
  local wfgpu = ctx.wf.gpu or {}
  local per_node_max = wfgpu.max_count or 8
  local max_nodes = wfgpu.multi_node and (wfgpu.max_nodes or 8) or 1
  local vopts = { seq_len = sh.seq_len, batch = sh.batch, rank = sh.rank, optimizer = sh.optimizer,
                  vram = ctx.wf.vram, throughput = ctx.wf.throughput }
  -- the workflow's own margin (vram.margin) when it has one: measured peaks need less headroom
  local margin = sizing.margin(vopts)
  -- set-up before the first step: the same on every GPU
  local setup_s, setup_parts = sizing.setup(method, P, { throughput = ctx.wf.throughput })
  local offers = cons.gpu and catalog.by_gpu(cons.gpu) or catalog.offers()
  local memo = {}
  local rejected = { vram = 0, budget = 0, deadline = 0, filter = 0, count = 0, hardware = 0,
                     storage = 0 }
  local hw = {} -- runs_on per GPU name (a handful of names over thousands of offers)
  -- clouds whose GPU map says SkyPilot cannot make multi-node clusters there (Vast)
  -- and clouds where SkyPilot cannot mount a bucket: every cloud job keeps its checkpoints and
  -- output in one (vibeml.jobs.storage), so an offer there could not keep its results
  local single, no_bucket = {}, {}
  for _, c in ipairs(gpus.clouds()) do
    local map = gpus.cloud_map(c)
    if map and map.multi_node == false then single[c] = true end
    if map and map.storage_mount == false then no_bucket[c] = true end
  end
  local options = {}
  local cloud, region, want_n, spot_pref = cons.cloud, cons.region, cons.gpus, cons.spot
  local max_cost, deadline = cons.max_cost, cons.deadline_h
  local by_od, by_spot, feasible = {}, {}, 0
  for i = 1, #offers do
    local o = offers[i]
    local ok_hw = hw[o.gpu]
    if ok_hw == nil then ok_hw = pw.runs_on(ctx.wf, o.spec) and true or false; hw[o.gpu] = ok_hw end
    if (cloud and o.cloud ~= cloud) or (region and o.region ~= region) then
      rejected.filter = rejected.filter + 1
    elseif no_bucket[o.cloud] then
      rejected.storage = rejected.storage + 1
    elseif not ok_hw then
      rejected.hardware = rejected.hardware + 1
    elseif o.count > per_node_max or (want_n and (want_n % o.count ~= 0
            or want_n // o.count > ((single[o.cloud] or o.interconnect ~= "nvlink") and 1
                                    or max_nodes))) then
      rejected.count = rejected.count + 1
    else
      local spec, tflops, ic = o.spec, o.tflops, o.interconnect
      -- finished runs of this workflow on this GPU and a similar model size (vibeml.plan.measured)
      local m = ctx.measured and ctx.measured[o.gpu]
      local key = single[o.cloud] and (o.evkey .. "|single") or o.evkey -- evkey holds the link
      local ev = memo[key]
      if ev == nil then
        ev = false
        local usable = gpus.usable_gb(spec)
        local n1 = want_n and want_n // o.count or 1
        -- several nodes only of full 8-GPU machines (ZeRO-3 over slow links between small VMs
        -- would cost more than it saves), in powers of two
        -- ... and only of NVLink machines on clouds that make multi-node clusters (ZeRO-3 across
        -- nodes of PCIe cards, or on Vast, is not a plan)
        local top = want_n and n1 or ((o.count >= 8 and not single[o.cloud] and ic == "nvlink")
          and max_nodes or 1)
        local nodes = n1
        while nodes <= top do
          local n = o.count * nodes
          vopts.gpus = n
          local need = sizing.vram_gb(method, P, vopts)
          if need * margin <= usable then
            -- optimizer steps (checkpoints every save_steps of them) and the eval split's passes
            local rows = ctx.data.rows or facts.DEFAULT_ROWS
            if sh.max_samples and sh.max_samples > 0 and sh.max_samples < rows then
              rows = sh.max_samples
            end
            local ev_rows = math.min(math.floor(rows * sh.eval_fraction), sh.eval_max_rows)
            local global = sh.batch * sh.grad_accum * n
            local steps = sh.max_steps or math.ceil((rows - ev_rows) * sh.epochs / global)
            local mean = ctx.data.mean_tokens or facts.DEFAULT_MEAN_TOKENS
            local padded = math.min(sh.seq_len, 1.2 * mean)
            local dopts = { nodes = nodes, interconnect = ic, bf16_tflops = tflops,
                            throughput = ctx.wf.throughput, vram = ctx.wf.vram, rank = sh.rank,
                            throughput_factor = m and m.factor, steps = steps,
                            setup_s = setup_s, setup_parts = setup_parts,
                            save_steps = sh.save_steps,
                            -- the script evaluates every max(save_steps, steps/10) steps and
                            -- at the end
                            evals = ev_rows > 0 and (math.floor(steps / math.max(sh.save_steps,
                              math.ceil(steps / 10))) + 1) or 0,
                            eval_tokens = ev_rows * padded }
            local tokens = sizing.tokens { rows = ctx.data.rows, mean_tokens = ctx.data.mean_tokens,
                                           epochs = sh.epochs, max_steps = sh.max_steps,
                                           batch = sh.batch, grad_accum = sh.grad_accum,
                                           gpus = n, seq_len = sh.seq_len, packing = sh.packing,
                                           max_samples = sh.max_samples }
            local dur, parts = sizing.duration(method, P, spec, n, tokens, dopts)
            -- cost per unit of node rate, so each offer costs two multiplications
            local od = sizing.cost(1, dur, { nodes = nodes })
            local sp = sizing.cost(1, dur, { nodes = nodes, spot = true,
                                             recovery_h = parts.recovery_h })
            ev = { nodes = nodes, n = n, need = need, usable = usable, duration = dur,
                   margin = margin,
                   parts = parts, tokens = tokens, dur_exp = dur.expected, steps = steps,
                   -- what one optimizer step trains, in the units of `tokens` (packing: no padding)
                   tokens_per_step = global * (sh.packing and math.min(sh.seq_len, mean)
                                               or padded),
                   measured = m,
                   od = { od.min, od.expected, od.max }, sp = { sp.min, sp.expected, sp.max } }
            break
          end
          if not sizing.shardable(method, vopts) then break end
          nodes = nodes * 2
        end
        memo[key] = ev
      end
      if not ev then
        rejected.vram = rejected.vram + 1
      elseif deadline and ev.dur_exp > deadline then
        rejected.deadline = rejected.deadline + (o.spot_price and spot_pref == nil and 2 or 1)
      else
        for pass = 1, 2 do
          local spot = pass == 2
          local rate
          if spot then rate = o.spot_price else rate = o.price end
          if rate and (spot_pref == nil or spot_pref == spot) then
            local f = spot and ev.sp or ev.od
            local exp = rate * f[2]
            if max_cost and exp > max_cost then
              rejected.budget = rejected.budget + 1
            else
              feasible = feasible + 1
              if only_best then
                local b = options[1]
                local tie = b and exp == b.exp
                  and better({ offer = o, ev = ev, spot = spot, exp = exp }, b)
                if not b or exp < b.exp or tie then
                  options[1] = { offer = o, ev = ev, spot = spot, rate = rate, exp = exp, f = f }
                end
              else
                -- one entry per (cloud, instance type, GPU, count, spot): its cheapest region,
                -- with the regions that cost the same folded in
                local map = spot and by_spot or by_od
                local g = map[o.dkey]
                if not g then
                  g = { offer = o, ev = ev, spot = spot, rate = rate, exp = exp, f = f,
                        regions = { o.region } }
                  map[o.dkey] = g
                  options[#options + 1] = g
                elseif exp < g.exp - 0.005 then
                  g.offer, g.ev, g.rate, g.exp, g.f, g.regions = o, ev, rate, exp, f, { o.region }
                elseif exp <= g.exp + 0.005 then
                  local c = { offer = o, ev = ev, spot = spot, exp = exp }
                  if exp < g.exp or better(c, g) then
                    g.offer, g.ev, g.rate, g.exp, g.f = o, ev, rate, exp, f
                  end
                  if #g.regions < 12 then g.regions[#g.regions + 1] = o.region end
                end
              end
            end
          end
        end
      end
    end
  end
  if not only_best then table.sort(options, better) end
  for _, c in ipairs(options) do
    c.cost = { min = c.rate * c.f[1], expected = c.exp, max = c.rate * c.f[3] }
  end
  rejected.feasible = feasible
  return options, rejected
end

function M.cheapest(ctx, cons)
  return M.solve(ctx, cons, true)[1]
end

function M.tokens_text(ctx, count)
  local sh = ctx.shape
  return select(2, sizing.tokens { rows = ctx.data.rows, mean_tokens = ctx.data.mean_tokens,
    epochs = sh.epochs, max_steps = sh.max_steps, batch = sh.batch, grad_accum = sh.grad_accum,
    gpus = count, seq_len = sh.seq_len, packing = sh.packing, max_samples = sh.max_samples })
end

return M

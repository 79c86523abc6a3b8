-- vibeml.planner — picks the workflow and the GPU offer with the lowest TOTAL job cost (not the
-- lowest $/hour) and says what the job will cost and take before a cent is spent.
--
--   planner.plan(req) -> plan | nil, message, code, info
-- req: model (HF id, required), dataset (HF id), workflow, gpu, gpus (total count), cloud, region,
--      spot (true = spot only, false = on-demand only, nil = both), max_cost (USD), deadline_h,
--      epochs, max_steps, hyperparameters (workflow parameters), limit (options shown, 8),
--      offline (skip Hugging Face), params_b / model_info / dataset_info (skip the lookups),
--      job_name, checkpoint_bucket, push_to_hub, no_task (skip the task preview).
-- plan: { request=, model_info=, dataset_info=, workflow=, method=, tokens=, vram=,
--         best = option, options = {option...}, alternatives = {per workflow}, warnings = {},
--         assumptions = {}, catalog = {sources}, task = SkyPilot task | nil }
-- option: { gpu=, count=, gpus_per_node=, nodes=, accelerators="H100:8", cloud=, region=,
--           regions={...}, instance_type=, spot=, rate_hr= (all nodes), rate_per_gpu_hr=,
--           duration_h={min=,expected=,max=}, cost={min=,expected=,max=}, tokens_per_s=,
--           vram={need_gb=, with_margin_gb=, usable_gb=}, reasons={...} }
-- When nothing fits the constraints: nil, a message that says what would work (a bigger GPU,
-- fewer steps, QLoRA instead of full...) with its cost, "VML_ELIMIT", {suggestions = {...}}.
local sizing = require "vibeml.sizing"
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local names = require "vibeml.names"

local M = {}
local apply_preferences, gated_field

M.DEFAULT_LIMIT = 8
M.DEFAULT_ROWS = 10000
M.DEFAULT_MEAN_TOKENS = 256

-- Used when vibeml.workflows is not installed (it owns the real descriptors).
M.FALLBACK_WORKFLOWS = {
  unsloth = { kind = "workflow", name = "unsloth", method = "qlora",
              title = "Unsloth QLoRA (4-bit)", model_sizes = { min_b = 0.1, max_b = 120 },
              gpu = { required = true, min_count = 1, max_count = 1, multi_node = false } },
  lora = { kind = "workflow", name = "lora", method = "lora", title = "LoRA (bf16, TRL + PEFT)",
           model_sizes = { min_b = 0.1, max_b = 80 },
           gpu = { required = true, min_count = 1, max_count = 8, multi_node = false } },
  full = { kind = "workflow", name = "full", method = "full", title = "Full fine-tune",
           model_sizes = { min_b = 0.1, max_b = 80 },
           gpu = { required = true, min_count = 1, max_count = 8, multi_node = true,
                   max_nodes = 8 } },
}
M.GPU_WORKFLOWS = { "unsloth", "lora", "full" }

-- Rows and mean tokens of datasets people start with, for offline planning.
M.KNOWN_DATASETS = {
  ["yahma/alpaca-cleaned"] = { rows = 51760, mean_tokens = 240, format = "alpaca" },
  ["tatsu-lab/alpaca"] = { rows = 52002, mean_tokens = 230, format = "alpaca" },
  ["databricks/databricks-dolly-15k"] = { rows = 15011, mean_tokens = 360, format = "dolly" },
  ["mlabonne/FineTome-100k"] = { rows = 100000, mean_tokens = 700, format = "sharegpt" },
  ["HuggingFaceH4/ultrachat_200k"] = { rows = 207865, mean_tokens = 1400, format = "messages" },
  ["timdettmers/openassistant-guanaco"] = { rows = 9846, mean_tokens = 420, format = "text" },
}

local function workflows_module()
  local ok, w = pcall(require, "vibeml.workflows")
  if ok and type(w) == "table" and type(w.get) == "function" then return w end
  return nil
end

function M.workflow(name)
  local w = workflows_module()
  if w then
    local ok, d = pcall(w.get, name)
    if ok and type(d) == "table" then return d end
  end
  return M.FALLBACK_WORKFLOWS[name]
end

local function workflow_names()
  local w = workflows_module()
  local out = {}
  if w and type(w.list) == "function" then
    local ok, l = pcall(w.list)
    if ok and type(l) == "table" then
      for _, d in ipairs(l) do
        if d.method == "qlora" or d.method == "lora" or d.method == "full" then
          out[#out + 1] = d.name
        end
      end
    end
  end
  if #out == 0 then out = { "unsloth", "lora", "full" } end
  return out
end

local function method_of(wf)
  local m = wf.method
  if m == "qlora" or m == "lora" or m == "full" then return m end
  return nil
end

-- Whether a workflow can run on a GPU: its descriptor's gpu.vendor ("nvidia"; a ROCm build would
-- be a workflow of its own) and gpu.min_compute_capability / max_compute_capability (CUDA; bf16
-- needs 8.0) against the GPU's facts (vibeml.gpu_specs). A GPU without those facts is refused
-- when the workflow asks for them: nobody has checked that it works. Returns true | false, why.
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
    return false, string.format("%s has compute capability %.1f; workflow '%s' needs %.1f or newer%s",
      spec.name, spec.cc, tostring(wf.name), lo, lo >= 8 and " (bf16)" or "")
  end
  if hi and spec.cc > hi + 1e-9 then
    return false, string.format("%s has compute capability %.1f; the pinned PyTorch of workflow '%s' "
      .. "is built up to %.1f", spec.name, spec.cc, tostring(wf.name), hi)
  end
  return true
end

-- The workflows whose model_sizes cover params_b (names, sorted by the registry).
function M.workflows_for_size(params_b)
  local out = {}
  for _, name in ipairs(workflow_names()) do
    local d = M.workflow(name)
    local s = d and d.model_sizes or {}
    if d and params_b >= (s.min_b or 0) and params_b <= (s.max_b or math.huge) then out[#out + 1] = name end
  end
  return out
end

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

local function fmt_money(x) return string.format("$%.2f", x) end

---------------------------------------------------------------------------------------------
-- the solver: every catalog offer × {on-demand, spot}, cheapest expected total first

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

-- ctx: method, params_b, wf, shape, data (rows, mean_tokens), vram/throughput constants.
-- cons: gpu, gpus, cloud, region, spot, max_cost, deadline_h.
-- Returns options (ranked, every offer), rejected counts.
function M.solve(ctx, cons, only_best)
  local method, P, sh = ctx.method, ctx.params_b, ctx.shape
  local wfgpu = ctx.wf.gpu or {}
  local per_node_max = wfgpu.max_count or 8
  local max_nodes = wfgpu.multi_node and (wfgpu.max_nodes or 8) or 1
  local vopts = { seq_len = sh.seq_len, batch = sh.batch, rank = sh.rank, optimizer = sh.optimizer,
                  vram = ctx.wf.vram, throughput = ctx.wf.throughput }
  -- the workflow's own margin (vram.margin) when it has one: measured peaks need less headroom
  local margin = sizing.margin(vopts)
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
    if ok_hw == nil then ok_hw = M.runs_on(ctx.wf, o.spec) and true or false; hw[o.gpu] = ok_hw end
    if (cloud and o.cloud ~= cloud) or (region and o.region ~= region) then
      rejected.filter = rejected.filter + 1
    elseif no_bucket[o.cloud] then
      rejected.storage = rejected.storage + 1
    elseif not ok_hw then
      rejected.hardware = rejected.hardware + 1
    elseif o.count > per_node_max or (want_n and (want_n % o.count ~= 0
            or want_n // o.count > ((single[o.cloud] or o.interconnect ~= "nvlink") and 1 or max_nodes))) then
      rejected.count = rejected.count + 1
    else
      local spec, tflops, ic = o.spec, o.tflops, o.interconnect
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
            local rows = ctx.data.rows or M.DEFAULT_ROWS
            if sh.max_samples and sh.max_samples > 0 and sh.max_samples < rows then rows = sh.max_samples end
            local ev_rows = math.min(math.floor(rows * sh.eval_fraction), sh.eval_max_rows)
            local global = sh.batch * sh.grad_accum * n
            local steps = sh.max_steps or math.ceil((rows - ev_rows) * sh.epochs / global)
            local padded = math.min(sh.seq_len, 1.2 * (ctx.data.mean_tokens or M.DEFAULT_MEAN_TOKENS))
            local dopts = { nodes = nodes, interconnect = ic, bf16_tflops = tflops,
                            throughput = ctx.wf.throughput, vram = ctx.wf.vram, rank = sh.rank,
                            unsloth = ctx.wf.name == "unsloth", steps = steps,
                            save_steps = sh.save_steps,
                            -- the script evaluates every max(save_steps, steps/10) steps and at the end
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
            local sp = sizing.cost(1, dur, { nodes = nodes, spot = true, recovery_h = parts.recovery_h })
            ev = { nodes = nodes, n = n, need = need, usable = usable, duration = dur, margin = margin,
                   parts = parts, tokens = tokens, dur_exp = dur.expected,
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
                if not b or exp < b.exp or (exp == b.exp and better({ offer = o, ev = ev, spot = spot, exp = exp }, b)) then
                  options[1] = { offer = o, ev = ev, spot = spot, rate = rate, exp = exp, f = f }
                end
              else
                -- one entry per (cloud, instance type, GPU, count, spot): its cheapest region,
                -- with the regions that cost the same folded in
                local map = spot and by_spot or by_od
                local g = map[o.dkey]
                if not g then
                  g = { offer = o, ev = ev, spot = spot, rate = rate, exp = exp, f = f, regions = { o.region } }
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

local function round(x, d)
  local m = 10 ^ (d or 2)
  return math.floor(x * m + 0.5) / m
end

-- The public shape of one ranked option, with the reasons it ranks where it does.
local function present(c, cheapest_od_hr)
  local o, ev = c.offer, c.ev
  local reasons = {}
  reasons[#reasons + 1] = string.format("fits VRAM: needs %.1f GB per GPU (%.1f with the margin) "
    .. "of %.1f usable on %s", ev.need, ev.need * ev.margin, ev.usable, o.gpu)
  reasons[#reasons + 1] = string.format("%s/h for %d× %s%s → %.1f h expected (%.0f tokens/s)",
    fmt_money(c.rate * ev.nodes), ev.n, o.gpu, ev.nodes > 1 and (" on " .. ev.nodes .. " nodes") or "",
    ev.duration.expected, ev.parts.tokens_per_s)
  reasons[#reasons + 1] = string.format("region %s on %s (%s)", o.region, o.cloud,
    o.instance_type ~= "" and o.instance_type or "GPU only")
  if c.spot then
    reasons[#reasons + 1] = string.format("spot: %.0f%% below on-demand; expected preemption "
      .. "recovery adds %s (checkpoints resume the run)",
      (1 - c.rate / o.price) * 100, fmt_money(c.cost.expected - c.rate * ev.nodes * ev.duration.expected))
  else
    reasons[#reasons + 1] = "on-demand: no preemption risk"
  end
  return {
    gpu = o.gpu, count = ev.n, gpus_per_node = o.count, nodes = ev.nodes,
    accelerators = o.gpu .. ":" .. o.count,
    cloud = o.cloud, region = o.region, regions = { o.region }, zones = o.zones ~= "" and o.zones or nil,
    instance_type = o.instance_type ~= "" and o.instance_type or nil,
    spot = c.spot, rate_hr = round(c.rate * ev.nodes, 4), rate_per_gpu_hr = round(c.rate / o.count, 4),
    on_demand_rate_hr = round(o.price * ev.nodes, 4),
    duration_h = { min = round(ev.duration.min, 3), expected = round(ev.duration.expected, 3),
                   max = round(ev.duration.max, 3) },
    cost = { min = round(c.cost.min), expected = round(c.cost.expected), max = round(c.cost.max) },
    tokens_per_s = math.floor(ev.parts.tokens_per_s + 0.5),
    vram = { need_gb = round(ev.need, 1), with_margin_gb = round(ev.need * ev.margin, 1),
             usable_gb = round(ev.usable, 1) },
    reasons = reasons,
  }
end

-- The first `limit` ranked options (already one per cloud, instance type and spot), presented.
local function dedupe(options, limit)
  local out = {}
  for i = 1, math.min(limit, #options) do
    local c = options[i]
    local p = present(c)
    p.regions = { table.unpack(c.regions or { c.offer.region }) }
    out[#out + 1] = p
  end
  return out
end

---------------------------------------------------------------------------------------------
-- model and dataset facts

local function model_facts(req, warnings, assumptions)
  if req.model_info then
    local mi = req.model_info
    if not mi.params_b then
      mi.params_b = tonumber(req.params_b) or sizing.params_from_name(req.model)
    end
    return mi
  end
  local mi, msg, code
  if req.params_b then
    mi = { id = req.model, params_b = tonumber(req.params_b), params_source = "request" }
  else
    local hf = require "vibeml.hf"
    mi, msg, code = hf.model_info(req.model, { offline = req.offline, timeout = req.timeout })
    if not mi and (code == "VML_ENOENT" or code == "VML_EAUTH" or code == "VML_EINVAL") then
      return nil, msg, code
    end
    if not mi then
      local p = sizing.params_from_name(req.model)
      if not p then
        return nil, string.format("cannot tell the size of '%s': %s, and the name carries no size "
          .. "(like 8B). Pass params_b (CLI: --params-b).", req.model,
          req.offline and "planning offline" or tostring(msg)), "VML_EINVAL"
      end
      mi = { id = req.model, params_b = p, params_source = "name", gated = nil }
      assumptions[#assumptions + 1] = string.format("%s; assumed %g B parameters from the model "
        .. "name '%s'", req.offline and "Hugging Face not consulted (offline)"
        or ("Hugging Face not reachable (" .. tostring(msg) .. ")"), p, req.model)
    elseif not mi.params_b then
      local p = sizing.params_from_name(req.model) or (mi.used_storage and mi.used_storage / 2e9)
      if not p then
        return nil, string.format("Hugging Face lists no parameter count for '%s' and the name "
          .. "carries no size; pass params_b (CLI: --params-b)", req.model), "VML_EINVAL"
      end
      mi.params_b, mi.params_source = p, "name"
      assumptions[#assumptions + 1] = string.format("the Hub lists no safetensors parameter count "
        .. "for '%s'; assumed %g B from its name or size", req.model, p)
    end
  end
  if mi.quantized then
    assumptions[#assumptions + 1] = string.format("'%s' is a pre-quantized 4-bit repo: counted "
      .. "%.2f B parameters after unpacking", req.model, mi.params_b)
  end
  if mi.gated then
    local has_token = os.getenv("HF_TOKEN") ~= nil
    local ok, secrets = pcall(require, "vibeml.secrets")
    if ok and type(secrets) == "table" and type(secrets.has) == "function" then
      local ok2, h = pcall(secrets.has, "HF_TOKEN")
      has_token = has_token or (ok2 and h)
    end
    if mi.access == "denied" then
      warnings[#warnings + 1] = string.format("Model '%s' is gated and your HF_TOKEN has no access "
        .. "yet: accept its license at %s/%s, then plan again", req.model,
        os.getenv("HF_ENDPOINT") or "https://huggingface.co", req.model)
    elseif not has_token then
      warnings[#warnings + 1] = string.format("Model '%s' is gated: accept its license on Hugging "
        .. "Face and store a token with `vibeml secrets set HF_TOKEN` before launching", req.model)
    end
  end
  return mi
end

local function dataset_facts(req, warnings, assumptions)
  if req.dataset_info then return req.dataset_info end
  local known = req.dataset and M.KNOWN_DATASETS[req.dataset]
  if not req.dataset then
    assumptions[#assumptions + 1] = string.format("no dataset given: assumed %d rows of %d tokens",
      M.DEFAULT_ROWS, M.DEFAULT_MEAN_TOKENS)
    return { rows = M.DEFAULT_ROWS, mean_tokens = M.DEFAULT_MEAN_TOKENS, source = "assumed" }
  end
  local hf = require "vibeml.hf"
  local di, msg, code = hf.dataset_info(req.dataset, { offline = req.offline, timeout = req.timeout })
  if not di and (code == "VML_ENOENT" or code == "VML_EAUTH" or code == "VML_EINVAL") then
    return nil, msg, code
  end
  if not di then
    di = { id = req.dataset, source = "assumed" }
    assumptions[#assumptions + 1] = string.format("dataset '%s' not looked up (%s)", req.dataset,
      req.offline and "offline" or tostring(msg))
  end
  if not di.rows then
    di.rows = known and known.rows or M.DEFAULT_ROWS
    assumptions[#assumptions + 1] = string.format("%d rows in '%s'%s", di.rows, req.dataset,
      known and " (its known size)" or " (a default)")
  end
  if not di.mean_tokens then
    di.mean_tokens = known and known.mean_tokens or M.DEFAULT_MEAN_TOKENS
    assumptions[#assumptions + 1] = string.format("%d tokens per row%s", di.mean_tokens,
      known and "" or " (a default)")
  end
  di.format = di.format or (known and known.format)
  if di.format == "preference" then
    warnings[#warnings + 1] = string.format("dataset '%s' holds preference pairs (chosen/rejected); "
      .. "the supervised workflows need instruction, chat or text data", req.dataset)
  end
  if di.gated then
    warnings[#warnings + 1] = string.format("dataset '%s' is gated: the job needs HF_TOKEN", req.dataset)
  end
  return di
end

---------------------------------------------------------------------------------------------

local function choose_workflow(req, params_b, estimate)
  local w = workflows_module()
  if w and type(w.select) == "function" then
    local ok, pick, why = pcall(w.select, { model = req.model, params_b = params_b,
                                            max_cost = req.max_cost, deadline_h = req.deadline_h,
                                            preference = req.preference }, estimate)
    if ok and type(pick) == "table" and pick.name then pick = pick.name end
    if ok and type(pick) == "string" and pick ~= "smoke" then
      return pick, type(why) == "string" and why or "selected by the workflow registry"
    end
  end
  -- QLoRA (Unsloth) is the cheapest per quality point at every size it supports; LoRA beyond.
  for _, name in ipairs({ "unsloth", "lora", "full" }) do
    local wf = M.workflow(name)
    local sz = wf and wf.model_sizes or {}
    if wf and params_b >= (sz.min_b or 0) and params_b <= (sz.max_b or math.huge) then
      return name, string.format("%s: the lowest cost for a %g B model", wf.title or name, params_b)
    end
  end
  return "unsloth", "default"
end

local function validate_params(name, hp, req)
  local w = workflows_module()
  if w and type(w.validate) == "function" then
    local h = {}
    for k, v in pairs(hp or {}) do h[k] = v end
    -- the request's epochs/max_steps are workflow hyperparameters too
    if req.epochs ~= nil and h.epochs == nil then h.epochs = req.epochs end
    if req.max_steps ~= nil and h.max_steps == nil then h.max_steps = req.max_steps end
    -- planning may go without a dataset: a stand-in id lets the hyperparameters be checked
    local ok, clean, err = pcall(w.validate, name, { model = req.model,
                                                     dataset = req.dataset or "planning/no-dataset",
                                                     hyperparameters = h })
    if ok and clean then return clean.hyperparameters or {} end
    if ok then return nil, err end
    return nil, tostring(type(clean) == "table" and clean.message or clean)
  end
  return hp or {}
end

local function gpu_constraint(req)
  if req.gpu == nil or req.gpu == "" then return nil end
  local name, err = gpus.resolve(req.gpu)
  if not name then return nil, err end
  return name
end

local function context(req, wfname, mi, di)
  local wf = M.workflow(wfname)
  if not wf then return nil, "unknown workflow '" .. tostring(wfname) .. "'" end
  local method = method_of(wf)
  if not method then return nil, "workflow '" .. wfname .. "' does not train on GPUs" end
  local hp, err = validate_params(wfname, req.hyperparameters or req.params, req)
  if not hp then return nil, err end
  return { wf = wf, method = method, params_b = mi.params_b, shape = shape(req, hp), hp = hp,
           data = { rows = di.rows, mean_tokens = di.mean_tokens } }
end

local function cheapest(ctx, cons)
  local opts = M.solve(ctx, cons, true)
  return opts[1]
end

local function describe(c)
  return string.format("%d× %s on %s %s (%s) ≈ %s, %.1f h", c.ev.n, c.offer.gpu, c.offer.cloud,
    c.offer.region, c.spot and "spot" or "on-demand", fmt_money(c.cost.expected),
    c.ev.duration.expected)
end

-- What would work when nothing fits: relax one constraint at a time and price the result.
local function suggestions(req, ctx, cons, rejected, mi, di)
  local out = {}
  local function add(text, c, extra)
    local s = { text = text }
    if c then s.option = present(c); s.cost = s.option.cost.expected end
    for k, v in pairs(extra or {}) do s[k] = v end
    out[#out + 1] = s
  end
  local nofilter = { spot = cons.spot }
  local free = cheapest(ctx, nofilter)
  if cons.gpu or cons.gpus then
    local c = cheapest(ctx, { spot = cons.spot, cloud = cons.cloud, region = cons.region,
                              max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    if c then
      add(string.format("a bigger or different GPU: %s", describe(c)), c, { gpu = c.offer.gpu, gpus = c.ev.n })
    end
  end
  if cons.cloud or cons.region then
    local c = cheapest(ctx, { spot = cons.spot, gpu = cons.gpu, gpus = cons.gpus,
                              max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    if c then add(string.format("another cloud or region: %s", describe(c)), c) end
  end
  if cons.spot ~= nil then
    local relaxed = {}
    for k, v in pairs(cons) do relaxed[k] = v end
    relaxed.spot = nil
    local c = cheapest(ctx, relaxed)
    if c then add(string.format("%s: %s", cons.spot and "on-demand" or "spot", describe(c)), c) end
  end
  if ctx.method ~= "qlora" then
    local qctx = context(req, "unsloth", mi, di)
    local c = qctx and cheapest(qctx, cons)
    if not c and qctx and (cons.gpu or cons.gpus) then
      c = cheapest(qctx, { spot = cons.spot, cloud = cons.cloud, region = cons.region,
                           max_cost = cons.max_cost, deadline_h = cons.deadline_h })
    end
    if c then
      add(string.format("QLoRA (workflow unsloth) instead of %s: %s", ctx.method, describe(c)), c,
        { workflow = "unsloth" })
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
        local r2 = {}
        for k, v in pairs(req) do r2[k] = v end
        local ctx2 = {}
        for k, v in pairs(ctx) do ctx2[k] = v end
        ctx2.shape = {}
        for k, v in pairs(ctx.shape) do ctx2.shape[k] = v end
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
        fmt_money(free.cost.expected), fmt_money(cons.max_cost)), free)
    end
  end
  if cons.deadline_h then
    local relaxed = {}
    for k, v in pairs(cons) do relaxed[k] = v end
    relaxed.deadline_h = nil
    local opts = M.solve(ctx, relaxed)
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

local function task_preview(req, wfname, mi, di, ctx, ranked, best)
  local w = workflows_module()
  if not w or type(w.build) ~= "function" then return nil, "workflow module not installed" end
  if not req.dataset then return nil, "give a dataset to see the task that would be launched" end
  local cands, seen = {}, {}
  for _, c in ipairs(ranked) do
    local o = c.offer
    local key = table.concat({ o.gpu, o.count, o.cloud, o.region, tostring(c.spot), o.instance_type }, "|")
    if not seen[key] and c.ev.nodes == best.nodes then
      seen[key] = true
      -- marketplace "regions" (Vast: "Japan, JP, AS") are locations, not names a task can carry
      local region = o.region:match("^[%w_.:%-]+$") and o.region or nil
      -- rate_hr (USD per node-hour) travels with each candidate so a job is billed at the rate
      -- of the candidate SkyPilot actually runs, not the first one's
      cands[#cands + 1] = { accelerator = o.gpu, count = o.count, cloud = o.cloud, region = region,
                            spot = c.spot, instance_type = o.instance_type ~= "" and o.instance_type or nil,
                            rate_hr = c.rate }
      if #cands >= 5 then break end
    end
  end
  local p = {
    job_name = req.job_name, model = req.model, dataset = req.dataset,
    dataset_format = di.format, hyperparameters = ctx.hp,
    model_info = { params_b = mi.params_b, gated = mi.gated and true or false },
    candidates = cands, num_nodes = best.nodes,
    checkpoint_bucket = req.checkpoint_bucket, push_to_hub = req.push_to_hub,
    hub_private = req.hub_private,
  }
  local ok, task, err = pcall(w.build, wfname, p)
  if not ok then return nil, tostring(type(task) == "table" and task.message or task) end
  if not task then return nil, err end
  return task, nil, cands
end

-- The user's saved preferences (vibeml config / set_preferences) fill what the request leaves
-- out: cloud, region, gpu and workflow narrow the plan; spot = false means on-demand only (spot =
-- true only allows spot, it does not exclude on-demand). req.ignore_preferences skips them.
apply_preferences = function(req, assumptions)
  if req.ignore_preferences then return req end
  local ok, prefs = pcall(require, "vibeml.prefs")
  if not ok or type(prefs) ~= "table" or type(prefs.get) ~= "function" then return req end
  local ok2, p = pcall(prefs.get)
  if not ok2 or type(p) ~= "table" then return req end
  local out, used = {}, {}
  for k, v in pairs(req) do out[k] = v end
  local function pref(key, field, value)
    if value == nil or vibeml.isnull(value) or out[field] ~= nil then return end
    out[field] = value
    used[#used + 1] = key .. " " .. tostring(value)
  end
  pref("cloud", "cloud", p.cloud)
  pref("region", "region", p.region)
  pref("gpu", "gpu", p.gpu)
  pref("workflow", "workflow", p.workflow)
  if p.spot == false then pref("spot", "spot", false) end
  if #used > 0 then
    assumptions[#assumptions + 1] = "from your preferences: " .. table.concat(used, ", ")
      .. " (change with `vibeml config set KEY VALUE`, or pass the option)"
  end
  return out
end

-- Warnings when the expected cost meets the money limits (vibeml.money), before any launch.
local function budget_warnings(best, warnings)
  local ok, money = pcall(require, "vibeml.money")
  if not ok or type(money) ~= "table" or type(money.status) ~= "function" then return end
  local ok2, st = pcall(money.status)
  if not ok2 or type(st) ~= "table" then return end
  local c = best.cost.expected
  if st.per_job_cap and c > st.per_job_cap then
    warnings[#warnings + 1] = string.format("the expected cost %s is over your per-job cap of %s: "
      .. "a launch needs your approval (or set a lower max_cost)", fmt_money(c), fmt_money(st.per_job_cap))
  end
  if st.remaining and c > st.remaining then
    warnings[#warnings + 1] = string.format("the expected cost %s is more than the %s left in this "
      .. "month's budget", fmt_money(c), fmt_money(math.max(st.remaining, 0)))
  end
end

-- true / false when the Hub said; "unknown" when it was not asked (offline) or did not answer:
-- a gated model then fails on the VM without HF_TOKEN, so the plan must not claim it is open.
function gated_field(mi)
  if mi.gated == nil then return "unknown" end
  return mi.gated and true or false
end

function M.plan(req)
  if type(req) ~= "table" then return nil, "plan needs a request table", "VML_EINVAL" end
  if type(req.model) ~= "string" or req.model == "" then
    return nil, "model is required (a Hugging Face id such as meta-llama/Llama-3.1-8B)", "VML_EINVAL"
  end
  local warnings, assumptions = {}, {}
  req = apply_preferences(req, assumptions)
  local cons = { cloud = req.cloud, region = req.region, spot = req.spot,
                 max_cost = tonumber(req.max_cost), deadline_h = tonumber(req.deadline_h),
                 gpus = req.gpus and math.tointeger(tonumber(req.gpus)) or nil }
  if req.gpus and (not cons.gpus or cons.gpus < 1) then
    return nil, "gpus must be a whole number ≥ 1", "VML_EINVAL"
  end
  local gerr
  cons.gpu, gerr = gpu_constraint(req)
  if gerr then return nil, gerr, "VML_EINVAL" end
  -- cloud, region and preference names: matched by the one rule (vibeml.names), refused with
  -- the closest valid names
  if cons.cloud then
    local seen, clouds = {}, {}
    for _, c in ipairs(gpus.clouds()) do seen[c] = true; clouds[#clouds + 1] = c end
    for _, o in ipairs(catalog.offers()) do
      if not seen[o.cloud] then seen[o.cloud] = true; clouds[#clouds + 1] = o.cloud end
    end
    local c = names.match(cons.cloud, names.cloud_entries(clouds))
    if not c then
      return nil, (names.unknown("cloud", cons.cloud, names.cloud_entries(clouds))
        :gsub("^unknown cloud '([^']*)'", "cloud '%1' has no GPU offers in the catalog")), "VML_EINVAL"
    end
    cons.cloud = c
  end
  if cons.region then
    local seen, regions = {}, {}
    for _, o in ipairs(catalog.offers()) do
      if (not cons.cloud or o.cloud == cons.cloud) and not seen[o.region] then
        seen[o.region] = true; regions[#regions + 1] = o.region
      end
    end
    table.sort(regions)
    local r = names.match(cons.region, regions)
    if not r then
      return nil, (names.unknown("region", cons.region, regions, { max_listed = 25 })
        :gsub("^unknown region '([^']*)'", "region '%1' has no GPU offers in the catalog"
          .. (cons.cloud and (" for " .. cons.cloud) or ""))), "VML_EINVAL"
    end
    cons.region = r
  end
  if req.preference ~= nil then
    local list = { { name = "cheapest", aliases = { "cheap", "lowest-cost" } }, { name = "balanced" },
                   { name = "best_quality", aliases = { "best", "quality", "best-quality" } } }
    local pr = names.match(req.preference, list)
    if not pr then return nil, (names.unknown("preference", req.preference, list)), "VML_EINVAL" end
    req.preference = pr
  end
  -- a CPU-only workflow (smoke) trains its own tiny model on its own text: the model and the
  -- dataset are labels, so no size and no Hub lookup is needed (and none is made)
  local cpu_wf = req.workflow and M.workflow(req.workflow)
  if cpu_wf and (cpu_wf.vram or {}).cpu_only then
    local label = { id = req.model, params_b = tonumber(req.params_b) or sizing.params_from_name(req.model or "") or 0,
                    params_source = "label", gated = false }
    local hp = req.hyperparameters or {}
    local what = hp.dataset_file and ("the local file " .. tostring(hp.dataset_file)) or "its built-in text"
    assumptions[#assumptions + 1] = string.format("workflow '%s' trains a tiny character model on %s; "
      .. "the model%s name%s only a label", req.workflow, what, req.dataset and " and dataset" or "",
      req.dataset and "s are" or " is")
    return M.plan_cpu(req, req.workflow, cpu_wf, label,
      { rows = 0, mean_tokens = 0, source = hp.dataset_file and "file" or "builtin" }, warnings, assumptions)
  end
  local mi, merr, mcode = model_facts(req, warnings, assumptions)
  if not mi then return nil, merr, mcode end
  if mi.gated == nil then
    assumptions[#assumptions + 1] = string.format("whether '%s' is gated is unknown (Hugging Face %s): "
      .. "if it is, the job needs HF_TOKEN (`vibeml secrets set HF_TOKEN`)", req.model,
      req.offline and "not consulted offline" or "did not say")
  end
  local di, derr, dcode = dataset_facts(req, warnings, assumptions)
  if not di then return nil, derr, dcode end

  local wfname, why = req.workflow, "requested"
  if wfname and not M.workflow(wfname) then
    -- any case, a plural, or a method name where a workflow is expected ("LoRA", "qlora"):
    -- the one name rule (workflows.resolve), refused with the closest workflows
    local w = workflows_module()
    local okr, c, rmsg = false, nil, nil
    if w and type(w.resolve) == "function" then okr, c, rmsg = pcall(w.resolve, wfname) end
    if okr and c then
      if c ~= wfname and names.key(c) ~= names.key(wfname) then why = "the workflow for " .. wfname end
      wfname = c
    elseif wfname == "qlora" and not M.workflow("qlora") then wfname = "unsloth"
    elseif okr and rmsg then return nil, rmsg, "VML_EINVAL" end
  end
  -- the cheapest option per workflow, computed once per plan (selection and alternatives)
  local cheap_memo = {}
  local function cheapest_of(name, c)
    if cheap_memo[name] == nil then cheap_memo[name] = cheapest(c, cons) or false end
    return cheap_memo[name] or nil
  end
  if not wfname or wfname == "" then
    -- the registry chooses with real numbers: the cheapest option of each workflow
    local function estimate(name)
      local ectx = context(req, name, mi, di)
      local c = ectx and cheapest_of(name, ectx)
      if not c then return nil end
      return { cost = c.cost.expected, duration_h = c.ev.duration.expected }
    end
    wfname, why = choose_workflow(req, mi.params_b, estimate)
  end
  local wfd = M.workflow(wfname)
  if wfd and wfd.gpu and wfd.gpu.required == false then
    return M.plan_cpu(req, wfname, wfd, mi, di, warnings, assumptions)
  end
  local ctx, cerr = context(req, wfname, mi, di)
  if not ctx then
    return nil, string.format("%s. Available workflows: %s", cerr, table.concat(workflow_names(), ", ")),
      "VML_EINVAL"
  end
  local sz = ctx.wf.model_sizes or {}
  if mi.params_b < (sz.min_b or 0) or mi.params_b > (sz.max_b or math.huge) then
    -- the workflow's scripts, memory model and tests cover this range only
    local fit = M.workflows_for_size(mi.params_b)
    return nil, string.format("workflow '%s' trains models of %g-%g B parameters; %s has %.1f B. %s",
      wfname, sz.min_b or 0, sz.max_b or 0, req.model, mi.params_b,
      #fit > 0 and ("Use workflow " .. table.concat(fit, " or ") .. ".")
        or "No installed workflow covers this size."), "VML_EINVAL",
      { workflows = vibeml.array(fit) }
  end
  local ranked, rejected = M.solve(ctx, cons)
  if #ranked == 0 then
    local sugg = suggestions(req, ctx, cons, rejected, mi, di)
    local parts = {}
    if rejected.vram > 0 then parts[#parts + 1] = string.format("%d too small for the VRAM needed", rejected.vram) end
    if rejected.budget > 0 then parts[#parts + 1] = string.format("%d over max_cost %s", rejected.budget, fmt_money(cons.max_cost)) end
    if rejected.deadline > 0 then parts[#parts + 1] = string.format("%d past the %g h deadline", rejected.deadline, cons.deadline_h) end
    if rejected.count > 0 then parts[#parts + 1] = string.format("%d with another GPU count", rejected.count) end
    if rejected.filter > 0 then parts[#parts + 1] = string.format("%d in other clouds/regions", rejected.filter) end
    if rejected.hardware > 0 then parts[#parts + 1] = string.format("%d on GPUs workflow '%s' cannot run on", rejected.hardware, wfname) end
    if rejected.storage > 0 then parts[#parts + 1] = string.format("%d on clouds where SkyPilot cannot mount the bucket that keeps a job's checkpoints and output (Vast)", rejected.storage) end
    local need = sizing.vram_gb(ctx.method, mi.params_b, { seq_len = ctx.shape.seq_len,
      batch = ctx.shape.batch, rank = ctx.shape.rank, optimizer = ctx.shape.optimizer, vram = ctx.wf.vram })
    local msg = string.format("No GPU offer fits %s of %s (%.1f B parameters, %.0f GB on one GPU) "
      .. "within the constraints (offers ruled out: %s).", wfname, req.model, mi.params_b, need,
      #parts > 0 and table.concat(parts, ", ") or "none in the catalog")
    if #sugg > 0 then
      local lines = {}
      for _, s in ipairs(sugg) do lines[#lines + 1] = "  - " .. s.text end
      msg = msg .. " What would work:\n" .. table.concat(lines, "\n")
    end
    for _, sg in ipairs(sugg) do
      if sg.option then vibeml.array(sg.option.reasons); vibeml.array(sg.option.regions) end
    end
    return nil, msg, "VML_ELIMIT", { suggestions = vibeml.array(sugg), rejected = rejected }
  end
  local options = dedupe(ranked, tonumber(req.limit) or M.DEFAULT_LIMIT)
  local best = options[1]
  local top = ranked[1]
  if best.spot then
    warnings[#warnings + 1] = "the cheapest option is spot capacity: it can be preempted; the job "
      .. "checkpoints and SkyPilot resumes it, and the estimate includes the expected recovery cost"
  end
  if cons.max_cost and best.cost.max > cons.max_cost then
    warnings[#warnings + 1] = string.format("the expected cost %s is within max_cost %s, but the "
      .. "pessimistic estimate %s is not", fmt_money(best.cost.expected), fmt_money(cons.max_cost),
      fmt_money(best.cost.max))
  end
  budget_warnings(best, warnings)
  if best.nodes > 1 then
    warnings[#warnings + 1] = string.format("the model needs %d GPUs on %d nodes (multi-node training)",
      best.count, best.nodes)
  end
  assumptions[#assumptions + 1] = string.format("training tokens: %s", select(2, sizing.tokens {
    rows = di.rows, mean_tokens = di.mean_tokens, epochs = ctx.shape.epochs,
    max_steps = ctx.shape.max_steps, batch = ctx.shape.batch, grad_accum = ctx.shape.grad_accum,
    gpus = best.count, seq_len = ctx.shape.seq_len, packing = ctx.shape.packing,
    max_samples = ctx.shape.max_samples }))
  -- the cheapest plan per GPU workflow, for comparison
  local alternatives = {}
  for _, name in ipairs(M.GPU_WORKFLOWS) do
    if name == wfname then
      alternatives[#alternatives + 1] = { workflow = name, method = ctx.method, chosen = true,
        cost = best.cost, gpu = best.gpu, count = best.count, duration_h = best.duration_h }
    else
      local actx = context(req, name, mi, di)
      local asz = actx and actx.wf.model_sizes or {}
      if actx and (mi.params_b < (asz.min_b or 0) or mi.params_b > (asz.max_b or math.huge)) then
        actx = nil
        alternatives[#alternatives + 1] = { workflow = name, method = M.workflow(name).method,
          feasible = false }
      end
      local c = actx and cheapest_of(name, actx)
      if c then
        local p = present(c)
        alternatives[#alternatives + 1] = { workflow = name, method = actx.method, cost = p.cost,
          gpu = p.gpu, count = p.count, duration_h = p.duration_h }
      elseif actx then
        alternatives[#alternatives + 1] = { workflow = name, method = actx.method, feasible = false }
      end
    end
  end
  for _, o in ipairs(options) do vibeml.array(o.reasons); vibeml.array(o.regions) end
  local plan = {
    request = req,
    model_info = { id = mi.id or req.model, params_b = mi.params_b, params_source = mi.params_source,
                   gated = gated_field(mi), private = mi.private, quantized = mi.quantized,
                   access = mi.access, cached = mi.cached },
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
    alternatives = vibeml.array(alternatives),
    warnings = vibeml.array(warnings),
    assumptions = vibeml.array(assumptions),
    catalog = catalog.info().sources,
  }
  if not req.no_task then
    local task, terr, cands = task_preview(req, wfname, mi, di, ctx, ranked, best)
    plan.task = task
    plan.candidates = cands and vibeml.array(cands) or nil
    if not task then plan.task_note = "no task preview: " .. tostring(terr) end
  end
  return plan
end

-- Workflows that need no GPU (smoke: a tiny CPU run that checks the whole pipeline): no GPU
-- offers to rank; duration and cost come from the descriptor's typical ranges.
function M.plan_cpu(req, wfname, wf, mi, di, warnings, assumptions)
  local hp, err = validate_params(wfname, req.hyperparameters or req.params, req)
  if not hp then return nil, err, "VML_EINVAL" end
  local t = wf.typical or {}
  local dh = t.duration_h or { 0.05, 0.2 }
  local cu = t.cost_usd or { 0, 0 }
  local best = {
    gpu = nil, count = 0, gpus_per_node = 0, nodes = 1, cloud = req.cloud or "local",
    -- on a cloud the run still rents a small CPU VM (typical.cpu_rate_hr); local runs cost nothing
    region = req.region or "", regions = vibeml.array(), spot = false, rate_hr = t.cpu_rate_hr or 0,
    rate_per_gpu_hr = 0, duration_h = { min = dh[1], expected = (dh[1] + dh[2]) / 2, max = dh[2] },
    cost = { min = cu[1], expected = (cu[1] + cu[2]) / 2, max = cu[2] },
    vram = { need_gb = 0, with_margin_gb = 0, usable_gb = 0 },
    reasons = vibeml.array { string.format("workflow '%s' runs on CPU: no GPU to rent; on the "
      .. "local backend it costs nothing, on a cloud VM its small hourly rate", wfname) },
  }
  assumptions[#assumptions + 1] = string.format("duration and cost from workflow '%s''s typical "
    .. "ranges", wfname)
  local plan = {
    request = req, workflow = wfname, workflow_reason = "requested", method = wf.method or "other",
    model_info = { id = mi.id or req.model, params_b = mi.params_b, params_source = mi.params_source,
                   gated = gated_field(mi) },
    dataset_info = di, hyperparameters = hp, tokens = 0, vram = best.vram, best = best,
    options = vibeml.array { best }, feasible_offers = 0, alternatives = vibeml.array(),
    warnings = vibeml.array(warnings), assumptions = vibeml.array(assumptions),
    catalog = catalog.info().sources,
  }
  if not req.no_task then
    local w = workflows_module()
    if w and type(w.build) == "function" and (req.dataset or (wf.vram or {}).cpu_only) then
      local ok, task, terr = pcall(w.build, wfname, {
        job_name = req.job_name, model = req.model, dataset = req.dataset,
        dataset_format = di.format, hyperparameters = hp,
        model_info = { params_b = mi.params_b, gated = mi.gated and true or false },
        candidates = {}, num_nodes = 1, push_to_hub = req.push_to_hub, hub_private = req.hub_private })
      if ok and task then plan.task = task
      else plan.task_note = "no task preview: " .. tostring(ok and terr or task) end
    else
      plan.task_note = "no task preview: give a dataset to see the task that would be launched"
    end
  end
  return plan
end

-- A lighter entry point for tools: price GPU × count × hours (prd "Cost Estimation").
-- req: gpu, count (1), hours, spot (nil = both), cloud, region. Returns {rows = {...}} | nil, err.
function M.estimate(req)
  local name, err = gpus.resolve(req.gpu)
  if not name then return nil, err, "VML_EINVAL" end
  local hours = tonumber(req.hours)
  if not hours or hours <= 0 then return nil, "hours must be a positive number", "VML_EINVAL" end
  local count = math.tointeger(tonumber(req.count or 1))
  if not count or count < 1 then return nil, "count must be a whole number ≥ 1", "VML_EINVAL" end
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
      req.region and (" in " .. req.region) or ""), "VML_ENOENT"
  end
  return { gpu = name, count = count, hours = hours, rows = vibeml.array(rows) }
end


-- A plan that fails because of a saved preference says so, and how to clear it: the
-- preferences the request did not override whose value the message names, or, when nothing
-- fits the constraints (VML_ELIMIT), every preference that narrowed the plan.
local plan_unexplained = M.plan
function M.plan(req)
  local p, err, code, info = plan_unexplained(req)
  if p or type(req) ~= "table" or req.ignore_preferences or type(err) ~= "string" then
    return p, err, code, info
  end
  local ok, prefs = pcall(require, "vibeml.prefs")
  local okg, pv = false, nil
  if ok and type(prefs) == "table" and type(prefs.get) == "function" then okg, pv = pcall(prefs.get) end
  if not okg or type(pv) ~= "table" then return p, err, code, info end
  local low, used = err:lower(), {}
  for _, k in ipairs({ "gpu", "cloud", "region", "workflow", "spot" }) do
    local v = pv[k]
    if v ~= nil and not vibeml.isnull(v) and req[k] == nil and (k ~= "spot" or v == false)
       and (code == "VML_ELIMIT" or (k ~= "spot" and low:find(tostring(v):lower(), 1, true))) then
      used[#used + 1] = k
    end
  end
  if #used == 0 then return p, err, code, info end
  local parts, clear, tool = {}, {}, {}
  for _, k in ipairs(used) do
    local off = k == "spot" and "true" or "null"
    parts[#parts + 1] = k .. "=" .. tostring(pv[k])
    clear[#clear + 1] = "`vibeml config set " .. k .. " " .. off .. "`"
    tool[#tool + 1] = string.format('"%s": %s', k, off)
  end
  return nil, string.format("%s (your preference%s %s: %s to clear %s; MCP: set_preferences {%s}; "
    .. "or pass the option)", err, #used > 1 and "s" or "", table.concat(parts, ", "),
    table.concat(clear, " and "), #used > 1 and "them" or "it", table.concat(tool, ", ")), code, info
end

return M

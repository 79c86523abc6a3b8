-- bench/plan — planner latency over the whole catalog, and VibeML's choice against a manual
-- baseline with a brute-force check. Run: vibeml run bench/plan/plan_bench.lua [--json]
-- (offline: sizes are given, so no network; prices from the catalog the binary would use).
local planner = require "vibeml.planner"
local catalog = require "vibeml.catalog"
local gpus = require "vibeml.gpus"
local sizing = require "vibeml.sizing"

local want_json = false
for _, a in ipairs(arg or {}) do if a == "--json" then want_json = true end end

local function median(xs)
  local t = {}
  for i, x in ipairs(xs) do t[i] = x end
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  if n % 2 == 1 then return t[(n + 1) // 2] end
  return (t[n // 2] + t[n // 2 + 1]) / 2
end
local function pct(xs, p)
  local t = {}
  for i, x in ipairs(xs) do t[i] = x end
  table.sort(t)
  return t[math.max(1, math.ceil(#t * p))]
end

-------------------------------------------------------------------------------------------
-- 1. latency
local t0 = vibeml.monotonic()
local offers = catalog.offers()
local index_ms = (vibeml.monotonic() - t0) * 1000
gpus.get("H100")

local LAT_REQS = {
  { model = "meta-llama/Llama-3.1-8B", params_b = 8.03, dataset = "yahma/alpaca-cleaned",
    dataset_info = { rows = 51760, mean_tokens = 240 }, workflow = "unsloth" },
  { model = "meta-llama/Llama-3.1-70B", params_b = 70.6, dataset_info = { rows = 20000, mean_tokens = 400 },
    workflow = "full" },
  { model = "Qwen/Qwen2.5-14B", params_b = 14.8, dataset_info = { rows = 50000, mean_tokens = 300 } },
}
local lat = {}
for _, base in ipairs(LAT_REQS) do
  local times, times_task, cpu = {}, {}, {}
  for i = 1, 25 do
    local r = {}
    for k, v in pairs(base) do r[k] = v end
    r.offline, r.no_task, r.ignore_preferences = true, true, true
    local s, c = vibeml.monotonic(), os.clock()
    assert(planner.plan(r))
    times[#times + 1] = (vibeml.monotonic() - s) * 1000
    cpu[#cpu + 1] = (os.clock() - c) * 1000
    r.no_task = nil
    s = vibeml.monotonic()
    assert(planner.plan(r))
    times_task[#times_task + 1] = (vibeml.monotonic() - s) * 1000
  end
  lat[#lat + 1] = { model = base.model, workflow = base.workflow or "(chosen)",
                    median_ms = median(times), p95_ms = pct(times, 0.95), median_cpu_ms = median(cpu),
                    median_with_task_ms = median(times_task) }
end

-------------------------------------------------------------------------------------------
-- 2. cost: VibeML's choice vs on-demand A100-80GB on AWS us-east-1, as many as fit

local MODELS = {
  { "meta-llama/Llama-3.2-1B", 1.24 }, { "meta-llama/Llama-3.2-3B", 3.21 },
  { "meta-llama/Llama-3.1-8B", 8.03 }, { "Qwen/Qwen2.5-14B", 14.8 },
  { "Qwen/Qwen2.5-32B", 32.8 }, { "meta-llama/Llama-3.1-70B", 70.6 },
}
local DATA = {
  { "yahma/alpaca-cleaned", 51760, 240, 1 },
  { "databricks/databricks-dolly-15k", 15011, 360, 3 },
  { "HuggingFaceH4/ultrachat_200k", 207865, 1400, 1 },
}
local REQS = {}
for mi, m in ipairs(MODELS) do
  for wi, wf in ipairs { "unsloth", "lora", "full" } do
    local d = DATA[(mi - 1) % #DATA + 1] -- one dataset per model, so workflows compare
    REQS[#REQS + 1] = { model = m[1], params_b = m[2], workflow = wf, dataset = d[1],
                        dataset_info = { rows = d[2], mean_tokens = d[3] }, epochs = d[4] }
  end
end
-- more sizes and data, and constrained variants people ask for
for _, wf in ipairs { "unsloth", "lora", "full" } do
  REQS[#REQS + 1] = { model = "mistralai/Mistral-7B-v0.3", params_b = 7.25, workflow = wf,
                      dataset = "databricks/databricks-dolly-15k",
                      dataset_info = { rows = 15011, mean_tokens = 360 }, epochs = 3 }
end
REQS[#REQS + 1] = { model = "Qwen/Qwen2.5-1.5B", params_b = 1.54, workflow = "full", max_steps = 2000,
                    dataset = "yahma/alpaca-cleaned", dataset_info = { rows = 51760, mean_tokens = 240 } }
REQS[#REQS + 1] = { model = "meta-llama/Llama-3.1-8B", params_b = 8.03, workflow = "lora", spot = false,
                    dataset = "yahma/alpaca-cleaned", dataset_info = { rows = 51760, mean_tokens = 240 } }
REQS[#REQS + 1] = { model = "meta-llama/Llama-3.1-8B", params_b = 8.03, workflow = "unsloth", cloud = "nebius",
                    dataset = "yahma/alpaca-cleaned", dataset_info = { rows = 51760, mean_tokens = 240 } }
REQS[#REQS + 1] = { model = "Qwen/Qwen2.5-32B", params_b = 32.8, workflow = "lora", max_steps = 500,
                    dataset = "yahma/alpaca-cleaned", dataset_info = { rows = 51760, mean_tokens = 240 } }

-- the manual baseline: AWS us-east-1, on-demand, the A100-80GB instance (p4de.24xlarge, 8 GPUs)
local base_offer
for _, o in ipairs(catalog.by_gpu("A100-80GB")) do
  if o.cloud == "aws" and o.region == "us-east-1" and (not base_offer or o.price < base_offer.price) then
    base_offer = o
  end
end
assert(base_offer, "no A100-80GB on AWS us-east-1 in the catalog")
local a100 = gpus.get("A100-80GB")

local function shape_of(p)
  local hp = p.hyperparameters or {}
  return { seq_len = hp.max_seq_length or 2048, batch = hp.per_device_batch_size or 2,
           grad_accum = hp.gradient_accumulation_steps or 4, rank = hp.lora_r or 16,
           optimizer = hp.optim, epochs = hp.epochs or 1,
           max_steps = (hp.max_steps and hp.max_steps > 0) and hp.max_steps or nil,
           save_steps = hp.save_steps or 100, eval_fraction = hp.eval_fraction or 0,
           eval_max_rows = hp.eval_max_rows or 0 }
end

-- Whether the workflow can run on the GPU, restated from the descriptor's declarations (vendor,
-- compute capability): the baseline and the brute force count feasible offers only.
local function runs_on(wf, spec)
  local g = wf.gpu or {}
  if g.vendor and spec.vendor ~= g.vendor then return false end
  if g.min_compute_capability and not (spec.cc and spec.cc >= g.min_compute_capability) then return false end
  if g.max_compute_capability and not (spec.cc and spec.cc <= g.max_compute_capability) then return false end
  return true
end

local function price_on(p, spec, count, nodes, ic, tflops, rate, spot)
  local wf = planner.workflow(p.workflow)
  local sh = shape_of(p)
  local n = count * nodes
  local vopts = { seq_len = sh.seq_len, batch = sh.batch, rank = sh.rank, optimizer = sh.optimizer,
                  vram = wf.vram, gpus = n }
  if not sizing.fits(p.method, p.model_info.params_b, gpus.usable_gb(spec), n, vopts) then return nil end
  if not runs_on(wf, spec) then return nil end
  local tokens = sizing.tokens { rows = p.dataset_info.rows, mean_tokens = p.dataset_info.mean_tokens,
    epochs = sh.epochs, max_steps = sh.max_steps, batch = sh.batch, grad_accum = sh.grad_accum,
    gpus = n, seq_len = sh.seq_len }
  -- steps, checkpoints every save_steps, and the eval split's passes (as the scripts do them)
  local rows = p.dataset_info.rows
  local held = math.min(math.floor(rows * sh.eval_fraction), sh.eval_max_rows)
  local steps = sh.max_steps or math.ceil((rows - held) * sh.epochs / (sh.batch * sh.grad_accum * n))
  local every = math.max(sh.save_steps, math.ceil(steps / 10))
  local padded = math.min(sh.seq_len, 1.2 * p.dataset_info.mean_tokens)
  local d, parts = sizing.duration(p.method, p.model_info.params_b, spec, n, tokens,
    { nodes = nodes, interconnect = ic, bf16_tflops = tflops, throughput = wf.throughput,
      vram = wf.vram, rank = sh.rank, unsloth = p.workflow == "unsloth", steps = steps,
      save_steps = sh.save_steps, evals = held > 0 and (steps // every + 1) or 0,
      eval_tokens = held * padded })
  local c = sizing.cost(rate, d, { nodes = nodes, spot = spot, recovery_h = parts.recovery_h })
  return c.expected, d.expected
end

-- baseline: the fewest A100-80GB that fit (1, 2, 4, 8, then 8-GPU nodes), each GPU billed at
-- 1/8 of the p4de node (favourable to the baseline: AWS only rents whole nodes); also the
-- whole-node figure (what the manual user actually pays for jobs needing fewer than 8 GPUs).
local function baseline(p)
  local wf = planner.workflow(p.workflow)
  local per_gpu = base_offer.price / base_offer.count
  for _, n in ipairs { 1, 2, 4, 8, 16, 32, 64 } do
    if n <= (wf.gpu.max_count or 8) or wf.gpu.multi_node then
      local nodes = n > 8 and n // 8 or 1
      local cnt = n > 8 and 8 or n
      local cost, hours = price_on(p, a100, cnt, nodes, "nvlink", a100.bf16_tflops, per_gpu * cnt, false)
      if cost then
        local whole = cost * math.max(1, 8 / cnt)
        return { gpus = n, cost = cost, whole_node_cost = whole, hours = hours }
      end
    end
    if not sizing.shardable(p.method, { vram = wf.vram }) then break end
  end
  return nil
end

-- brute force: every offer × {on-demand, spot} × node counts, no shortcuts, same constraints
local function brute(p, req)
  local wf = planner.workflow(p.workflow)
  local best
  for _, o in ipairs(catalog.offers()) do
    local cmap = gpus.cloud_map(o.cloud)
    local ok = (not req.cloud or o.cloud == req.cloud) and (not req.region or o.region == req.region)
      and o.count <= (wf.gpu.max_count or 8)
      -- no bucket, no durable results: clouds where SkyPilot cannot mount one are not offered
      and not (cmap and cmap.storage_mount == false)
    if ok then
      local spec = gpus.get(o.gpu)
      local tflops, ic = gpus.instance_spec(spec, o.cloud, o.instance_type)
      -- several nodes only of 8-GPU NVLink machines, on clouds where SkyPilot makes multi-node
      -- clusters
      local map = gpus.cloud_map(o.cloud)
      local maxn = (wf.gpu.multi_node and o.count >= 8 and ic == "nvlink"
        and not (map and map.multi_node == false)) and 8 or 1
      local nodes = 1
      while nodes <= maxn do
        local fits = price_on(p, spec, o.count, nodes, ic, tflops, o.price, false)
        if fits then
          for _, spot in ipairs { false, true } do
            local rate = spot and o.spot_price or (not spot and o.price)
            if rate and (req.spot == nil or req.spot == spot) then
              local c = price_on(p, spec, o.count, nodes, ic, tflops, rate, spot)
              if c and (not best or c < best) then best = c end
            end
          end
          break
        end
        nodes = nodes * 2
      end
    end
  end
  return best
end

local rows, ratios, whole_ratios, od_ratios, brute_ok = {}, {}, {}, {}, 0
for _, req in ipairs(REQS) do
  local r = {}
  for k, v in pairs(req) do r[k] = v end
  r.offline, r.no_task, r.ignore_preferences = true, true, true
  local p, err = planner.plan(r)
  assert(p, err)
  local b = baseline(p)
  local bf = brute(p, req)
  local match = bf and math.abs(math.floor(bf * 100 + 0.5) / 100 - p.best.cost.expected) < 0.006
  if match then brute_ok = brute_ok + 1 end
  local ratio = b and b.cost / p.best.cost.expected
  if ratio then ratios[#ratios + 1] = ratio; whole_ratios[#whole_ratios + 1] = b.whole_node_cost / p.best.cost.expected end
  -- the same request restricted to on-demand capacity: how much of the saving is spot
  local od_ratio
  if b and req.spot == nil then
    local r2 = {}
    for k, v in pairs(r) do r2[k] = v end
    r2.spot = false
    local p2 = planner.plan(r2)
    if p2 then od_ratio = b.cost / p2.best.cost.expected; od_ratios[#od_ratios + 1] = od_ratio end
  end
  rows[#rows + 1] = {
    model = req.model:match("[^/]+$"), params_b = req.params_b, workflow = p.workflow,
    constraint = (req.spot == false and "on-demand") or (req.cloud and req.cloud) or
      (req.max_steps and ("steps " .. req.max_steps)) or "",
    choice = string.format("%d× %s %s %s%s", p.best.count, p.best.gpu, p.best.cloud, p.best.region:sub(1, 14),
      p.best.spot and " spot" or ""),
    cost = p.best.cost.expected, hours = p.best.duration_h.expected,
    base_gpus = b and b.gpus, base_cost = b and b.cost, base_hours = b and b.hours,
    base_whole = b and b.whole_node_cost, ratio = ratio, od_ratio = od_ratio, brute = bf,
    brute_match = match,
  }
end

local summary = {
  catalog_offers = #offers, catalog_index_ms = index_ms, latency = lat,
  requests = #rows, ratio_median = median(ratios), ratio_min = pct(ratios, 0),
  ratio_max = pct(ratios, 1), ratio_whole_node_median = median(whole_ratios),
  ratio_whole_node_min = pct(whole_ratios, 0), ratio_whole_node_max = pct(whole_ratios, 1),
  brute_force_matches = brute_ok, ratio_on_demand_median = median(od_ratios),
  ratio_on_demand_min = pct(od_ratios, 0), ratio_on_demand_max = pct(od_ratios, 1), baseline = string.format("%s on-demand %s %s $%.4f/h per node of %d",
    base_offer.instance_type, base_offer.cloud, base_offer.region, base_offer.price, base_offer.count),
}

if want_json then
  print(vibeml.json.encode { summary = summary, rows = rows })
  return 0
end

print(string.format("catalog: %d offers, indexed in %.1f ms (once per process)", #offers, index_ms))
print("plan latency over the whole catalog (25 runs each; target < 20 ms):")
for _, l in ipairs(lat) do
  print(string.format("  %-26s %-9s median %6.2f ms (CPU %5.2f ms)  p95 %6.2f ms  with task preview %6.2f ms  %s",
    l.model, l.workflow, l.median_ms, l.median_cpu_ms, l.p95_ms, l.median_with_task_ms,
    l.median_ms < 20 and "OK" or "SLOW"))
end
print("")
print("baseline: " .. summary.baseline .. ", as many GPUs as the job needs (billed per GPU)")
print(string.format("%-18s %5s %-8s %-10s %-34s %9s %7s | %4s %9s %7s %9s | %6s %6s %s", "model", "B",
  "workflow", "constraint", "VibeML's choice", "cost $", "hours", "A100", "base $", "hours",
  "node $", "ratio", "od", "brute"))
for _, r in ipairs(rows) do
  print(string.format("%-18s %5.1f %-8s %-10s %-34s %9.2f %7.2f | %4s %9s %7s %9s | %6s %6s %s",
    r.model:sub(1, 18), r.params_b, r.workflow, r.constraint, r.choice, r.cost, r.hours,
    r.base_gpus and tostring(r.base_gpus) or "-", r.base_cost and string.format("%.2f", r.base_cost) or "-",
    r.base_hours and string.format("%.2f", r.base_hours) or "-",
    r.base_whole and string.format("%.2f", r.base_whole) or "-",
    r.ratio and string.format("%.1f×", r.ratio) or "-", r.od_ratio and string.format("%.1f×", r.od_ratio) or "-",
    r.brute_match and "ok" or "MISMATCH"))
end
print("")
print(string.format("savings ratio (baseline ÷ VibeML, per-GPU billing): median %.1f×, range %.1f×–%.1f× over %d requests",
  summary.ratio_median, summary.ratio_min, summary.ratio_max, #ratios))
print(string.format("same requests restricted to on-demand (no spot): median %.1f×, range %.1f×–%.1f× over %d",
  summary.ratio_on_demand_median, summary.ratio_on_demand_min, summary.ratio_on_demand_max, #od_ratios))
print(string.format("savings ratio against whole p4de nodes (what AWS bills): median %.1f×, range %.1f×–%.1f×",
  summary.ratio_whole_node_median, summary.ratio_whole_node_min, summary.ratio_whole_node_max))
print(string.format("brute force: VibeML's choice is the cheapest feasible offer in %d of %d requests (%.0f%%)",
  brute_ok, #rows, 100 * brute_ok / #rows))
return brute_ok == #rows and 0 or 1

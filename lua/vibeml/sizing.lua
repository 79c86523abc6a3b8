-- vibeml.sizing — pure functions: VRAM need, GPU count, training tokens, throughput, duration and
-- cost of a fine-tuning job. No I/O; each constant below says what it was fitted to
-- (measured VRAM peaks, the throughput model's calibration points, GPU specs). A workflow
-- descriptor may carry its own constants (`vram = {...}`, `throughput = {...}`, see
-- docs/plugins.md); they override the per-method defaults below field by field.
--
--   sizing.vram_gb(method, params_b, opts)      -> need_per_gpu_gb, breakdown
--   sizing.fits(method, params_b, usable_gb, n, opts) -> bool, need, need_with_margin
--   sizing.min_gpus(method, params_b, usable_gb, opts) -> n | nil
--   sizing.tokens(opts)                         -> tokens, how (text)
--   sizing.throughput(method, params_b, gpu, n, opts) -> tokens per second (all GPUs)
--   sizing.setup(method, params_b, opts)       -> {min=, expected=, max=} seconds before the first
--                                                 step, parts (seconds, expected)
--   sizing.duration(method, params_b, gpu, n, tokens, opts) -> {min=, expected=, max=} hours, parts
--   sizing.cost(rate_hr, duration, opts)        -> {min=, expected=, max=} USD
--
-- opts: seq_len (2048), batch (per-GPU micro-batch, 2), rank (LoRA rank, 16), optimizer
-- ("adamw_8bit" for full unless told), nodes (1), interconnect ("nvlink"|"pcie"),
-- vram = {...}, throughput = {...} (workflow constants), setup = {...}, throughput_factor (measured
-- throughput ÷ this model's, from finished runs: vibeml.plan.measured; 1 when none), setup_s and
-- setup_parts (sizing.setup's results, when the caller already has them).
local M = {}

M.MARGIN = 1.2 -- need × 1.2 ≤ usable
M.REF_TOKENS = 4096 -- the table's reference: micro-batch 2 × 2048 tokens

-- Per-method VRAM constants, fitted to measured peaks (seq 2048, micro-batch 2, rank 16):
--   need = fixed + params × bytes_per_param / shards + adapters + activations (+ comm when n > 1)
--   activations = (batch × seq / 4096) × (act_coef × P^0.75 + act_base)   (P^0.75 ∝ hidden×layers)
--   adapters (LoRA) = rank × P^0.75 × 8.8e-3 GB (fp32 weights, grads, Adam states of A and B)
-- Resulting need: QLoRA 1B 2.3 · 8B 6.9 · 14B 11.3 · 32B 22.4 · 70B 44.9 GB;
--   LoRA-16 1B 5.5 · 8B 20.9 · 32B 74.8 · 70B 155.6; full (8-bit Adam) 8B 52.4; 70B on 8 GPUs
--   64 GB each.
M.VRAM = {
  qlora = { fixed_gb = 0.8, bytes_per_param = 0.5, act_coef = 0.20, act_base_gb = 0.5,
            adapters = true, shardable = false },
  lora  = { fixed_gb = 1.5, bytes_per_param = 2.0, act_coef = 0.35, act_base_gb = 1.0,
            adapters = true, shardable = true, comm_gb = 1.0 },
  full  = { fixed_gb = 1.5, bytes_per_param = nil, act_coef = 0.35, act_base_gb = 1.0,
            adapters = false, shardable = true, comm_gb = 1.0 },
}
-- Full fine-tune bytes per parameter: bf16 weights 2 + bf16 grads 2 + optimizer state.
M.OPTIMIZER_BYTES = {
  adamw = 12,          -- fp32 master copy + two fp32 moments (mixed precision, ~16 B/p total)
  adamw_torch = 12,
  adamw_bf16 = 4,      -- pure bf16 states (LLaMA-Factory pure_bf16, ~8 B/p)
  adamw_8bit = 2,      -- bitsandbytes 8-bit Adam (~6 B/p, the lean recipe)
  paged_adamw_8bit = 2,
  adafactor = 4,
  sgd = 0,
}
-- Throughput: k FLOPs per parameter per token and model FLOPs utilisation.
M.THROUGHPUT = {
  qlora = { k = 4, mfu = 0.30 }, -- Unsloth QLoRA
  lora  = { k = 4, mfu = 0.30 }, -- HF PEFT LoRA bf16
  full  = { k = 6, mfu = 0.30 },
}
-- Fixed time around the training loop, seconds {min, expected, max}.
M.SETUP = {
  provision = { 90, 180, 480 },    -- VM/container start, billed by the cloud
  install = { 180, 240, 300 },     -- pip, CUDA initialisation
  warmup = { 30, 60, 120 },        -- first steps, compile; Unsloth uses warmup_unsloth
  warmup_unsloth = { 60, 150, 300 },
  download_mb_s = { 300, 150, 75 },
  load_gb_s = 1.0,
  ckpt_mb_s = 200,
  ckpt_every_h = 0.5,
}
M.TRAIN_SPREAD = { 0.8, 1.0, 1.5 } -- the throughput model's observed error band (§5 check)
-- Spot: expected preemptions per node-hour, and the work lost at each (half a checkpoint interval).
M.SPOT = { rate = 0.05, rate_max = 0.20, lost_h = 0.25 }

local function merged(defaults, over)
  local t = {}
  for k, v in pairs(defaults) do t[k] = v end
  if type(over) == "table" then for k, v in pairs(over) do t[k] = v end end
  return t
end

local function method_of(method)
  if method == "unsloth" or method == "qlora" then return "qlora" end
  if method == "lora" then return "lora" end
  if method == "full" then return "full" end
  error("unknown training method '" .. tostring(method) .. "' (use qlora, lora or full)", 3)
end

function M.constants(method, opts)
  method = method_of(method)
  opts = opts or {}
  return merged(M.VRAM[method], opts.vram), merged(M.THROUGHPUT[method], opts.throughput)
end

-- Workflow descriptors (workflows/*/init.lua) spell their constants in their own words; this
-- turns them into the fields above. Memory model there: overhead + params × (weight + grad +
-- optimizer bytes) + params × adapter_fraction_per_rank × rank × adapter_bytes + activation
-- GB per 1k tokens per sqrt(B) × sqrt(params) × tokens / 1000, sharded or not.
local function from_descriptor(v, opts)
  if type(v) ~= "table" or v.weight_bytes_per_param == nil then return v end
  local opt = opts.optimizer
  local ob = v.optimizer_bytes_per_param or 0
  if opt and v.optimizer_bytes_by_optim and v.optimizer_bytes_by_optim[opt] then
    ob = v.optimizer_bytes_by_optim[opt]
  elseif opt and (v.optimizer_bytes_per_param or 0) > 0 and M.OPTIMIZER_BYTES[opt] then
    ob = M.OPTIMIZER_BYTES[opt]
  end
  return {
    fixed_gb = v.overhead_gb or 1.0,
    bytes_per_param = (v.weight_bytes_per_param or 0) + (v.grad_bytes_per_param or 0) + ob,
    adapter_gb_per_rank_b = (v.adapter_fraction_per_rank or 0) * (v.adapter_bytes_per_param or 0),
    act_sqrt_gb_per_1k = v.activation_gb_per_1k_tokens_per_sqrt_b or 0,
    comm_gb = v.per_gpu_overhead_gb or 0,
    shardable = v.sharded and true or false,
    adapters = (v.adapter_fraction_per_rank or 0) > 0,
    margin = v.margin,
    published_gb = v.published_gb,
  }
end
M.from_descriptor = from_descriptor

-- VRAM one GPU needs when n GPUs share the job (ZeRO-3/FSDP shards weights, grads and optimizer
-- state of shardable methods; activations are per GPU).
function M.vram_gb(method, params_b, opts)
  opts = opts or {}
  method = method_of(method)
  assert(type(params_b) == "number" and params_b > 0, "params_b must be a positive number")
  local c = merged(M.VRAM[method], from_descriptor(opts.vram, opts))
  local n = opts.gpus or 1
  local seq, batch, rank = opts.seq_len or 2048, opts.batch or 2, opts.rank or 16
  local bpp = c.bytes_per_param
  if not bpp then
    local opt = opts.optimizer or c.optimizer or "adamw_8bit"
    local ob = M.OPTIMIZER_BYTES[opt]
    if not ob then error("unknown optimizer '" .. tostring(opt) .. "'", 2) end
    bpp = 4 + ob
  end
  local shards = c.shardable and n or 1
  local p75 = params_b ^ 0.75
  local adapters = c.adapters and rank * p75 * 8.8e-3 or 0
  local acts = (batch * seq / M.REF_TOKENS) * (c.act_coef * p75 + c.act_base_gb)
  if c.adapter_gb_per_rank_b then
    adapters = c.adapters and params_b * rank * c.adapter_gb_per_rank_b or 0
  end
  if c.act_sqrt_gb_per_1k then
    acts = c.act_sqrt_gb_per_1k * math.sqrt(params_b) * seq * batch / 1000
  end
  local parts = {
    fixed = c.fixed_gb,
    weights = params_b * bpp / shards,
    adapters = adapters,
    activations = acts,
    comm = (n > 1 and c.shardable) and (c.comm_gb or 0) or 0,
  }
  local need = parts.fixed + parts.weights + parts.adapters + parts.activations + parts.comm
  -- a published floor (e.g. Unsloth's minimum VRAM per model size at micro-batch 1, seq 2048):
  -- the estimate is never below it plus the activations a larger shape adds
  if type(c.published_gb) == "table" and #c.published_gb > 0 and (n == 1 or not c.shardable) then
    local floor = M.interpolate(c.published_gb, params_b)
    local a1 = c.act_sqrt_gb_per_1k and c.act_sqrt_gb_per_1k * math.sqrt(params_b) * 2048 / 1000
      or (2048 / M.REF_TOKENS) * (c.act_coef * p75 + c.act_base_gb)
    local f = floor + math.max(0, acts - a1)
    if f > need then parts.floor = f - need; need = f end
  end
  parts.total = need
  parts.bytes_per_param = bpp
  return need, parts
end

-- The headroom factor: the workflow's vram.margin when it gives one (a memory model calibrated on
-- measured peaks needs less), else MARGIN.
function M.margin(opts)
  local v = type(opts) == "table" and opts.vram or nil
  local m = type(v) == "table" and tonumber(v.margin) or nil
  return m or M.MARGIN
end

-- Linear interpolation in a list of {params_b, gb} pairs sorted by size (extrapolated from the
-- nearest two points outside the range).
function M.interpolate(points, x)
  local n = #points
  if n == 1 then return points[1][2] * x / points[1][1] end
  local i = 1
  while i < n - 1 and x > points[i + 1][1] do i = i + 1 end
  local a, b = points[i], points[i + 1]
  return a[2] + (b[2] - a[2]) * (x - a[1]) / (b[1] - a[1])
end

function M.fits(method, params_b, usable_gb, n, opts)
  local o = merged(opts or {}, { gpus = n or 1 })
  local need = M.vram_gb(method, params_b, o)
  local m = M.margin(o)
  return need * m <= usable_gb, need, need * m
end

-- Whether the method (with the workflow's constants) shards across GPUs.
function M.shardable(method, opts)
  opts = opts or {}
  local c = merged(M.VRAM[method_of(method)], from_descriptor(opts.vram, opts))
  return c.shardable and true or false
end

-- Smallest GPU count from `counts` (default 1, 2, 4, 8, 16, 32, 64) on which the job fits.
function M.min_gpus(method, params_b, usable_gb, opts)
  opts = opts or {}
  local c = merged(M.VRAM[method_of(method)], from_descriptor(opts.vram, opts))
  for _, n in ipairs(opts.counts or { 1, 2, 4, 8, 16, 32, 64 }) do
    if n > (opts.max_count or math.huge) then break end
    if n > 1 and not c.shardable then break end
    if M.fits(method, params_b, usable_gb, n, opts) then return n end
  end
  return nil
end

-- Training tokens D. opts: rows, mean_tokens, epochs | max_steps, batch, grad_accum, gpus,
-- seq_len. With dynamic padding a sequence costs min(seq_len, 1.2 × mean) tokens (§5).
function M.tokens(opts)
  local seq = opts.seq_len or 2048
  local mean = opts.mean_tokens or 256
  -- packing concatenates rows into full sequences: no padding; else dynamic padding (×1.2)
  local padded = opts.packing and math.min(seq, mean) or math.min(seq, 1.2 * mean)
  if opts.max_steps and opts.max_steps > 0 then
    local global = (opts.batch or 2) * (opts.grad_accum or 4) * (opts.gpus or 1)
    local d = opts.max_steps * global * padded
    return d, string.format("%d steps × %d sequences × %.0f tokens", opts.max_steps, global, padded)
  end
  local rows, epochs = opts.rows or 10000, opts.epochs or 1
  if opts.max_samples and opts.max_samples > 0 and opts.max_samples < rows then
    rows = opts.max_samples
  end
  local d = rows * epochs * padded
  return d, string.format("%d rows × %.0f tokens × %g epoch%s", rows, padded, epochs,
    epochs == 1 and "" or "s")
end

-- gpu: {bf16_tflops=, arch_factor=} (a spec from vibeml.gpus, or any table with those fields).
function M.throughput(method, params_b, gpu, n, opts)
  opts = opts or {}
  local t = merged(M.THROUGHPUT[method_of(method)], opts.throughput)
  if type(t.k) ~= "number" then t.k = M.THROUGHPUT[method_of(method)].k end
  if type(t.mfu) ~= "number" then t.mfu = M.THROUGHPUT[method_of(method)].mfu end
  n = n or 1
  -- scaling efficiency of several GPUs: the workflow's throughput.scale when given
  local sc = type(t.scale) == "table" and t.scale or {}
  local scale = sc.single or 1.0
  if n > 1 then
    if (opts.nodes or 1) > 1 then scale = sc.multi_node or 0.75
    elseif (opts.interconnect or "nvlink") == "pcie" then scale = sc.pcie or 0.75
    else scale = sc.nvlink or 0.9 end
  end
  local peak = (opts.bf16_tflops or gpu.bf16_tflops) * 1e12
  local eff = t.mfu * (gpu.arch_factor or 1.0)
  local tps = n * scale * peak * eff / (t.k * params_b * 1e9)
  local f = tonumber(opts.throughput_factor)
  if f and f > 0 then tps = tps * f end
  return tps
end

-- Bytes one node writes per checkpoint. full: checkpoint_bytes_per_param of the model (bf16
-- weights, fp32 master copy, optimizer moments; ZeRO-3 spreads them over the nodes, the first one
-- also writes the gathered 16-bit model); LoRA/QLoRA: the adapter with its optimizer state
-- (checkpoint_bytes_per_adapter_param of adapter_fraction_per_rank × rank × params).
function M.checkpoint_bytes(method, params_b, opts)
  opts = opts or {}
  local m = method_of(method)
  local th = type(opts.throughput) == "table" and opts.throughput or {}
  local v = type(opts.vram) == "table" and opts.vram or {}
  local p = params_b * 1e9
  if m == "full" then
    local per = tonumber(th.checkpoint_bytes_per_param) or 16
    local nodes = opts.nodes or 1
    return p * (per - 2) / nodes + p * 2
  end
  local frac = tonumber(v.adapter_fraction_per_rank) or 0.00033
  local per = tonumber(th.checkpoint_bytes_per_adapter_param) or 16
  return p * frac * (opts.rank or 16) * per + 5e6 -- + tokenizer, trainer state
end

-- The set-up times, seconds {min, expected, max} each: the defaults (SETUP) with a workflow
-- descriptor's own (throughput.setup_s/warmup_s = {lo, hi} seconds, download_mb_s, load_gb_s).
local function setup_times(opts)
  local s = merged(M.SETUP, opts.setup)
  local th = type(opts.throughput) == "table" and opts.throughput or {}
  if type(th.setup_s) == "table" then
    s.install = { th.setup_s[1], (th.setup_s[1] + th.setup_s[2]) / 2, th.setup_s[2] }
  end
  if type(th.warmup_s) == "table" then
    local w = { th.warmup_s[1], (th.warmup_s[1] + th.warmup_s[2]) / 2, th.warmup_s[2] }
    s.warmup, s.warmup_unsloth = w, w
  end
  if type(th.download_mb_s) == "number" then
    s.download_mb_s = { th.download_mb_s * 2, th.download_mb_s, th.download_mb_s / 2 }
  end
  if type(th.load_gb_s) == "number" then s.load_gb_s = th.load_gb_s end
  return s
end

-- Seconds from the start of billing to the first training step: provisioning the VM (not when
-- opts.provision == false: a local run), installing the workflow's environment, downloading and
-- loading the model, warm-up (first steps, compilation). method nil or "other": a workflow that
-- downloads no model (smoke). Returns {min=, expected=, max=}, parts (expected seconds).
function M.setup(method, params_b, opts)
  opts = opts or {}
  local m = (method ~= nil and method ~= "other") and method_of(method) or nil
  local s = setup_times(opts)
  -- bytes moved: QLoRA pulls a pre-quantized 4-bit copy (~0.7 B/p), others bf16 (2 B/p)
  local model_bytes = m and (params_b or 0) * 1e9 * (m == "qlora" and 0.7 or 2.0) or 0
  local p = opts.provision == false and { 0, 0, 0 } or s.provision
  local w = (opts.unsloth or m == "qlora") and s.warmup_unsloth or s.warmup
  local load = model_bytes / (s.load_gb_s * 1e9)
  local out, dl = {}, {}
  for i, k in ipairs({ "min", "expected", "max" }) do
    dl[i] = model_bytes / (s.download_mb_s[i] * 1e6)
    out[k] = p[i] + s.install[i] + dl[i] + load + w[i]
  end
  return out, { provision_s = p[2], install_s = s.install[2], download_s = dl[2], load_s = load,
                warmup_s = w[2], model_bytes = model_bytes }
end

-- Hours {min, expected, max} from start of billing to the end of the job, and the parts.
function M.duration(method, params_b, gpu, n, tokens, opts)
  opts = opts or {}
  local m = method_of(method)
  local s = merged(M.SETUP, opts.setup)
  local th = type(opts.throughput) == "table" and opts.throughput or {}
  local tps = M.throughput(m, params_b, gpu, n, opts)
  local train_s = tokens / tps
  -- the set-up does not depend on the GPU: a caller pricing many offers passes it once
  local setup, sparts = opts.setup_s, opts.setup_parts
  if not setup then setup, sparts = M.setup(m, params_b, opts) end
  local model_bytes = sparts.model_bytes
  -- checkpoints: one every save_steps optimizer steps (floor(steps / save_steps) of them), each
  -- written at checkpoint_write_mb_s per node; without a step count, one per ckpt_every_h
  local ckpt_bytes = M.checkpoint_bytes(m, params_b, opts)
  local n_ckpt
  if opts.steps and opts.save_steps and opts.save_steps > 0 then
    n_ckpt = math.floor(opts.steps / opts.save_steps)
  else
    n_ckpt = math.floor(train_s / 3600 / s.ckpt_every_h)
  end
  local write = type(th.checkpoint_write_mb_s) == "number" and th.checkpoint_write_mb_s
    or s.ckpt_mb_s
  local ckpt = n_ckpt * ckpt_bytes / (write * 1e6)
  -- evaluation on the held-out split: forward passes only (about a third of a training step's
  -- FLOPs per token), `evals` times
  local eval_s = (opts.evals or 0) * (opts.eval_tokens or 0) / (3 * tps)
  ckpt = ckpt + eval_s
  local export = type(th.export_s) == "number" and th.export_s
    or (m == "full" and model_bytes / 300e6 or 10)
  local fixed = { setup.min + export, setup.expected + export, setup.max + export }
  local sp = M.TRAIN_SPREAD
  local h = {
    min = (fixed[1] + (train_s + ckpt) * sp[1]) / 3600,
    expected = (fixed[2] + (train_s + ckpt) * sp[2]) / 3600,
    max = (fixed[3] + (train_s + ckpt) * sp[3]) / 3600,
  }
  return h, { tokens_per_s = tps, train_h = train_s / 3600, setup_h = fixed[2] / 3600,
              setup_s = setup, download_h = sparts.download_s / 3600,
              checkpoint_h = (ckpt - eval_s) / 3600, checkpoints = n_ckpt,
              checkpoint_gb = ckpt_bytes / 1e9, eval_h = eval_s / 3600, export_h = export / 3600,
              recovery_h = setup.expected / 3600 }
end

-- USD {min, expected, max}: rate_hr is the price of one node-hour (all its GPUs), nodes the node
-- count. Spot adds the expected cost of preemptions: each one loses the work since the last
-- checkpoint and pays the set-up again (recovery_h), at `rate` per node-hour (max: rate_max).
function M.cost(rate_hr, duration, opts)
  opts = opts or {}
  local nodes = opts.nodes or 1
  local c = {
    min = rate_hr * nodes * duration.min,
    expected = rate_hr * nodes * duration.expected,
    max = rate_hr * nodes * duration.max,
  }
  local extra = { min = 0, expected = 0, max = 0 }
  if opts.spot then
    local sp = merged(M.SPOT, opts.spot_model)
    local rec = (opts.recovery_h or 0.25) + sp.lost_h
    extra.expected = sp.rate * nodes * duration.expected * rec
    extra.max = sp.rate_max * nodes * duration.max * rec
    c.expected = c.expected + rate_hr * nodes * extra.expected
    c.max = c.max + rate_hr * nodes * extra.max
  end
  return c, extra
end

-- Parameter count (billions) from a model id: "Llama-3.1-8B" → 8, "Qwen2.5-1.5B-Instruct" → 1.5,
-- "llama-2-70b-hf" → 70, "Mixtral-8x7B" → 46.7 (MoE rule of thumb: 0.83 × experts × size), "350M"
-- → 0.35. Returns nil when the name carries no size.
function M.params_from_name(id)
  if type(id) ~= "string" then return nil end
  local name = "-" .. (id:match("[^/]+$") or id) .. "-"
  local experts, each = name:match("[^%w.](%d+)[xX](%d+%.?%d*)[bB][^%w]")
  if experts then return tonumber(experts) * tonumber(each) * 0.83 end
  -- a size is a number + B/M between separators, so "Llama-3.1" and "4bit" are not sizes
  local num, unit = name:match("[^%w.](%d+%.?%d*)([bBmM])[^%w]")
  if not num then return nil end
  local v = tonumber(num)
  if unit == "m" or unit == "M" then v = v / 1000 end
  return v
end

return M

-- vibeml.sizing against hand-computed cases (formulas in lua/vibeml/sizing.lua).
local T = require "vibeml.test"
local S = require "vibeml.sizing"
local sizing = S

local function near(got, want, tol, what)
  if math.abs(got - want) > (tol or 1e-6) then
    error(string.format("%s: expected %.6f ± %g, got %.6f", what or "value", want, tol or 1e-6,
      got), 2)
  end
end

T.case("QLoRA 8B, seq 2048, batch 2, rank 16: by hand", function()
  -- fixed 0.8 + 8 × 0.5 + adapters 16 × 8^0.75 × 8.8e-3 + activations 1 × (0.2 × 8^0.75 + 0.5)
  local p75 = 8 ^ 0.75 -- 4.7568
  local want = 0.8 + 4.0 + 16 * p75 * 8.8e-3 + (0.2 * p75 + 0.5)
  local need, parts = S.vram_gb("qlora", 8, { seq_len = 2048, batch = 2, rank = 16 })
  near(need, want, 1e-9, "need")
  near(want, 6.9211, 1e-3, "hand value")
  near(parts.weights, 4.0, 1e-12, "weights")
  T.eq(parts.comm, 0)
end)

T.case("the measured VRAM table is reproduced within its ranges", function()
  local sizes = { 1.24, 3.2, 8.03, 14.8, 32.8, 70.6 }
  -- QLoRA: between the Unsloth minimum and the measured peak (+15 %)
  local qlo = { 2, 3.5, 5, 8.5, 22, 41 }
  local qhi = { 2.6, 7.5, 9.1, 16.7, 28.2, 49.3 }
  -- LoRA 16-bit: table value ± 25 %
  local lora = { 4, 8, 20.5, 33, 76, 164 }
  -- full, lean (8-bit Adam, 6 B/p): the table's 6–8 B/p range, + activations
  local flo = { 10, 19, 48, 88, 196, 423 }
  local fhi = { 12, 29, 66, 122, 266, 575 }
  for i, p in ipairs(sizes) do
    local q = S.vram_gb("qlora", p)
    T.ok(q >= qlo[i] and q <= qhi[i],
      string.format("QLoRA %gB: %.1f in [%g, %g]", p, q, qlo[i], qhi[i]))
    local l = S.vram_gb("lora", p)
    T.ok(math.abs(l - lora[i]) / lora[i] <= 0.4,
      string.format("LoRA %gB: %.1f vs %g", p, l, lora[i]))
    local f = S.vram_gb("full", p)
    T.ok(f >= flo[i] and f <= fhi[i],
      string.format("full %gB: %.1f in [%g, %g]", p, f, flo[i], fhi[i]))
  end
end)

T.case("full fine-tune bytes per parameter follow the optimizer", function()
  local _, lean = S.vram_gb("full", 10, { optimizer = "adamw_8bit" })
  local _, mixed = S.vram_gb("full", 10, { optimizer = "adamw" })
  local _, pure = S.vram_gb("full", 10, { optimizer = "adamw_bf16" })
  T.eq(lean.bytes_per_param, 6); T.eq(mixed.bytes_per_param, 16); T.eq(pure.bytes_per_param, 8)
  T.raises("unknown optimizer", S.vram_gb, "full", 10, { optimizer = "magic" })
end)

T.case("1.2 margin: fits exactly at the boundary", function()
  local need = S.vram_gb("qlora", 8)
  T.ok(S.fits("qlora", 8, need * 1.2, 1), "at the boundary")
  T.ok(not S.fits("qlora", 8, need * 1.2 - 0.01, 1), "just below")
end)

T.case("70B full fine-tune → 8 GPUs of the 80 GB class; 2 nodes of B200 with fp32 Adam", function()
  -- per GPU on 8: 70.6 × 6 / 8 + 1.5 + 1.0 + (0.35 × 70.6^0.75 + 1.0) = 52.95 + 2.5 + 9.54
  local need = S.vram_gb("full", 70.6, { gpus = 8 })
  near(need, 52.95 + 2.5 + 0.35 * 70.6 ^ 0.75 + 1.0, 1e-9, "per-GPU need on 8")
  T.eq(S.min_gpus("full", 70.6, 79.3), 8)
  T.eq(S.min_gpus("full", 70.6, 79.3, { max_count = 4 }), nil)
  T.eq(S.min_gpus("full", 70.6, 180 * 0.97, { optimizer = "adamw" }), 16)
  T.eq(S.min_gpus("qlora", 70.6, 22.18), nil, "QLoRA does not shard")
  T.eq(S.min_gpus("qlora", 70.6, 79.3), 1)
  T.eq(S.min_gpus("lora", 70.6, 79.3), 4)
  T.eq(S.min_gpus("lora", 8.03, 22.18), 2)
end)

T.case("activations grow with sequence length and batch", function()
  local a = select(2, S.vram_gb("lora", 8, { seq_len = 2048, batch = 2 })).activations
  local b = select(2, S.vram_gb("lora", 8, { seq_len = 8192, batch = 2 })).activations
  local c = select(2, S.vram_gb("lora", 8, { seq_len = 2048, batch = 8 })).activations
  near(b, 4 * a, 1e-9); near(c, 4 * a, 1e-9)
end)

T.case("training tokens: rows × padded mean × epochs, or steps × global batch × length", function()
  local d = S.tokens { rows = 51760, mean_tokens = 240, epochs = 2, seq_len = 2048 }
  T.eq(d, 51760 * 288 * 2)
  local d2 = S.tokens { rows = 10, mean_tokens = 4000, seq_len = 2048 } -- capped at seq_len
  T.eq(d2, 10 * 2048)
  local d3, how = S.tokens { max_steps = 60, batch = 2, grad_accum = 4, gpus = 2, mean_tokens = 100,
                             seq_len = 2048 }
  T.eq(d3, 60 * 16 * 120)
  T.contains(how, "60 steps")
  T.eq(S.tokens { rows = 1000, mean_tokens = 300, packing = true }, 1000 * 300)
  T.eq(S.tokens { rows = 1000, mean_tokens = 300, max_samples = 100 }, 100 * 360)
end)

T.case("throughput matches its calibration points", function()
  -- Qwen-7B (7.7 B) LoRA on A100: 312e12 × 0.30 / (4 × 7.7e9) = 3039 tokens/s
  near(S.throughput("lora", 7.7, { bf16_tflops = 312, arch_factor = 1.0 }, 1), 3038.96, 0.01)
  -- 8B Unsloth QLoRA on H100: 989e12 × 0.30 × 0.8 / (4 × 8.03e9) = 7390
  near(S.throughput("qlora", 8.03, { bf16_tflops = 989, arch_factor = 0.8 }, 1), 7389.79, 0.01)
  -- 8 GPUs with NVLink scale by 0.9; PCIe or several nodes by 0.75
  local one = S.throughput("full", 8, { bf16_tflops = 989, arch_factor = 0.8 }, 1)
  near(S.throughput("full", 8, { bf16_tflops = 989, arch_factor = 0.8 }, 8), one * 8 * 0.9, 1e-6)
  near(S.throughput("full", 8, { bf16_tflops = 989, arch_factor = 0.8 }, 16, { nodes = 2 }),
    one * 16 * 0.75, 1e-6)
  near(S.throughput("full", 8, { bf16_tflops = 989, arch_factor = 0.8 }, 8,
    { interconnect = "pcie" }),
    one * 8 * 0.75, 1e-6)
end)

T.case("duration: setup + training, min < expected < max", function()
  local gpu = { bf16_tflops = 989, arch_factor = 0.8 }
  local tokens = 12.4e6 -- alpaca-cleaned, 1 epoch (≈ 0.5 h on H100)
  local d, parts = S.duration("qlora", 8.03, gpu, 1, tokens)
  near(parts.train_h, tokens / S.throughput("qlora", 8.03, gpu, 1) / 3600, 1e-9)
  T.ok(parts.train_h > 0.45 and parts.train_h < 0.5, "≈0.47 h of training")
  -- expected setup: provision 180 + install 240 + download 8.03e9×0.7/150e6 + load 5.6 + warm-up
  -- 150 + export 10
  near(parts.setup_h * 3600, 180 + 240 + 8.03e9 * 0.7 / 150e6 + 8.03e9 * 0.7 / 1e9 + 150 + 10, 1e-6)
  T.ok(d.min < d.expected and d.expected < d.max)
  near(d.expected, parts.setup_h + parts.train_h + parts.checkpoint_h, 1e-9)
end)

T.case("cost: rate × hours × nodes; spot adds expected recovery", function()
  local d = { min = 1, expected = 2, max = 4 }
  local c = S.cost(10, d, { nodes = 2 })
  T.eq(c.min, 20); T.eq(c.expected, 40); T.eq(c.max, 80)
  local s = S.cost(4, d, { spot = true, recovery_h = 0.25 })
  -- expected: 4 × (2 + 0.05 × 2 × (0.25 + 0.25)) = 8.2; max: 4 × (4 + 0.2 × 4 × 0.5) = 17.6
  near(s.expected, 8.2, 1e-9); near(s.max, 17.6, 1e-9); T.eq(s.min, 4)
end)

T.case("parameter count from a model id", function()
  T.eq(S.params_from_name("meta-llama/Llama-3.1-8B"), 8)
  T.eq(S.params_from_name("Qwen/Qwen2.5-1.5B-Instruct"), 1.5)
  T.eq(S.params_from_name("meta-llama/Llama-2-70b-hf"), 70)
  T.eq(S.params_from_name("HuggingFaceTB/SmolLM2-135M"), 0.135)
  T.eq(S.params_from_name("unsloth/Meta-Llama-3.1-8B-bnb-4bit"), 8)
  T.eq(S.params_from_name("Qwen/Qwen3-30B-A3B"), 30)
  T.eq(S.params_from_name("openai-community/gpt2"), nil)
  near(S.params_from_name("mistralai/Mixtral-8x7B-v0.1"), 8 * 7 * 0.83, 1e-9)
end)


T.case("70B QLoRA against Unsloth's published minimum (41 GB): a 48 GB card fits at batch 1",
  function()
  local wfs = require "vibeml.workflows"
  local un = wfs.get("unsloth")
  local o = { seq_len = 2048, batch = 1, rank = 16, vram = un.vram }
  local need = sizing.vram_gb("qlora", 70.6, o)
  T.ok(math.abs(need - 41.5) < 41 * 0.05, "70B at batch 1: " .. need .. " GB (published ~41)")
  local usable = 48 * 0.97
  T.ok(sizing.fits("qlora", 70.6, usable, 1, o), "fits a 48 GB card (L40S/A6000)")
  -- batch 2 measured 42.8 GB: the estimate is there, no lower
  local need2 = sizing.vram_gb("qlora", 70.6, { seq_len = 2048, batch = 2, vram = un.vram })
  T.ok(need2 >= 42.5 and need2 < 45, "70B at batch 2: " .. need2)
  -- never below the published floor: 32B needs Unsloth's 26 GB, not what the formula alone says
  local n32 = sizing.vram_gb("qlora", 32, { seq_len = 2048, batch = 1, vram = un.vram })
  T.ok(n32 >= 26 and n32 < 27, "32B: " .. n32)
  T.eq(sizing.margin({ vram = un.vram }), 1.1)
  T.eq(sizing.margin({}), sizing.MARGIN)
end)

T.case("checkpoints: count from save_steps, size from the descriptor, write time in the duration",
  function()
  local wfs = require "vibeml.workflows"
  local full = wfs.get("full")
  local h100 = { bf16_tflops = 989, arch_factor = 0.8 }
  local base = { throughput = full.throughput, vram = full.vram, steps = 1000 }
  local o1, o2 = {}, {}
  for k, v in pairs(base) do o1[k] = v; o2[k] = v end
  o1.save_steps, o2.save_steps = 500, 100
  local _, p1 = sizing.duration("full", 8, h100, 8, 1e8, o1)
  local _, p2 = sizing.duration("full", 8, h100, 8, 1e8, o2)
  T.eq(p1.checkpoints, 2); T.eq(p2.checkpoints, 10)
  -- 8B x 16 bytes per parameter, at checkpoint_write_mb_s
  T.ok(math.abs(p1.checkpoint_gb - 128) < 0.5, "checkpoint " .. p1.checkpoint_gb .. " GB")
  T.ok(
    math.abs(
      p2.checkpoint_h - 10 * 128e9 / (full.throughput.checkpoint_write_mb_s * 1e6) / 3600) < 1e-6)
  T.ok(p2.checkpoint_h > p1.checkpoint_h * 4.9)
  -- ZeRO-3 over two nodes: each writes half the shards, the first also the gathered model
  T.ok(
    math.abs(sizing.checkpoint_bytes("full", 8,
      { nodes = 2, throughput = full.throughput }) / 1e9 - (8 * 14 / 2 + 16)) < 1e-6)
  -- a LoRA checkpoint is the adapter with its optimizer state: small
  local lo = wfs.get("lora")
  T.ok(sizing.checkpoint_bytes("lora", 8, { vram = lo.vram, throughput = lo.throughput }) < 1e9)
  -- scale: the descriptor's multi-GPU efficiency is what the throughput uses
  local t = { k = 6, mfu = 0.3, scale = { single = 1, nvlink = 0.5, pcie = 0.5, multi_node = 0.5 } }
  local a = sizing.throughput("full", 8, h100, 8, { throughput = t })
  local b = sizing.throughput("full", 8, h100, 8, { throughput = { k = 6, mfu = 0.3 } })
  T.ok(math.abs(a / b - 0.5 / 0.9) < 1e-9)
end)

T.case("every descriptor constant is read by the planner or the task", function()
  -- the names vibeml.sizing / vibeml.taskkit read; a constant outside this list is dead weight
  local USED = {
    vram = { overhead_gb = 1, weight_bytes_per_param = 1, grad_bytes_per_param = 1,
             optimizer_bytes_per_param = 1, optimizer_bytes_by_optim = 1,
             adapter_fraction_per_rank = 1, adapter_bytes_per_param = 1,
             activation_gb_per_1k_tokens_per_sqrt_b = 1, per_gpu_overhead_gb = 1, margin = 1,
             sharded = 1, published_gb = 1 },
    throughput = { k = 1, mfu = 1, scale = 1, setup_s = 1, warmup_s = 1, download_mb_s = 1,
                   load_gb_s = 1, export_s = 1, checkpoint_bytes_per_param = 1,
                   checkpoint_bytes_per_adapter_param = 1, checkpoint_write_mb_s = 1 },
  }
  local wfs = require "vibeml.workflows"
  for _, name in ipairs({ "unsloth", "lora", "full" }) do
    local d = wfs.get(name)
    for _, sect in ipairs({ "vram", "throughput" }) do
      for k in pairs(d[sect]) do
        T.ok(USED[sect][k], string.format("%s.%s.%s is not read anywhere", name, sect, k))
      end
    end
  end
end)

T.case("set-up before the first step: provisioning, install, download, load, warm-up", function()
  local th = { setup_s = { 100, 200 }, warmup_s = { 10, 30 }, download_mb_s = 100, load_gb_s = 2 }
  local s, parts = sizing.setup("lora", 8, { throughput = th })
  -- 16 GB of bf16 weights at 100 MB/s (expected), 200/50 MB/s (min/max), loaded at 2 GB/s
  T.ok(math.abs(s.expected - (180 + 150 + 160 + 8 + 20)) < 1e-6, "expected " .. s.expected)
  T.ok(math.abs(s.min - (90 + 100 + 80 + 8 + 10)) < 1e-6, "min " .. s.min)
  T.ok(math.abs(s.max - (480 + 200 + 320 + 8 + 30)) < 1e-6, "max " .. s.max)
  T.eq(parts.provision_s, 180); T.eq(parts.install_s, 150); T.eq(parts.warmup_s, 20)
  -- QLoRA downloads a 4-bit copy; a local run provisions nothing; smoke downloads no model
  T.ok(sizing.setup("qlora", 8, { throughput = th }).expected < s.expected)
  T.eq(sizing.setup("lora", 8, { throughput = th, provision = false }).expected, s.expected - 180)
  T.eq(sizing.setup(nil, 0, { throughput = th, provision = false }).expected, 150 + 20)
  -- the duration is set-up + training + export; spot recovery pays the set-up again
  local h100 = { bf16_tflops = 989, arch_factor = 0.8 }
  local d, p = sizing.duration("lora", 8, h100, 1, 1e7, { throughput = th })
  T.ok(math.abs(p.setup_s.expected - s.expected) < 1e-9)
  T.ok(math.abs(p.recovery_h - s.expected / 3600) < 1e-12)
  T.ok(math.abs(d.expected - (s.expected + 10) / 3600 - p.train_h - p.checkpoint_h) < 1e-9)
  -- a measured throughput factor shortens the training, not the set-up
  local d2, p2 = sizing.duration("lora", 8, h100, 1, 1e7,
    { throughput = th, throughput_factor = 2 })
  T.ok(math.abs(p2.tokens_per_s - 2 * p.tokens_per_s) < 1e-6)
  T.ok(math.abs(p2.train_h - p.train_h / 2) < 1e-12)
  T.ok(d2.expected < d.expected and d2.expected > (s.expected + 10) / 3600)
end)

return T.run()

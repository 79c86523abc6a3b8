-- unsloth — 4-bit QLoRA with Unsloth on one GPU. Unsloth pins TRL and
-- transformers, so it gets its own Python environment, apart from the TRL workflows.
local kit = require "vibeml.taskkit"

local ENV = "$HOME/vibeml-envs/unsloth-2026.8.19"

-- Exact versions, installed together and checked against their sources (workflows/UPSTREAM.md).
-- Unsloth 2026.8.19 allows trl <= 0.24.0, transformers <= 5.5.0 (not 4.57.0), datasets < 4.4.0,
-- peft >= 0.18.0, bitsandbytes >= 0.45.5 (not 0.46.0/0.48.0); transformers 4.56.2 with torch 2.8.0
-- is the pair TRL's minimum-version CI runs. Change them together, deliberately.
local PINS = {
  "torch==2.8.0",
  "unsloth==2026.8.19",
  "unsloth_zoo==2026.8.13",
  "transformers==4.56.2",
  "trl==0.24.0",
  "peft==0.18.1",
  "accelerate==1.10.1",
  "datasets==4.3.0",
  "bitsandbytes==0.47.0",
  "huggingface_hub==0.35.3",
  "hf_transfer==0.1.9",
}

local SETUP = kit.venv_setup(ENV, PINS)
local RUN = kit.venv_run(ENV, "python train.py")

local hp = kit.hf_hyperparameters({
  learning_rate = { type = "number", default = 2e-4, min = 1e-7, max = 1e-2,
                    description = "peak learning rate (2e-4 for short runs, 2e-5 for long ones)" },
  lora_alpha = { type = "integer", default = 16, min = 1, max = 2048, description = "LoRA alpha" },
  lora_dropout = { type = "number", default = 0, min = 0, max = 0.5,
                   description = "LoRA dropout (0 is Unsloth's fast path)" },
  chat_template = { type = "string", default = "auto",
                    enum = { "auto", "chatml", "llama-3", "llama-3.1", "qwen-2.5", "qwen3",
                             "gemma-3", "phi-3", "phi-4", "mistral", "zephyr", "alpaca" },
                    description =
                      "chat template for conversational data; auto keeps the model's own "
                      .. "and uses chatml for a base model that has none" },
  -- bitsandbytes (pinned above) provides the 8-bit optimizers
  optim = { type = "string", default = "adamw_8bit",
    enum = { "adamw_8bit", "adamw_torch", "paged_adamw_8bit" },
            description = "optimizer" },
  save_gguf = { type = "string", default = "none",
    enum = { "none", "q4_k_m", "q5_k_m", "q8_0", "f16" },
                description = "also export a GGUF file with this quantization" },
})

local D
D = {
  kind = "workflow",
  name = "unsloth",
  title = "QLoRA with Unsloth (4-bit, one GPU)",
  description = "Cheapest way to fine-tune: the model is loaded in 4 bits and LoRA adapters are "
    .. "trained with Unsloth's kernels (about 2x faster, 70% less memory than plain Hugging Face). "
    .. "One GPU; a 70B model fits on one 80 GB card. Produces a LoRA adapter (optionally merged " ..
      "or GGUF).",
  version = "1.0.0",
  method = "qlora",
  model_sizes = { min_b = 0.1, max_b = 120 },
  -- Memory model (GB, whole job): overhead_gb + params_b * (weight + grad + optimizer bytes per
  -- parameter) + params_b * adapter_fraction_per_rank * rank * adapter_bytes_per_param
  -- + activation_gb_per_1k_tokens_per_sqrt_b * sqrt(params_b) * seq_len * batch / 1000, never
  -- below Unsloth's published minimum for the size (published_gb: {params_b, GB} at micro-batch 1,
  -- seq 2048; unsloth.ai "Unsloth Requirements") plus the activations a larger shape adds.
  -- Unsloth's gradient checkpointing offloads activations to CPU RAM, hence the small activation
  -- term. A GPU fits when need * margin <= usable memory; margin 1.1 because the figures are
  -- measured peaks (1B 2.2 GB, 8B 7.9 GB, 70B 42.8 GB at batch 2), so a 70B model
  -- at batch 1 (41 GB) fits a 48 GB card as Unsloth says it does.
  vram = {
    overhead_gb = 1.0,
    weight_bytes_per_param = 0.5,
    grad_bytes_per_param = 0,
    optimizer_bytes_per_param = 0,
    adapter_fraction_per_rank = 0.00033,
    adapter_bytes_per_param = 8,
    activation_gb_per_1k_tokens_per_sqrt_b = 0.10,
    margin = 1.1,
    sharded = false,
    published_gb = { { 3, 3.5 }, { 7, 5 }, { 8, 6 }, { 9, 6.5 }, { 11, 7.5 }, { 14, 8.5 },
                     { 27, 22 }, { 32, 26 }, { 40, 30 }, { 70, 41 }, { 81, 48 }, { 90, 53 },
                     { 405, 237 } },
  },
  -- Throughput model (as lua/vibeml/sizing.lua):
  -- tokens/s = gpus * scale * peak_tflops * 1e12 * mfu * arch
  -- / (k * params); plus setup, download, load and warm-up times.
  throughput = {
    k = 4,
    mfu = 0.30,
    scale = { single = 1.0, nvlink = 0.9, pcie = 0.75, multi_node = 0.75 },
    setup_s = { 180, 300 },
    warmup_s = { 60, 300 },
    download_mb_s = 150,
    load_gb_s = 1.0,
    export_s = 10,
    -- a checkpoint holds the adapter with its optimizer state (fp32 weights + two Adam moments)
    checkpoint_bytes_per_adapter_param = 16,
    checkpoint_write_mb_s = 200,
  },
  typical = { duration_h = { 0.3, 6 }, cost_usd = { 0.5, 25 } },
  hyperparameters = hp,
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  -- NVIDIA only (CUDA wheels); Unsloth needs compute capability 7.0+ ("Unsloth Requirements") and
  -- trains in fp16 where bf16 is missing (T4, V100); torch 2.8.0's CUDA 12.8 build runs up to 12.x
  gpu = { required = true, min_count = 1, max_count = 1, multi_node = false, vendor = "nvidia",
          min_compute_capability = 7.0, max_compute_capability = 12.0, distributed = "none" },
  pins = PINS,

  build = function(p)
    for _, c in ipairs(p.candidates or {}) do
      if (c.count or 1) > 1 then
        return nil, "unsloth trains on one GPU; got a candidate with " .. math.tointeger(c.count)
          .. " GPUs (use the lora or full workflow for several GPUs)"
      end
    end
    if (p.num_nodes or 1) > 1 then
      return nil, "unsloth runs on one node; use the full workflow for several nodes"
    end
    local hpv = p.hyperparameters or {}
    return kit.task {
      workflow = "unsloth", p = p, method = "qlora", gpu = true,
      disk_size = kit.disk_gb((p.model_info or {}).params_b, "qlora",
        { hp = hpv, nodes = p.num_nodes, vram = D.vram, throughput = D.throughput }),
      desc_secrets = { required = {} },
      setup = SETUP, run = RUN,
      files = kit.hf_files("unsloth"),
    }
  end,
}

return D

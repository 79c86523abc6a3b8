-- lora — bf16 LoRA with TRL + PEFT. Several GPUs of one node shard the
-- frozen base model with DeepSpeed ZeRO-3 (default) or FSDP2 through accelerate, as `full` does,
-- so a 70B LoRA runs on 4-8 ordinary 80 GB GPUs instead of one very large one.
local kit = require "vibeml.taskkit"
local trl_env = require "vibeml.trl_env"

-- The environment `lora` and `full` share (folder and exact pins: lua/vibeml/trl_env.lua).
local ENV, PINS = trl_env.path, trl_env.pins

local SETUP = kit.venv_setup(ENV, PINS)

local D
D = {
  kind = "workflow",
  name = "lora",
  title = "LoRA with TRL + PEFT (bf16)",
  description = "Trains LoRA adapters on the model in bf16 with Hugging Face TRL and PEFT. Better "
    .. "quality than 4-bit QLoRA at about 4x the memory; several GPUs of one machine share the "
    .. "model (DeepSpeed ZeRO-3 or FSDP2) when it does not fit one. Needs bf16 (Ampere or newer). "
    .. "Produces a LoRA adapter (optionally merged into the model).",
  version = "1.1.0",
  method = "lora",
  model_sizes = { min_b = 0.1, max_b = 72 },
  -- Memory model (see unsloth's descriptor): bf16 frozen weights, HF gradient checkpointing; with
  -- several GPUs ZeRO-3/FSDP shard the weights (sharded = true) and each GPU pays
  -- per_gpu_overhead_gb for the gathered layer and communication buffers. Reference: Unsloth's
  -- published 16-bit LoRA minimum (70B: 164 GB).
  vram = {
    overhead_gb = 1.5,
    weight_bytes_per_param = 2.0,
    grad_bytes_per_param = 0,
    optimizer_bytes_per_param = 0,
    adapter_fraction_per_rank = 0.00033,
    adapter_bytes_per_param = 16,
    activation_gb_per_1k_tokens_per_sqrt_b = 0.30,
    per_gpu_overhead_gb = 2.0,
    margin = 1.2,
    sharded = true,
  },
  throughput = {
    k = 4,
    mfu = 0.30,
    scale = { single = 1.0, nvlink = 0.9, pcie = 0.75, multi_node = 0.75 },
    setup_s = { 180, 300 },
    warmup_s = { 20, 60 },
    download_mb_s = 150,
    load_gb_s = 1.0,
    export_s = 10,
    -- a checkpoint holds the adapter with its optimizer state (fp32 weights + two Adam moments)
    checkpoint_bytes_per_adapter_param = 16,
    checkpoint_write_mb_s = 200,
  },
  typical = { duration_h = { 0.5, 8 }, cost_usd = { 2, 80 } },
  hyperparameters = kit.hf_hyperparameters({
    -- bitsandbytes (pinned in vibeml.trl_env) provides the 8-bit optimizers
    optim = { type = "string", default = "adamw_torch_fused",
              enum = { "adamw_torch_fused", "adamw_torch", "adamw_8bit", "paged_adamw_8bit" },
              description = "optimizer" },
    distributed = { type = "string", default = "zero3", enum = { "zero3", "fsdp2" },
                    description = "how several GPUs share the model: DeepSpeed ZeRO-3 or FSDP2" },
  }),
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  -- NVIDIA only (CUDA wheels); bf16 needs compute capability 8.0 (Ampere) or newer; torch 2.8.0's
  -- CUDA 12.8 build runs up to 12.x
  gpu = { required = true, min_count = 1, max_count = 8, multi_node = false, vendor = "nvidia",
          min_compute_capability = 8.0, max_compute_capability = 12.0,
          distributed = "zero3|fsdp2" },
  pins = PINS,

  build = function(p)
    if (p.num_nodes or 1) > 1 then
      return nil, "the lora workflow runs on one node (up to 8 GPUs); use full for several nodes"
    end
    local hp = p.hyperparameters or {}
    local config = kit.ACCELERATE_CONFIGS[hp.distributed or "zero3"]
    if not config then return nil, "distributed must be zero3 or fsdp2" end
    return kit.task {
      workflow = "lora", p = p, method = "lora", gpu = true,
      disk_size = kit.disk_gb((p.model_info or {}).params_b, "lora",
        { hp = hp, nodes = p.num_nodes, vram = D.vram, throughput = D.throughput }),
      setup = SETUP, run = kit.venv_run(ENV, kit.launch_line("train.py", config)),
      extra = { accelerate_config = config },
      files = kit.hf_files("lora", true),
    }
  end,
}

return D

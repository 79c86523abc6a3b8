-- full — full fine-tune with TRL: all weights train. Several GPUs
-- shard the model with DeepSpeed ZeRO-3 (default) or FSDP2 through accelerate; several nodes use
-- SkyPilot's node variables (SKYPILOT_NODE_RANK, SKYPILOT_NODE_IPS, SKYPILOT_NUM_NODES).
local kit = require "vibeml.taskkit"
local trl_env = require "vibeml.trl_env"

-- The environment `lora` and `full` share (folder and exact pins: lua/vibeml/trl_env.lua).
local ENV, PINS = trl_env.path, trl_env.pins

local SETUP = kit.venv_setup(ENV, PINS)

local D
D = {
  kind = "workflow",
  name = "full",
  title = "Full fine-tune with TRL (DeepSpeed ZeRO-3 or FSDP2)",
  description = "Trains every weight of the model: the most capable and the most expensive method. "
    .. "Memory is about 16 bytes per parameter with AdamW (6 with 8-bit Adam), so models past ~3B "
    .. "shard across several GPUs (DeepSpeed ZeRO-3 or FSDP2) and 70B models across nodes. "
    .. "Produces a full model.",
  version = "1.1.0",
  method = "full",
  model_sizes = { min_b = 0.1, max_b = 72 },
  -- Memory model (see unsloth's descriptor) with gradients and optimizer states; totals are
  -- across all GPUs (ZeRO-3/FSDP shard them: sharded = true). optimizer_bytes_by_optim gives the
  -- optimizer's bytes per parameter for each optim choice.
  vram = {
    overhead_gb = 2.0,
    weight_bytes_per_param = 2.0,
    grad_bytes_per_param = 2.0,
    optimizer_bytes_per_param = 12.0,
    optimizer_bytes_by_optim = { adamw_torch_fused = 12.0, adamw_torch = 12.0, adamw_8bit = 2.0,
                                 paged_adamw_8bit = 2.0 },
    adapter_fraction_per_rank = 0,
    adapter_bytes_per_param = 0,
    activation_gb_per_1k_tokens_per_sqrt_b = 0.30,
    per_gpu_overhead_gb = 2.0,
    margin = 1.2,
    sharded = true,
  },
  throughput = {
    k = 6,
    mfu = 0.30,
    scale = { single = 1.0, nvlink = 0.9, pcie = 0.75, multi_node = 0.75 },
    setup_s = { 240, 420 },
    warmup_s = { 30, 120 },
    download_mb_s = 150,
    load_gb_s = 1.0,
    -- a checkpoint: bf16 weights 2 + fp32 master copy 4 + two fp32 Adam moments 8 + the gathered
    -- 16-bit model 2 (zero3_save_16bit_model) bytes per parameter
    checkpoint_bytes_per_param = 16,
    checkpoint_write_mb_s = 200,
    export_s = 120,
  },
  typical = { duration_h = { 1, 48 }, cost_usd = { 10, 3000 } },
  hyperparameters = kit.hf_hyperparameters({
    learning_rate = { type = "number", default = 2e-5, min = 1e-7, max = 1e-3,
                      description =
                        "peak learning rate (1e-5 to 2e-5 is usual for full fine-tunes)" },
    lora_r = false, lora_alpha = false, lora_dropout = false, merge_adapter = false,
    optim = { type = "string", default = "adamw_torch_fused",
              enum = { "adamw_torch_fused", "adamw_torch", "adamw_8bit", "paged_adamw_8bit" },
              description =
                "optimizer (8-bit Adam cuts optimizer memory from 12 to 2 bytes per parameter)" },
    distributed = { type = "string", default = "zero3", enum = { "zero3", "fsdp2" },
                    description = "how several GPUs shard the model: DeepSpeed ZeRO-3 or FSDP2" },
    save_total_limit = { type = "integer", default = 1, min = 1, max = 10,
                         description =
                           "checkpoints kept (full checkpoints are ~16 bytes per parameter)" },
    save_steps = { type = "integer", default = 200, min = 1, max = 1000000,
                   description = "save a checkpoint every N optimizer steps" },
  }),
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  -- NVIDIA only (CUDA wheels); bf16 needs compute capability 8.0 (Ampere) or newer; torch 2.8.0's
  -- CUDA 12.8 build runs up to 12.x
  gpu = { required = true, min_count = 1, max_count = 8, multi_node = true, vendor = "nvidia",
          min_compute_capability = 8.0, max_compute_capability = 12.0,
          distributed = "zero3|fsdp2" },
  pins = PINS,

  build = function(p)
    local hp = p.hyperparameters or {}
    local config = kit.ACCELERATE_CONFIGS[hp.distributed or "zero3"]
    if not config then
      return nil, "distributed must be zero3 or fsdp2"
    end
    return kit.task {
      workflow = "full", p = p, method = "full", gpu = true,
      disk_size = kit.disk_gb((p.model_info or {}).params_b, "full",
        { hp = hp, nodes = p.num_nodes, vram = D.vram, throughput = D.throughput }),
      setup = SETUP, run = kit.venv_run(ENV, kit.launch_line("train.py", config)),
      extra = { accelerate_config = config },
      files = kit.hf_files("full", true),
    }
  end,
}

return D

-- lora — bf16 LoRA with TRL + PEFT (reference/training.md §2b); several GPUs of one node through
-- accelerate (data parallel) when the chosen offer has more than one.
local kit = require "vibeml.taskkit"

local ENV = "$HOME/vibeml-envs/trl"

local SETUP = table.concat({
  "set -e",
  kit.PHASE_FN,
  "vibeml_phase install start",
  'if [ ! -x "' .. ENV .. '/bin/python" ]; then',
  '  python3 -m venv "' .. ENV .. '" || { python3 -m pip install -q --user virtualenv && python3 -m virtualenv "' .. ENV .. '"; }',
  "fi",
  '. "' .. ENV .. '/bin/activate"',
  "pip install -q --upgrade pip",
  'pip install -q "trl>=1.9,<2" "peft>=0.17" "accelerate>=1.7" "datasets>=4.7" "transformers>=4.56.2" "hf_transfer>=0.1.8"',
  "vibeml_phase install end",
}, "\n")

local RUN = table.concat({
  "set -e",
  '. "' .. ENV .. '/bin/activate"',
  "export HF_HUB_ENABLE_HF_TRANSFER=1",
  kit.launch_line("train.py"),
}, "\n")

return {
  kind = "workflow",
  name = "lora",
  title = "LoRA with TRL + PEFT (bf16)",
  description = "Trains LoRA adapters on the model in bf16 with Hugging Face TRL and PEFT. Better "
    .. "quality than 4-bit QLoRA at about 4x the memory; several GPUs of one machine through "
    .. "accelerate when the model or the deadline needs them. Produces a LoRA adapter "
    .. "(optionally merged into the model).",
  version = "1.0.0",
  method = "lora",
  model_sizes = { min_b = 0.1, max_b = 72 },
  -- Same memory model as unsloth (see its descriptor); bf16 weights, HF gradient checkpointing.
  vram = {
    overhead_gb = 1.5,
    weight_bytes_per_param = 2.0,
    grad_bytes_per_param = 0,
    optimizer_bytes_per_param = 0,
    adapter_fraction_per_rank = 0.00033,
    adapter_bytes_per_param = 16,
    activation_gb_per_1k_tokens_per_sqrt_b = 0.30,
    margin = 1.2,
    sharded = false,
    reference = { { params_b = 1.24, seq_len = 2048, batch = 2, gb = 4 },
                  { params_b = 8.03, seq_len = 2048, batch = 2, gb = 22 },
                  { params_b = 70.6, seq_len = 2048, batch = 2, gb = 164 } },
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
    overhead_factor = 1.15,
  },
  typical = { duration_h = { 0.5, 8 }, cost_usd = { 2, 80 } },
  hyperparameters = kit.hf_hyperparameters({
    optim = { type = "string", default = "adamw_torch_fused",
              enum = { "adamw_torch_fused", "adamw_torch", "adamw_8bit", "paged_adamw_8bit" },
              description = "optimizer" },
  }),
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  gpu = { required = true, min_count = 1, max_count = 8, multi_node = false },

  build = function(p)
    if (p.num_nodes or 1) > 1 then
      return nil, "the lora workflow runs on one node (up to 8 GPUs); use full for several nodes"
    end
    return kit.task {
      workflow = "lora", p = p, method = "lora", gpu = true,
      setup = SETUP, run = RUN,
      files = { { "train.py", "workflows/lora/train.py" },
                { "vibeml_hf.py", "workflows/vibeml_hf.py" } },
    }
  end,
}

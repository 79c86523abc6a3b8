-- A template user workflow: copy it to $XDG_CONFIG_HOME/vibeml/plugins/my_workflow.lua (or a
-- folder given to `vibeml serve --plugins DIR`) and edit. A running server reloads it on save;
-- a broken version never goes live (see workflows/README.md).
--
-- This one reuses the shipped LoRA training script with a smaller, faster default recipe for
-- models up to 8B on one GPU.
local kit = require "vibeml.taskkit"

local ENV = "$HOME/vibeml-envs/trl"

local SETUP = table.concat({
  "set -e",
  kit.PHASE_FN,
  "vibeml_phase install start",
  'if [ ! -x "' .. ENV .. '/bin/python" ]; then python3 -m venv "' .. ENV .. '"; fi',
  '. "' .. ENV .. '/bin/activate"',
  'pip install -q "trl>=1.9,<2" "peft>=0.17" "accelerate>=1.7" "datasets>=4.7"',
  "vibeml_phase install end",
}, "\n")

local RUN = table.concat({ "set -e", '. "' .. ENV .. '/bin/activate"', "python train.py" }, "\n")

return {
  kind = "workflow",
  name = "my_workflow",
  title = "Quick LoRA (one GPU, short runs)",
  description = "bf16 LoRA with rank 8 and 200 steps by default: a fast first look at whether "
    .. "fine-tuning helps, before a longer run.",
  version = "0.1.0",
  method = "lora",
  model_sizes = { min_b = 0.1, max_b = 8 },
  vram = { overhead_gb = 1.5, weight_bytes_per_param = 2, grad_bytes_per_param = 0,
           optimizer_bytes_per_param = 0, adapter_fraction_per_rank = 0.00033,
           adapter_bytes_per_param = 16, activation_gb_per_1k_tokens_per_sqrt_b = 0.3,
           margin = 1.2, sharded = false },
  throughput = { k = 4, mfu = 0.3, scale = { single = 1 }, setup_s = { 180, 300 },
                 warmup_s = { 20, 60 }, download_mb_s = 150, load_gb_s = 1, export_s = 10,
                 overhead_factor = 1.15 },
  typical = { duration_h = { 0.2, 1 }, cost_usd = { 0.5, 5 } },
  hyperparameters = kit.hf_hyperparameters({
    lora_r = { type = "integer", default = 8, min = 1, max = 64, description = "LoRA rank" },
    max_steps = { type = "integer", default = 200, min = 1, max = 100000,
                  description = "optimizer steps" },
  }),
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  gpu = { required = true, min_count = 1, max_count = 1, multi_node = false },

  build = function(p)
    return kit.task {
      workflow = "my_workflow", p = p, method = "lora", gpu = true, setup = SETUP, run = RUN,
      files = { { "train.py", "workflows/lora/train.py" }, { "vibeml_hf.py", "workflows/vibeml_hf.py" } },
    }
  end,
}

-- unsloth — 4-bit QLoRA with Unsloth on one GPU (reference/training.md §1). Unsloth pins TRL and
-- transformers, so it gets its own Python environment, apart from the TRL workflows.
local kit = require "vibeml.taskkit"

local ENV = "$HOME/vibeml-envs/unsloth"

local SETUP = table.concat({
  "set -e",
  kit.PHASE_FN,
  "vibeml_phase install start",
  'if [ ! -x "' .. ENV .. '/bin/python" ]; then',
  '  python3 -m venv "' .. ENV .. '" || { python3 -m pip install -q --user virtualenv && python3 -m virtualenv "' .. ENV .. '"; }',
  "fi",
  '. "' .. ENV .. '/bin/activate"',
  "pip install -q --upgrade pip",
  -- Unsloth resolves its own TRL/transformers/peft/bitsandbytes pins (training.md §0)
  'pip install -q "unsloth==2026.8.19" "hf_transfer>=0.1.8"',
  "vibeml_phase install end",
}, "\n")

local RUN = table.concat({
  "set -e",
  '. "' .. ENV .. '/bin/activate"',
  "export HF_HUB_ENABLE_HF_TRANSFER=1",
  "python train.py",
}, "\n")

local hp = kit.hf_hyperparameters({
  learning_rate = { type = "number", default = 2e-4, min = 1e-7, max = 1e-2,
                    description = "peak learning rate (2e-4 for short runs, 2e-5 for long ones)" },
  lora_alpha = { type = "integer", default = 16, min = 1, max = 2048, description = "LoRA alpha" },
  lora_dropout = { type = "number", default = 0, min = 0, max = 0.5,
                   description = "LoRA dropout (0 is Unsloth's fast path)" },
  chat_template = { type = "string", default = "auto",
                    enum = { "auto", "chatml", "llama-3", "llama-3.1", "qwen-2.5", "qwen3",
                             "gemma-3", "phi-3", "phi-4", "mistral", "zephyr", "alpaca" },
                    description = "chat template for conversational data; auto keeps the model's own" },
  optim = { type = "string", default = "adamw_8bit", enum = { "adamw_8bit", "adamw_torch", "paged_adamw_8bit" },
            description = "optimizer" },
  save_gguf = { type = "string", default = "none", enum = { "none", "q4_k_m", "q5_k_m", "q8_0", "f16" },
                description = "also export a GGUF file with this quantization" },
})

return {
  kind = "workflow",
  name = "unsloth",
  title = "QLoRA with Unsloth (4-bit, one GPU)",
  description = "Cheapest way to fine-tune: the model is loaded in 4 bits and LoRA adapters are "
    .. "trained with Unsloth's kernels (about 2x faster, 70% less memory than plain Hugging Face). "
    .. "One GPU; a 70B model fits on one 80 GB card. Produces a LoRA adapter (optionally merged or GGUF).",
  version = "1.0.0",
  method = "qlora",
  model_sizes = { min_b = 0.1, max_b = 120 },
  -- Memory model (GB, whole job): overhead_gb + params_b * (weight + grad + optimizer bytes per
  -- parameter) + params_b * adapter_fraction_per_rank * rank * adapter_bytes_per_param
  -- + activation_gb_per_1k_tokens_per_sqrt_b * sqrt(params_b) * seq_len * batch / 1000;
  -- a GPU fits when need * margin <= usable memory. Calibrated on training.md §4 (measured peaks
  -- 1B 2.2 GB, 8B 7.9 GB, 70B 42.8 GB at seq 2048).
  vram = {
    overhead_gb = 1.0,
    weight_bytes_per_param = 0.55,
    grad_bytes_per_param = 0,
    optimizer_bytes_per_param = 0,
    adapter_fraction_per_rank = 0.00033,
    adapter_bytes_per_param = 8,
    activation_gb_per_1k_tokens_per_sqrt_b = 0.21,
    margin = 1.2,
    sharded = false,
    reference = { { params_b = 1.24, seq_len = 2048, batch = 1, gb = 2.2 },
                  { params_b = 8.03, seq_len = 2048, batch = 2, gb = 7.9 },
                  { params_b = 70.6, seq_len = 2048, batch = 2, gb = 42.8 } },
  },
  -- Throughput model (training.md §5): tokens/s = gpus * scale * peak_tflops * 1e12 * mfu * arch
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
    overhead_factor = 1.15,
  },
  typical = { duration_h = { 0.3, 6 }, cost_usd = { 0.5, 25 } },
  hyperparameters = hp,
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  gpu = { required = true, min_count = 1, max_count = 1, multi_node = false },

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
    return kit.task {
      workflow = "unsloth", p = p, method = "qlora", gpu = true,
      desc_secrets = { required = {} },
      setup = SETUP, run = RUN,
      files = { { "train.py", "workflows/unsloth/train.py" },
                { "vibeml_hf.py", "workflows/vibeml_hf.py" } },
    }
  end,
}

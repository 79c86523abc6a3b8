-- smoke — a CPU-only pipeline check. It really trains a tiny character-bigram language model with
-- Python's standard library (no pip, no GPU), prints @@VIBEML progress, checkpoints, resumes,
-- stops cleanly on SIGTERM and writes an artifact — so launch, progress, logs, completion and
-- cost can be tried end to end in seconds and for (nearly) nothing.
local kit = require "vibeml.taskkit"

local SETUP = table.concat({
  "set -e",
  kit.PHASE_FN,
  "vibeml_phase install start",
  "python3 --version",
  "vibeml_phase install end",
}, "\n")

local RUN = "python3 train.py"

return {
  kind = "workflow",
  name = "smoke",
  title = "Smoke test (CPU, tiny model, standard library only)",
  description = "Trains a character-bigram model on a small built-in text (or a local text/JSONL "
    .. "file) on CPU in seconds. Use it to check that launching, progress, logs, checkpoints, "
    .. "stopping and cost tracking work before paying for GPUs. The model id is only a label.",
  version = "1.0.0",
  method = "other",
  model_sizes = { min_b = 0, max_b = 1000 },
  vram = { overhead_gb = 0, weight_bytes_per_param = 0, grad_bytes_per_param = 0,
           optimizer_bytes_per_param = 0, adapter_fraction_per_rank = 0,
             adapter_bytes_per_param = 0,
           activation_gb_per_1k_tokens_per_sqrt_b = 0, margin = 1.0, sharded = false,
             cpu_only = true },
  throughput = { k = 0, mfu = 0, cpu_steps_per_s = 200, setup_s = { 5, 30 }, warmup_s = { 0, 1 },
                 export_s = 1, overhead_factor = 1.0 },
  -- cpu_rate_hr: a 2-vCPU on-demand VM (e.g. AWS m6i.large), what a cloud run of it is billed at
  typical = { duration_h = { 0.01, 0.1 }, cost_usd = { 0, 0.05 }, cpu_rate_hr = 0.096 },
  hyperparameters = {
    max_steps = { type = "integer", default = 200, min = 1, max = 1000000,
                  description = "training steps" },
    learning_rate = { type = "number", default = 5, min = 0.0001, max = 50,
                      description = "SGD learning rate" },
    batch_size = { type = "integer", default = 32, min = 1, max = 4096,
                   description = "character pairs per step" },
    save_steps = { type = "integer", default = 25, min = 1, max = 1000000,
                   description = "save a checkpoint every N steps" },
    save_total_limit = { type = "integer", default = 2, min = 1, max = 20,
                         description = "checkpoints kept" },
    logging_steps = { type = "integer", default = 5, min = 1, max = 100000,
                      description = "report progress every N steps" },
    step_delay_s = { type = "number", default = 0, min = 0, max = 10,
                     description = "sleep per step, to make a run last (tests, demos)" },
    seed = { type = "integer", default = 1234, min = 0, max = 2147483647,
      description = "random seed" },
    dataset_file = { type = "string",
                     description =
                       "local .txt or .jsonl file to train on instead of the built-in text" },
    fail_at_step = { type = "integer", default = 0, min = 0, max = 1000000,
                     description =
                       "raise an error at this step (0 = never), to test failure handling" },
    -- injected faults for the watchdogs (they shape the run, so they are part of its fingerprint)
    nan_at_step = { type = "integer", default = 0, min = 0, max = 1000000,
                    description =
                      "the loss becomes NaN from this step on (0 = never), to test the watchdogs" },
    diverge_at_step = { type = "integer", default = 0, min = 0, max = 1000000,
                        description =
                          "the loss grows tenfold per logged step from this step on (0 = never)" },
    stall_at_step = { type = "integer", default = 0, min = 0, max = 1000000,
                      description = "hang (an hour, still stoppable) at this step (0 = never)" },
    setup_delay_s = { type = "number", default = 0, min = 0, max = 3600,
                      description =
                        "wait this long before the first step, as a slow model download "
                        .. "or load would (a SIGTERM ends the wait; nothing is saved), to test the "
                        .. "stuck-in-set-up watchdog" },
  },
  secrets = { required = {}, optional = { "HF_TOKEN" } },
  gpu = { required = false, min_count = 0, max_count = 0, multi_node = false },

  build = function(p)
    return kit.task {
      workflow = "smoke", p = p, method = "other", gpu = false, disk_size = 20, cpus = "2+",
      setup = SETUP, run = RUN,
      files = { { "train.py", "workflows/smoke/train.py" } },
    }
  end,
}

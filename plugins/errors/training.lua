-- SPDX-License-Identifier: MIT
--
-- Error translation rules for training programs: what a failed job's
-- stderr/stdout tail usually means and the fix an assistant can apply in one call.
-- Same rule shape as plugins/errors/skypilot.lua. ctx also carries hyperparameters (ctx.hp).
local function relaunch(ctx, over, title)
  local args = { job_id = ctx.job_id }
  for k, v in pairs(over or {}) do args[k] = v end
  return { title = title, tool = "launch_training", arguments = args }
end

local function hp(ctx, k, d) return (ctx.hp or {})[k] or d end

local D = {
  kind = "error_rules",
  name = "training",
  version = "1.0.0",
  description = "CUDA out-of-memory, disk full, missing modules, gated models, dataset columns",
  rules = {
    { id = "cuda_oom", category = "user_code", retry = false,
      patterns = { "CUDA out of memory", "torch%.OutOfMemoryError", "OutOfMemoryError: CUDA",
                   "CUBLAS_STATUS_ALLOC_FAILED", "HIP out of memory" },
      message = "The GPU ran out of memory during training.",
      fixes = function(ctx)
        local b = hp(ctx, "per_device_batch_size", hp(ctx, "batch_size", 2))
        local ga = hp(ctx, "gradient_accumulation_steps", 4)
        local f = {}
        if b > 1 then
          f[#f + 1] = relaunch(ctx,
            { hyperparameters = { per_device_batch_size = math.max(1, b // 2),
                                                          gradient_accumulation_steps = ga * 2 } },
            string.format(
              "Halve the batch (%d -> %d) and double gradient accumulation (%d -> %d): same " ..
                "effective batch", b, math.max(1, b // 2), ga, ga * 2))
        end
        local seq = hp(ctx, "max_seq_length", nil)
        if seq and seq > 512 then
          f[#f + 1] = relaunch(ctx, { hyperparameters = { max_seq_length = seq // 2 } },
            string.format("Halve the sequence length (%d -> %d)", seq, seq // 2))
        end
        f[#f + 1] = relaunch(ctx, { workflow = "unsloth" },
          "Use QLoRA (4-bit, the unsloth workflow), which needs far less memory")
        f[#f + 1] = relaunch(ctx, { min_vram_gb = (ctx.vram_gb or 24) * 2 },
          "Use a GPU with twice the memory")
        return f
      end },
    { id = "disk_full", category = "setup", retry = false,
      patterns = { "No space left on device", "OSError: %[Errno 28%]", "Disk quota exceeded" },
      message = "The machine's disk filled up (model download, caches or checkpoints).",
      fixes = function(ctx)
        return { relaunch(ctx, { disk_size = (ctx.disk_size or 100) * 2 },
          "Launch with twice the disk"),
                 relaunch(ctx, { hyperparameters = { save_total_limit = 1 } },
                   "Keep only one checkpoint") }
      end },
    { id = "missing_module", category = "setup", retry = false,
      patterns = { "ModuleNotFoundError: No module named '([^']+)'",
        "ImportError: cannot import name" },
      message =
        "A Python package the training script needs is not installed (setup did not install it, " ..
        "or versions clash).",
      fixes = function(ctx)
        return { { title = "Read the setup output", tool = "get_job_logs",
          arguments = { job_id = ctx.job_id, stream = "stdout", tail = 200 } } }
      end },
    { id = "gated_model", category = "credentials", retry = false,
      patterns = { "401 Client Error", "403 Client Error", "GatedRepoError",
        "Access to model .- is restricted",
                   "You are trying to access a gated repo", "Cannot access gated repo" },
      message =
        "The model is gated on Hugging Face: accept its licence on the model page and give " ..
        "VibeML a token with access.",
      fixes = function(ctx)
        return { { title = "Store your Hugging Face token (the person types it, not the assistant)",
          command = "vibeml secrets set HF_TOKEN" },
                 { title = "Accept the model's licence", command = "open https://huggingface.co/"
                   .. tostring(ctx.model or "") } }
      end },
    { id = "dataset_columns", category = "user_code", retry = false,
      patterns = { "KeyError: '([%w_]+)'", "Column .- not in the dataset", "column_names",
        "does not have a column named",
                   "unable to find a text column", "Unrecognized dataset format" },
      message =
        "The dataset's columns do not match what the workflow expects (e.g. instruction/output, " ..
        "messages, or text).",
      fixes = function(ctx)
        return { relaunch(ctx, { dataset_format = "auto" },
          "Let the workflow detect the format (dataset_format=auto)"),
                 { title = "Inspect the dataset's columns", tool = "plan_training",
                   arguments = { model = ctx.model, dataset = ctx.dataset } } }
      end },
    { id = "nccl", category = "setup", retry = true,
      patterns = { "NCCL error", "ProcessGroupNCCL" },
      message = "Communication between GPUs failed (NCCL).",
      fixes = function(ctx) return { relaunch(ctx, {}, "Retry on a fresh machine") } end },
    { id = "killed_oom_host", category = "user_code", retry = false,
      patterns = { "Killed$", "exit code 137", "exited with code 137" },
      message = "The process was killed, usually because the machine ran out of RAM.",
      fixes = function(ctx)
        return { relaunch(ctx, { min_memory_gb = 2 * (ctx.memory_gb or 32) },
        "Use a machine with more RAM") } end },
  },
}

-- the plugin loader's shape: every rule has `match` (its first Lua pattern); `patterns` holds all
for _, r in ipairs(D.rules) do r.match = r.match or r.patterns[1] end
return D

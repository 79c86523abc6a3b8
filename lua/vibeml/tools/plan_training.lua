-- plan_training — the full plan for a fine-tuning job: workflow, ranked GPU options (cheapest
-- expected TOTAL cost first), VRAM, duration and cost ranges, the SkyPilot task that would run,
-- warnings (gated model, missing token, spot) and assumptions. Read-only: it launches nothing.
-- the planner (with sizing) is required on the first call: a server that never plans does not
-- hold it (~80 kB of the idle server's Lua heap, ~1 ms of its start)

local function opt(t, desc, extra)
  local s = { type = t, description = desc }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local option_schema = {
  type = "object",
  properties = {
    gpu = { type = "string", description = "absent for CPU-only workflows (smoke)" },
    count = { type = "integer" }, nodes = { type = "integer" },
    cloud = { type = "string" }, region = { type = "string" }, spot = { type = "boolean" },
    rate_hr = { type = "number" },
    duration_h = { type = "object" }, cost = { type = "object" },
    reasons = { type = "array", items = { type = "string" } },
  },
  required = { "count", "cloud", "spot", "rate_hr", "duration_h", "cost" },
}

local M = {
  name = "plan_training",
  title = "Plan a fine-tuning job",
  description = "Plans fine-tuning a Hugging Face model on a dataset before any money is spent. "
    .. "Looks up the model (size, gating) and dataset (rows, format) on the Hub, picks the "
    .. "workflow (unsloth = 4-bit QLoRA, lora = bf16 LoRA, full = all weights) unless given, "
    .. "works out the GPU memory needed, and prices every GPU offer across clouds by the "
    .. "expected TOTAL cost of the job (hourly rate × duration × GPUs, plus expected spot "
    .. "recovery), not by $/hour. Returns the best option, ranked alternatives with reasons, "
    .. "the cost range (min/expected/max), the duration, the cheapest plan of each other "
    .. "workflow, warnings and assumptions, and the SkyPilot task launch_training would run. "
    .. "Constraints (gpu, gpus, cloud, region, spot, max_cost, deadline_h) narrow the options; "
    .. "when nothing fits, the error says what would (a bigger GPU, fewer steps, QLoRA) and "
    .. "what it costs. Show the person the best option's cost and duration before launching.",
  inputSchema = {
    type = "object",
    properties = {
      model = opt("string", "Hugging Face model id, e.g. meta-llama/Llama-3.1-8B",
        { minLength = 1, maxLength = 200 }),
      dataset = opt("string", "Hugging Face dataset id, e.g. yahma/alpaca-cleaned",
        { minLength = 1, maxLength = 200 }),
      workflow = opt("string", "unsloth, lora or full; chosen for you when left out",
        { minLength = 1, maxLength = 64 }),
      preference = opt("string", "how to choose the workflow when not given",
        { enum = { "cheapest", "balanced", "best_quality" } }),
      gpu = opt("string", "GPU type (name or alias, e.g. H100, A100-80GB, L40S)", { maxLength = 64 }),
      gpus = opt("integer", "total number of GPUs", { minimum = 1, maximum = 512 }),
      cloud = opt("string", "only this cloud (aws, gcp, azure, lambda, nebius, vast, ...)", { maxLength = 32 }),
      region = opt("string", "only this region", { maxLength = 64 }),
      spot = opt("boolean", "true: spot only; false: on-demand only; leave out for both"),
      max_cost = opt("number", "largest acceptable expected cost in USD", { exclusiveMinimum = 0 }),
      deadline_h = opt("number", "the job must be expected to finish within this many hours",
        { exclusiveMinimum = 0 }),
      epochs = opt("number", "passes over the dataset", { exclusiveMinimum = 0, maximum = 100 }),
      max_steps = opt("integer", "training steps (instead of epochs)", { minimum = 1 }),
      hyperparameters = opt("object", "workflow hyperparameters (see get_workflow), e.g. {\"lora_r\": 32}"),
      params_b = opt("number", "parameter count in billions, when the Hub cannot tell",
        { exclusiveMinimum = 0, maximum = 10000 }),
      offline = opt("boolean", "do not contact Hugging Face (sizes from the model name)"),
      limit = opt("integer", "how many ranked options to return", { minimum = 1, maximum = 50, default = 8 }),
    },
    required = { "model" },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      workflow = { type = "string" },
      method = { type = "string" },
      model_info = { type = "object" },
      dataset_info = { type = "object" },
      best = option_schema,
      options = { type = "array", items = option_schema },
      alternatives = { type = "array" },
      warnings = { type = "array", items = { type = "string" } },
      assumptions = { type = "array", items = { type = "string" } },
      task = { type = "object" },
    },
    required = { "workflow", "method", "model_info", "best", "options", "warnings", "assumptions" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
                  openWorldHint = true },
}

local function summary(p)
  local b = p.best
  if b.count == 0 then
    return string.format("%s with workflow %s runs on CPU (no GPU): expected $%.2f, %.2f h. %s",
      p.model_info.id, p.workflow, b.cost.expected, b.duration_h.expected, b.reasons[1])
  end
  local lines = {
    string.format("%s (%.2f B parameters) with workflow %s: best is %d× %s on %s %s (%s), "
      .. "expected $%.2f ($%.2f–$%.2f) and %.1f h.", p.model_info.id, p.model_info.params_b,
      p.workflow, b.count, b.gpu, b.cloud, b.region, b.spot and "spot" or "on-demand",
      b.cost.expected, b.cost.min, b.cost.max, b.duration_h.expected),
  }
  for i = 2, math.min(4, #p.options) do
    local o = p.options[i]
    lines[#lines + 1] = string.format("#%d: %d× %s on %s %s (%s) $%.2f, %.1f h", i, o.count, o.gpu,
      o.cloud, o.region, o.spot and "spot" or "on-demand", o.cost.expected, o.duration_h.expected)
  end
  for _, w in ipairs(p.warnings) do lines[#lines + 1] = "Warning: " .. w end
  for _, a in ipairs(p.assumptions) do lines[#lines + 1] = "Assumed: " .. a end
  return table.concat(lines, "\n")
end

function M.handler(args, ctx)
  local req = {}
  for k, v in pairs(args) do req[k] = v end
  if ctx and ctx.progress then ctx:progress(0, 2, "looking up the model and dataset") end
  local p, err = require("vibeml.planner").plan(req)
  if not p then return nil, err end
  if ctx and ctx.progress then ctx:progress(2, 2, "planned") end
  p.request = nil -- the caller has it
  return p, summary(p)
end

return M

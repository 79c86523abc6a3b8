-- list_workflows — the training workflows VibeML can run (shipped and user plugins), with what
-- each is for, the model sizes it supports, GPUs, typical time and cost. Read-only.
local wf = require "vibeml.workflows"

local function summary(d)
  local names = {}
  for k in pairs(d.hyperparameters or {}) do names[#names + 1] = k end
  table.sort(names)
  return {
    name = d.name, title = d.title, description = d.description, version = d.version,
    method = d.method, source = d.source,
    model_sizes = d.model_sizes,
    gpu = d.gpu,
    typical = d.typical,
    secrets = { required = vibeml.array(d.secrets and d.secrets.required or {}),
                optional = vibeml.array(d.secrets and d.secrets.optional or {}) },
    hyperparameters = vibeml.array(names),
  }
end

return {
  name = "list_workflows",
  title = "List training workflows",
  description = "Lists the fine-tuning workflows VibeML can launch: unsloth (4-bit QLoRA on one "
    .. "GPU, cheapest), lora (bf16 LoRA with TRL, one or several GPUs), full (full fine-tune with "
    .. "DeepSpeed ZeRO-3/FSDP, several GPUs or nodes), smoke (CPU pipeline check, nearly free) and "
    .. "any user plugins. Each entry gives the method, supported model sizes (billions of "
    .. "parameters), GPU needs, typical duration and cost, required secrets and hyperparameter "
    .. "names. Pass params_b (and optionally preference, budget_usd) to get a suggested workflow "
    .. "with the reason. Use get_workflow for one workflow's hyperparameter ranges.",
  inputSchema = {
    type = "object",
    properties = {
      method = { type = "string", enum = { "qlora", "lora", "full", "other" },
                 description = "only workflows of this method" },
      params_b = { type = "number", minimum = 0, maximum = 10000,
                   description = "model size in billions of parameters: only workflows that support it, and a suggestion" },
      preference = { type = "string", enum = { "cheapest", "balanced", "best_quality" },
                     description = "what matters most for the suggestion (default balanced)" },
      budget_usd = { type = "number", minimum = 0, description = "budget for the suggestion" },
    },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      workflows = { type = "array", items = { type = "object",
        properties = { name = { type = "string" }, method = { type = "string" } },
        required = { "name", "method" } } },
      count = { type = "integer" },
      suggested = { type = "object", properties = { name = { type = "string" },
                                                    reason = { type = "string" } } },
    },
    required = { "workflows", "count" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
                  openWorldHint = false },
  handler = function(args, ctx)
    args = args or {}
    local out = vibeml.array({})
    for _, d in ipairs(wf.list()) do
      local s = d.model_sizes or {}
      local ok = (not args.method or d.method == args.method)
        and (not args.params_b or (args.params_b >= (s.min_b or 0) and args.params_b <= (s.max_b or math.huge)))
      if ok then out[#out + 1] = summary(d) end
    end
    local res = { workflows = out, count = #out }
    if args.params_b then
      local name, reason = wf.select({ params_b = args.params_b, preference = args.preference,
                                       budget = args.budget_usd })
      if name then res.suggested = { name = name, reason = reason } end
    end
    local lines = {}
    for _, d in ipairs(out) do
      lines[#lines + 1] = string.format("%s (%s, %g-%gB): %s", d.name, d.method,
        d.model_sizes.min_b, d.model_sizes.max_b, d.title)
    end
    if res.suggested then
      lines[#lines + 1] = "suggested: " .. res.suggested.name .. " — " .. res.suggested.reason
    end
    return res, table.concat(lines, "\n")
  end,
}

-- list_workflows — the training workflows VibeML can run (shipped and user plugins), with what
-- each is for, the model sizes it supports, GPUs, typical time and cost. Read-only.
local kit = require "vibeml.mcp.toolkit"
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
  description =
    "The fine-tuning workflows: unsloth (4-bit QLoRA, cheapest), lora, full, smoke (CPU "
    .. "check) and plugins, with sizes, GPU needs, typical cost. params_b gives a suggestion.",
  inputSchema = {
    type = "object",
    properties = {
      method = { type = "string", enum = { "qlora", "lora", "full", "other" } },
      params_b = { type = "number", minimum = 0, maximum = 10000,
        description = "model size, billions" },
      preference = { type = "string", enum = { "cheapest", "balanced", "best_quality" } },
      budget_usd = { type = "number", minimum = 0 },
    },
    additionalProperties = false,
  },
  outputSchema = kit.out({ workflows = "array", count = "integer", suggested = "object" },
    { "workflows", "count" }),
  annotations = kit.READ_LOCAL,
  handler = function(args, ctx)
    args = args or {}
    local out = vibeml.array({})
    for _, d in ipairs(wf.list()) do
      local s = d.model_sizes or {}
      local ok = (not args.method or d.method == args.method)
        and (not args.params_b
          or (args.params_b >= (s.min_b or 0) and args.params_b <= (s.max_b or math.huge)))
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

-- get_workflow — one workflow in full: hyperparameters with defaults and allowed ranges, the VRAM
-- and throughput constants the planner uses, GPU needs, secrets, typical time and cost. Read-only.
local kit = require "vibeml.mcp.toolkit"
local wf = require "vibeml.workflows"

return {
  name = "get_workflow",
  title = "Get a training workflow",
  description =
    "One workflow in full: what it does, model sizes, GPUs, secrets, typical cost, and every "
    .. "hyperparameter with type, default and range (for hyperparameters in plan_training).",
  inputSchema = {
    type = "object",
    properties = {
      name = { type = "string", minLength = 1, maxLength = 64 },
    },
    required = { "name" },
    additionalProperties = false,
  },
  outputSchema = kit.out({ name = "string", method = "string", hyperparameters = "object" },
    { "name", "method", "hyperparameters" }),
  annotations = kit.READ_LOCAL,
  handler = function(args, ctx)
    local d, e = wf.get(args.name)
    if not d then return nil, e end
    d.path = nil -- where the file lives on this machine is not the assistant's business
    local hp = {}
    for k in pairs(d.hyperparameters or {}) do hp[#hp + 1] = k end
    table.sort(hp)
    local lines = { string.format("%s %s — %s (%s, %g-%gB)", d.name, d.version, d.title, d.method,
      d.model_sizes.min_b, d.model_sizes.max_b), d.description, "hyperparameters:" }
    for _, k in ipairs(hp) do
      local s = d.hyperparameters[k]
      local range = s.enum and ("one of " .. table.concat(s.enum, ", "))
        or ((s.min or s.max)
          and string.format("%s..%s", tostring(s.min or ""), tostring(s.max or "")) or "")
      lines[#lines + 1] = string.format("  %s (%s, default %s%s): %s", k, s.type,
        s.default == nil and "none" or tostring(s.default), range ~= "" and ("; " .. range) or "",
        s.description or "")
    end
    return d, table.concat(lines, "\n")
  end,
}

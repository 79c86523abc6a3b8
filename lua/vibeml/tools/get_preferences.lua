-- MCP tool get_preferences: the person's defaults (backend, cloud, region, GPU, spot, workflow)
-- and, for reference, the money limits (which only the person can change, from the CLI).
local kit = require "vibeml.mcp.toolkit"
local prefs = require "vibeml.prefs"

local function nn(v) if v == nil then return vibeml.null end return v end

local function snapshot()
  local p, msg = prefs.get()
  if not p then return nil, msg end
  local out = vibeml.object{}
  for _, s in ipairs(prefs.SPEC) do out[s.key] = nn(p[s.key]) end
  return {
    preferences = out,
    money = { per_job_cap = nn(p.per_job_cap), monthly_budget = nn(p.monthly_budget) },
    path = prefs.path(),
    note = "Money limits are changed only by the person: `vibeml budget set --monthly USD "
      .. "--per-job USD`.",
  }
end

return {
  name = "get_preferences",
  title = "Get preferences",
  description = "The person's defaults for plans and launches (backend, cloud, region, gpu, spot, "
    .. "workflow; null = none) and the money limits.",
  inputSchema = { type = "object", properties = vibeml.object{}, additionalProperties = false },
  outputSchema = kit.out({ preferences = "object", money = "object" }, { "preferences", "money" }),
  annotations = kit.READ_LOCAL,
  snapshot = snapshot,
  handler = function(args, ctx)
    return snapshot()
  end,
}

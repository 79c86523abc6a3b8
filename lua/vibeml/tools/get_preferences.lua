-- MCP tool get_preferences: the person's defaults (backend, cloud, region, GPU, spot, workflow)
-- and, for reference, the money limits (which only the person can change, from the CLI).
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

local str_or_null = { type = { "string", "null" } }

return {
  name = "get_preferences",
  title = "Get preferences",
  description = "The person's default choices for new plans and launches: backend (skypilot or "
    .. "local), cloud, region, GPU, spot, workflow (null = no preference), and the money limits "
    .. "(per-job cap, monthly budget) for reference. Use them as defaults when planning; "
    .. "an explicit request from the person wins.",
  inputSchema = { type = "object", properties = vibeml.object{}, additionalProperties = false },
  outputSchema = {
    type = "object",
    properties = {
      preferences = { type = "object", properties = {
        backend = { type = "string" }, cloud = str_or_null, region = str_or_null,
        gpu = str_or_null, spot = { type = "boolean" }, workflow = str_or_null,
        storage = str_or_null } },
      money = { type = "object", properties = {
        per_job_cap = { type = { "number", "null" } },
        monthly_budget = { type = { "number", "null" } } } },
      path = { type = "string" },
      note = { type = "string" },
    },
    required = { "preferences", "money" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
    openWorldHint = false },
  snapshot = snapshot,
  handler = function(args, ctx)
    return snapshot()
  end,
}

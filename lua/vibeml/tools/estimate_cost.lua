-- estimate_cost — price a GPU type × count × hours across clouds (spot and on-demand).
-- the planner is required on the first call (see plan_training)
local kit = require "vibeml.mcp.toolkit"

return {
  name = "estimate_cost",
  title = "Estimate GPU cost",
  description =
    "Prices a GPU type × count for some hours on every cloud and region, spot and on-demand, "
    .. "cheapest expected cost first. To plan a job use plan_training.",
  inputSchema = {
    type = "object",
    properties = {
      gpu = { type = "string", minLength = 1, maxLength = 64 },
      count = { type = "integer", minimum = 1, maximum = 512, default = 1 },
      hours = { type = "number", exclusiveMinimum = 0, maximum = 10000 },
      spot = { type = "boolean" },
      cloud = { type = "string", maxLength = 32 },
      region = { type = "string", maxLength = 64 },
      limit = { type = "integer", minimum = 1, maximum = 200, default = 10 },
    },
    required = { "gpu", "hours" },
    additionalProperties = false,
  },
  outputSchema = kit.out({ cheapest = "object", rows = "array", total = "integer" }, { "rows" }),
  annotations = kit.READ_LOCAL,
  handler = function(args)
    local e, err = require("vibeml.planner").estimate(args)
    if not e then return nil, err end
    e.total = #e.rows
    local limit = args.limit or 10
    for i = #e.rows, limit + 1, -1 do e.rows[i] = nil end
    e.cheapest = e.rows[1]
    local c = e.cheapest
    return e, string.format("%d× %s for %g h: cheapest $%.2f expected ($%.2f–$%.2f) on %s %s (%s, "
      .. "$%.2f/h); %d offers priced", e.count, e.gpu, e.hours, c.cost.expected, c.cost.min,
      c.cost.max, c.cloud, c.region, c.spot and "spot" or "on-demand", c.rate_hr, e.total)
  end,
}

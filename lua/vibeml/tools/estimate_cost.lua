-- estimate_cost — price a GPU type × count × hours across clouds (spot and on-demand).
-- the planner is required on the first call (see plan_training)

return {
  name = "estimate_cost",
  title = "Estimate GPU cost",
  description = "Prices running a GPU type (name or alias, e.g. H100, A100-80GB) × a GPU count "
    .. "for a number of hours on every cloud and region that offers it, on-demand and spot. "
    .. "Returns rows sorted by expected cost with min/expected/max (max adds 15% over-run; spot "
    .. "adds the expected cost of preemptions) and the hourly rate. Use it for 'how much would "
    .. "N hours on X cost'; to plan a training job use plan_training, which also works out how "
    .. "long the job takes. Unknown GPU types are refused with the list of supported ones.",
  inputSchema = {
    type = "object",
    properties = {
      gpu = { type = "string", minLength = 1, maxLength = 64, description = "GPU type" },
      count = { type = "integer", minimum = 1, maximum = 512, default = 1, description = "total GPUs" },
      hours = { type = "number", exclusiveMinimum = 0, maximum = 10000, description = "hours of use" },
      spot = { type = "boolean", description = "true: spot only; false: on-demand only" },
      cloud = { type = "string", maxLength = 32 },
      region = { type = "string", maxLength = 64 },
      limit = { type = "integer", minimum = 1, maximum = 200, default = 10 },
    },
    required = { "gpu", "hours" },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      gpu = { type = "string" }, count = { type = "integer" }, hours = { type = "number" },
      cheapest = { type = "object" },
      rows = { type = "array", items = { type = "object",
        properties = { cloud = { type = "string" }, region = { type = "string" },
                       spot = { type = "boolean" }, rate_hr = { type = "number" },
                       cost = { type = "object" } },
        required = { "cloud", "region", "spot", "rate_hr", "cost" } } },
      total = { type = "integer" },
    },
    required = { "gpu", "count", "hours", "rows" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
                  openWorldHint = false },
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

-- list_gpus — GPU offers from the price catalog by cloud and region, on-demand and spot.
local kit = require "vibeml.mcp.toolkit"
local gpus_api = require "vibeml.api.gpus"

return {
  name = "list_gpus",
  title = "List GPU offers",
  description =
    "GPU offers from the price catalog: per GPU type, count and cloud, its cheapest region, "
    .. "on-demand and spot $/h, memory. For a job's GPU choice use plan_training.",
  inputSchema = {
    type = "object",
    properties = {
      cloud = { type = "string", maxLength = 32 },
      region = { type = "string", maxLength = 64 },
      gpu = { type = "string", maxLength = 64 },
      min_memory = { type = "number", minimum = 0, description = "GB per GPU" },
      spot = { type = "boolean", description = "only with a spot price" },
      limit = { type = "integer", minimum = 1, maximum = 500, default = 40 },
    },
    additionalProperties = false,
  },
  outputSchema = kit.out({ offers = "array", total = "integer" }, { "offers", "total" }),
  annotations = kit.READ_LOCAL,
  handler = function(args)
    local q = {}
    for k, v in pairs(args) do q[k] = v end
    q.limit = q.limit or 40
    local res, err = gpus_api(q)
    if not res then return nil, err end
    local lines = { string.format("%d offers (showing %d):", res.total, #res.offers) }
    for i = 1, math.min(#res.offers, 15) do
      local o = res.offers[i]
      lines[#lines + 1] = string.format("%d× %s (%d GB) on %s %s: $%.2f/h%s", o.count, o.gpu,
        o.memory_gb, o.cloud, o.region, o.price_hr,
        o.spot_price_hr and string.format(", spot $%.2f/h", o.spot_price_hr) or "")
    end
    return res, table.concat(lines, "\n")
  end,
}

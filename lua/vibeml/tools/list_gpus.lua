-- list_gpus — GPU offers from the price catalog by cloud and region, on-demand and spot.
local gpus_api = require "vibeml.api.gpus"

return {
  name = "list_gpus",
  title = "List GPU offers",
  description = "Lists GPU offers from VibeML's price catalog (SkyPilot's catalog: the shipped "
    .. "snapshot, or fresher prices after `vibeml catalog refresh`): one entry per GPU type, GPUs "
    .. "per machine and cloud, at its cheapest region, with the on-demand and spot price per "
    .. "machine-hour and per GPU-hour, memory and BF16 TFLOPs. Sorted by the cheapest GPU-hour. "
    .. "Use it to answer 'what GPUs can I get and for how much'; to choose for a job, prefer "
    .. "plan_training, which ranks by the whole job's cost.",
  inputSchema = {
    type = "object",
    properties = {
      cloud = { type = "string", maxLength = 32, description = "only this cloud" },
      region = { type = "string", maxLength = 64, description = "only this region" },
      gpu = { type = "string", maxLength = 64, description = "only this GPU type (name or alias)" },
      min_memory = { type = "number", minimum = 0, description = "at least this many GB per GPU" },
      spot = { type = "boolean", description = "only offers with a spot price" },
      limit = { type = "integer", minimum = 1, maximum = 500, default = 40,
                description = "at most this many entries" },
    },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      offers = { type = "array", items = { type = "object",
        properties = { gpu = { type = "string" }, count = { type = "integer" },
                       memory_gb = { type = "number" }, cloud = { type = "string" },
                       region = { type = "string" }, price_hr = { type = "number" },
                       spot_price_hr = { type = "number" }, best_per_gpu_hr = { type = "number" } },
        required = { "gpu", "count", "memory_gb", "cloud", "region", "price_hr", "best_per_gpu_hr" } } },
      total = { type = "integer" },
      gpus = { type = "array" },
      sources = { type = "object" },
    },
    required = { "offers", "total" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
                  openWorldHint = false },
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

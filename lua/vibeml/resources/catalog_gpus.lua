-- vibeml://catalog/gpus — the GPU price catalog as JSON (what list_gpus returns, all entries),
-- with where the prices come from. Updated (resource_updated) after `vibeml catalog refresh`.
local gpus_api = require "vibeml.api.gpus"
return {
  uri = "vibeml://catalog/gpus",
  name = "catalog_gpus",
  title = "GPU offers and prices",
  description = "Every GPU type × GPUs per machine × cloud at its cheapest region, with on-demand "
    .. "and spot prices, memory and BF16 TFLOPs, and the catalog's sources (snapshot or refresh).",
  mimeType = "application/json",
  read = function()
    local res = assert(gpus_api {})
    return vibeml.json.encode(res)
  end,
}

-- vibeml.gpus{ cloud=, region=, gpu=, min_memory=, spot=, limit= } -> { offers = {...}, total = n,
-- gpus = {specs}, sources = {...} } | nil, message, code
-- One offer per (GPU, GPUs per node, cloud): the cheapest region, sorted by the price of a
-- GPU-hour (spot when asked or cheaper). Also the backing of `vibeml gpus`, the list_gpus tool
-- and the vibeml://catalog/gpus resource.
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local E = vibeml.E

return function(q)
  q = q or {}
  local want
  if q.gpu then
    local name, err = gpus.resolve(q.gpu)
    if not name then return nil, err, E.EINVAL end
    want = name
  end
  local best, keys = {}, {}
  local source = want and catalog.by_gpu(want) or catalog.offers()
  for _, o in ipairs(source) do
    local spec = o.spec or gpus.get(o.gpu)
    if (not q.cloud or o.cloud == q.cloud) and (not q.region or o.region == q.region)
       and (not q.min_memory or spec.memory_gb >= q.min_memory)
       and (not q.spot or o.spot_price) then
      local key = o.gpu .. "|" .. o.count .. "|" .. o.cloud
      local per = (q.spot and o.spot_price
        or math.min(o.price, o.spot_price or math.huge)) / o.count
      local b = best[key]
      if not b or per < b.best_per_gpu_hr then
        if not b then keys[#keys + 1] = key end
        best[key] = { gpu = o.gpu, count = o.count, memory_gb = spec.memory_gb,
          bf16_tflops = spec.bf16_tflops, cloud = o.cloud, region = o.region,
          instance_type = o.instance_type ~= "" and o.instance_type or nil,
          price_hr = o.price, spot_price_hr = o.spot_price, best_per_gpu_hr = per,
          regions = 0 }
      end
      best[key].regions = best[key].regions + 1
    end
  end
  local list = {}
  for _, k in ipairs(keys) do list[#list + 1] = best[k] end
  table.sort(list, function(a, b)
    if a.best_per_gpu_hr ~= b.best_per_gpu_hr then return a.best_per_gpu_hr < b.best_per_gpu_hr end
    if a.gpu ~= b.gpu then return a.gpu < b.gpu end
    if a.count ~= b.count then return a.count < b.count end
    return a.cloud < b.cloud
  end)
  local total = #list
  if q.limit and #list > q.limit then
    for i = #list, q.limit + 1, -1 do list[i] = nil end
  end
  for _, o in ipairs(list) do
    o.best_per_gpu_hr = math.floor(o.best_per_gpu_hr * 10000 + 0.5) / 10000
  end
  local specs = {}
  for _, s in ipairs(gpus.list()) do
    specs[#specs + 1] = { name = s.name, memory_gb = s.memory_gb, bf16_tflops = s.bf16_tflops,
                          aliases = s.aliases, note = s.note }
  end
  return { offers = vibeml.array(list), total = total, gpus = specs,
    sources = catalog.info().sources }
end

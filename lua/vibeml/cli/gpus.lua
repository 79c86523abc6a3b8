-- `vibeml gpus [--cloud C] [--region R] [--gpu G] [--min-memory GB] [--spot] [--limit N] [--json]`
local api = require "vibeml.api.gpus"

local USAGE = [[
usage: vibeml gpus [--cloud C] [--region R] [--gpu G] [--min-memory GB] [--spot] [--limit N] [--json]

GPU offers from the price catalog, cheapest GPU-hour first: one line per GPU type, count and cloud
(the cheapest region), with on-demand and spot prices per node-hour.
  --cloud C         only this cloud (aws, gcp, azure, lambda, nebius, vast, ...)
  --region R        only this region
  --gpu G           only this GPU type (name or alias, e.g. H100, A100-80GB, L40S)
  --min-memory GB   GPUs with at least this much memory each
  --spot            only offers with a spot price
  --limit N         at most N lines (default 40; 0 = all)
]]

local OPTIONS = { "--cloud", "--region", "--gpu", "--min-memory", "--spot", "--limit", "--json",
  "--help" }

local function parse(args)
  local A = require "vibeml.cli._args"
  local q, json, i = { limit = 40 }, false, 1
  while i <= #args do
    local a, v = args[i], args[i + 1]
    local function val()
      if v == nil then error({ usage = a .. " needs a value" }, 0) end
      i = i + 1
      return v
    end
    if a == "--json" then json = true
    elseif a == "--spot" then q.spot = true
    elseif a == "--cloud" then q.cloud = val()
    elseif a == "--region" then q.region = val()
    elseif a == "--gpu" then q.gpu = val()
    elseif a == "--min-memory" then
      q.min_memory = A.number(a, v,
        { min = 0, max = 10000, what = "a number of GB", example = "80" }); i = i + 1
    elseif a == "--limit" then
      q.limit = A.number(a, v,
        { integer = true, min = 0, max = 100000, note = "0 = all", example = "20" }); i = i + 1
    elseif a == "-h" or a == "--help" then q.help = true
    else error({ usage = A.unknown_option(a, OPTIONS) }, 0) end
    i = i + 1
  end
  return q, json
end

local function main(args)
  local ok, q, json = pcall(parse, args)
  if not ok then
    vibeml.eprint("vibeml gpus: " .. (type(q) == "table" and q.usage or tostring(q)))
    vibeml.eprint(USAGE)
    return 2
  end
  if q.help then print(USAGE); return 0 end
  q.help = nil
  -- cloud and region by the one name rule ("GCP", "US-East-1"), refused with the closest names
  if q.cloud or q.region then
    local names = require "vibeml.names"
    local seen, clouds, regions = {}, {}, {}
    for _, o in ipairs(require("vibeml.catalog").offers()) do
      if not seen["c" .. o.cloud] then
        seen["c" .. o.cloud] = true
        clouds[#clouds + 1] = o.cloud
      end
      if not seen["r" .. o.region] then
        seen["r" .. o.region] = true
        regions[#regions + 1] = o.region
      end
    end
    table.sort(clouds); table.sort(regions)
    for _, k in ipairs({ "cloud", "region" }) do
      if q[k] then
        local list = k == "cloud" and names.cloud_entries(clouds) or regions
        local c = names.match(q[k], list)
        if not c then
          vibeml.eprint("vibeml gpus: " .. (names.unknown(k, q[k], list, { max_listed = 25 })))
          return 2
        end
        q[k] = c
      end
    end
  end
  if q.limit == 0 then q.limit = nil end
  local res, err = api(q)
  if not res then
    vibeml.eprint("vibeml gpus: " .. err)
    return 1
  end
  if json then
    print(vibeml.json.encode(res))
    return 0
  end
  if #res.offers == 0 then
    print(
      "no GPU offers match; try without --cloud/--region/--min-memory, or `vibeml catalog refresh`")
    return 0
  end
  print(string.format("%-12s %5s %6s  %-8s %-22s %10s %10s %9s  %s", "GPU", "count", "mem GB",
    "cloud", "region", "$/h", "spot $/h", "$/GPU-h", "instance type"))
  for _, o in ipairs(res.offers) do
    print(string.format("%-12s %5d %6d  %-8s %-22s %10.2f %10s %9.2f  %s", o.gpu, o.count,
      o.memory_gb,
      o.cloud, o.region:sub(1, 22), o.price_hr, o.spot_price_hr
        and string.format("%.2f", o.spot_price_hr) or "-",
      o.best_per_gpu_hr, o.instance_type or "-"))
  end
  if res.total > #res.offers then
    print(string.format("... %d more (--limit 0 shows all, --json for machines)",
      res.total - #res.offers))
  end
  return 0
end

return { summary = "GPU offers by cloud and region with on-demand and spot prices",
         usage = USAGE, main = main }

-- catalog.refresh against tests/fixtures/catalog_stub.py (STUB = its base URL).
local T = require "vibeml.test"
local catalog = require "vibeml.catalog"
local base = assert(os.getenv("STUB"))
local dir = vibeml.fs.paths().data .. "/catalog/v8"

local function offers_of(cloud)
  local out = {}
  for _, o in ipairs(catalog.offers()) do if o.cloud == cloud then out[#out + 1] = o end end
  return out
end

T.case("before any refresh: the shipped snapshot", function()
  T.eq(catalog.info().sources.aws.kind, "snapshot")
  T.ok(#offers_of("aws") > 500)
end)

T.case("refresh reads each cloud's columns by header and caches them", function()
  local rep = assert(catalog.refresh { url = base .. "/good", clouds = { "aws", "nebius", "gcp" } })
  T.eq(rep.ok, 3); T.eq(rep.failed, 0)
  local info = catalog.info()
  T.eq(info.sources.aws.kind, "cache")
  T.eq(info.sources.nebius.kind, "cache")
  T.eq(info.sources.lambda.kind, "snapshot")
  local aws = offers_of("aws")
  T.eq(#aws, 4) -- H100, L40S, A10G, T4; the CPU-only m5 is left out
  local h100
  for _, o in ipairs(aws) do if o.gpu == "H100" then h100 = o end end
  T.eq(h100.count, 8); T.eq(h100.price, 55.04)
  T.eq(h100.spot_price, 19.9) -- the cheaper of two zones
  T.eq(h100.zones, "us-east-1a|us-east-1b")
  local neb = offers_of("nebius")
  T.eq(#neb, 3)
  for _, o in ipairs(neb) do
    if o.instance_type == "gpu-h100-sxm_1gpu-16vcpu-200gb" then
      T.eq(o.price, 2.95); T.eq(o.spot_price, 1.25); T.eq(o.region, "eu-north1")
    end
  end
end)

T.case("GCP: host VM price added to the GPU price, as SkyPilot does", function()
  local l4, a100, t4, n_a100 = nil, nil, nil, 0
  for _, o in ipairs(offers_of("gcp")) do
    if o.gpu == "L4" then l4 = o elseif o.gpu == "A100" then a100 = o; n_a100 = n_a100 + 1
    elseif o.gpu == "T4" then t4 = o end
  end
  T.eq(n_a100, 1) -- the a2 host row that names its GPU is a host price, not a second offer
  T.eq(l4.instance_type, "g2-standard-4")
  T.ok(math.abs(l4.price - (0.56 + 0.15)) < 1e-9, "L4 + g2 host")
  T.ok(math.abs(l4.spot_price - (0.22 + 0.06)) < 1e-9, "spot L4 + g2 host")
  T.eq(a100.instance_type, "a2-highgpu-1g")
  T.ok(math.abs(a100.price - (2.93 + 0.74)) < 1e-9)
  T.eq(t4, nil) -- no n1 host row in the file: cannot be priced, left out
end)

local function snapshot_of_cache()
  return vibeml.fs.read(dir .. "/aws.csv"), vibeml.fs.read(dir .. "/meta.json")
end

for _, case in ipairs {
  { "trunc", "cut-off download (connection closed early)", nil },
  { "cut", "complete reply whose CSV stops mid-row", "rejected" },
  { "empty", "header only", "no rows" },
  { "missing", "404", "HTTP 404" },
} do
  T.case("a bad download leaves the old cache intact: " .. case[2], function()
    local csv_before, meta_before = snapshot_of_cache()
    local rep = assert(catalog.refresh { url = base .. "/" .. case[1], clouds = { "aws" } })
    T.eq(rep.ok, 0); T.eq(rep.failed, 1)
    T.ok(rep.clouds[1].error, "error reported")
    if case[3] then T.contains(rep.clouds[1].error, case[3]) end
    local csv_after, meta_after = snapshot_of_cache()
    T.eq(csv_after, csv_before)
    T.eq(meta_after, meta_before)
    catalog.reload()
    T.eq(#offers_of("aws"), 4)
    for _, name in ipairs(vibeml.fs.list(dir)) do
      T.ok(name == "aws.csv" or name == "gcp.csv" or name == "nebius.csv" or name == "meta.json",
        "no temporary file left: " .. name)
    end
  end)
end

T.case("one cloud failing does not stop the others", function()
  local rep = assert(catalog.refresh { url = base .. "/good", clouds = { "nebius", "nosuchcloud" } })
  T.eq(rep.ok, 1); T.eq(rep.failed, 1)
end)

T.case("planning uses the refreshed prices", function()
  local planner = require "vibeml.planner"
  local p = assert(planner.plan { model = "Qwen/Qwen2.5-7B", params_b = 7.6, cloud = "nebius",
                                  gpu = "H200", spot = true, no_task = true })
  T.eq(p.best.rate_hr, 1.45)
  T.eq(p.catalog.nebius.kind, "cache")
end)

T.case("a damaged cache file falls back to the snapshot for that cloud", function()
  vibeml.fs.write(dir .. "/nebius.csv", "cloud,instance_type\n\"unterminated")
  catalog.reload()
  T.eq(catalog.info().sources.nebius.kind, "snapshot")
  T.ok(#offers_of("nebius") >= 15)
end)

return T.run()

-- vibeml.catalog — GPU offers (cloud, region, instance type, GPUs per node, on-demand and spot
-- price per node-hour), indexed once per process.
--
-- Sources, per cloud: the cache that `vibeml catalog refresh` writes into the data folder
-- (<data>/catalog/v8/<cloud>.csv, newest first) when it is newer than the shipped snapshot, else
-- the snapshot compiled into the binary (plugins/catalog/gpu_offers.csv; provenance in
-- plugins/catalog/README.md). Both use the snapshot's columns:
--   cloud,instance_type,accelerator,acc_count,vcpus,memory_gib,price_hr,spot_price_hr,region,
--   zones,src
--
--   catalog.offers()          -> list of offers (see below), loaded once
--   catalog.by_gpu(name)      -> offers of that canonical accelerator
--   catalog.info()            -> {sources = {cloud = {kind=, rows=, fetched_at=}}, rows=, skipped=}
--   catalog.reload()          -> forget the index (after a refresh)
--   catalog.refresh{url=, clouds=, timeout=} -> report | nil, message     (waits on the loop)
--   catalog.parse_v8(cloud, text) -> offers rows (snapshot columns) | nil, message
-- An offer: { cloud=, region=, zones=, instance_type=, gpu=, count=, vcpus=, memory_gib=,
--             price=, spot_price= (nil when none), src= }
local csv = require "vibeml.csv"
local gpus = require "vibeml.gpus"

local M = {}

M.SNAPSHOT_PATH = "plugins/catalog/gpu_offers.csv"
M.SNAPSHOT_DATE = "2026-11-29"
M.SNAPSHOT_TIME = 1795910400 -- 2026-11-29T00:00:00Z
M.DEFAULT_URL = "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs"
M.SCHEMA = "v8"
M.DEFAULT_CLOUDS = { "aws", "gcp", "azure", "lambda", "nebius", "runpod", "vast" }
M.COLUMNS = { "cloud", "instance_type", "accelerator", "acc_count", "vcpus", "memory_gib",
              "price_hr", "spot_price_hr", "region", "zones", "src" }

local index -- {offers=, by_gpu=, info=}

local function num(s)
  if s == nil or s == "" then return nil end
  local v = tonumber(s)
  -- "1e999" or "nan" in a downloaded file must never become a price or a GPU count
  if v and v == v and v > -math.huge and v < math.huge then return v end
  return nil
end

local function cache_dir()
  return vibeml.fs.paths().data .. "/catalog/" .. M.SCHEMA
end

-- Offers from text in the snapshot's columns. Rows of accelerators no GPU map knows are counted
-- in skipped (old cards such as K80 are left out on purpose).
local function add_rows(text, origin, offers, skipped, only_cloud)
  local header, rows = csv.parse(text)
  if not header then return nil, origin .. ": " .. rows end
  local col = {}
  for i, h in ipairs(header) do col[h] = i end
  for _, need in ipairs({ "cloud", "instance_type", "accelerator", "acc_count", "price_hr",
                          "spot_price_hr", "region" }) do
    if not col[need] then return nil, origin .. ": no column '" .. need .. "'" end
  end
  local n = 0
  for _, r in ipairs(rows) do
    local cloud = r[col.cloud]
    if not only_cloud or cloud == only_cloud then
      local spec = gpus.lookup(r[col.accelerator])
      local count = num(r[col.acc_count])
      local price = num(r[col.price_hr])
      if spec and count and count >= 1 and count == math.floor(count) and price and price > 0 then
        local spot = num(r[col.spot_price_hr])
        if spot and spot <= 0 then spot = nil end
        offers[#offers + 1] = {
          cloud = cloud, region = r[col.region], zones = col.zones and r[col.zones] or "",
          instance_type = r[col.instance_type], gpu = spec.name, count = math.tointeger(count),
          vcpus = col.vcpus and num(r[col.vcpus]), memory_gib = col.memory_gib
            and num(r[col.memory_gib]),
          price = price, spot_price = spot, src = col.src and r[col.src] or "",
        }
        n = n + 1
      else
        skipped[r[col.accelerator]] = (skipped[r[col.accelerator]] or 0) + 1
      end
    end
  end
  return n
end

-- Cached clouds newer than the snapshot: {cloud = {path=, fetched_at=}}.
local function cached_clouds()
  local out = {}
  local dir = cache_dir()
  local metatext = vibeml.fs.exists(dir .. "/meta.json") and vibeml.fs.read(dir .. "/meta.json")
  local meta = metatext and select(2, pcall(vibeml.json.decode, metatext))
  if type(meta) ~= "table" or type(meta.clouds) ~= "table" then return out end
  for cloud, m in pairs(meta.clouds) do
    local path = dir .. "/" .. cloud .. ".csv"
    if type(m) == "table" and tonumber(m.fetched_at) and m.fetched_at > M.SNAPSHOT_TIME
       and vibeml.fs.exists(path) == "file" then
      out[cloud] = { path = path, fetched_at = m.fetched_at, url = m.url }
    end
  end
  return out
end

local function build()
  local offers, skipped, sources = {}, {}, {}
  local cached = cached_clouds()
  local snapshot = vibeml.embedded.read(M.SNAPSHOT_PATH)
  if not snapshot then
    error("the price snapshot " .. M.SNAPSHOT_PATH .. " is not in this binary")
  end
  -- snapshot rows for clouds without a fresher cache
  local tmp = {}
  local n, err = add_rows(snapshot, M.SNAPSHOT_PATH, tmp, skipped)
  if not n then error("the shipped price snapshot is malformed: " .. tostring(err)) end
  for _, o in ipairs(tmp) do
    if not cached[o.cloud] then
      offers[#offers + 1] = o
      local s = sources[o.cloud]
      if not s then
        s = { kind = "snapshot", date = M.SNAPSHOT_DATE, rows = 0 }
        sources[o.cloud] = s
      end
      s.rows = s.rows + 1
    end
  end
  for cloud, c in pairs(cached) do
    local text, why = vibeml.fs.read(c.path)
    local rows
    if text then rows, why = add_rows(text, c.path, offers, skipped, cloud) end
    if rows then
      sources[cloud] = { kind = "cache", fetched_at = c.fetched_at, rows = rows, url = c.url }
    else
      -- a damaged cache must not stop planning: fall back to the snapshot for that cloud
      for _, o in ipairs(tmp) do if o.cloud == cloud then offers[#offers + 1] = o end end
      sources[cloud] = { kind = "snapshot", date = M.SNAPSHOT_DATE,
                         note = "cache unreadable: " .. tostring(why) }
    end
  end
  local by_gpu = {}
  for _, o in ipairs(offers) do
    -- resolved once here so planning does no string work per offer
    o.spec = gpus.lookup(o.gpu)
    o.tflops, o.interconnect = gpus.instance_spec(o.spec, o.cloud, o.instance_type)
    o.evkey = o.gpu .. "|" .. o.count .. "|" .. o.interconnect .. "|" .. o.tflops
    o.dkey = o.cloud .. "|" .. o.instance_type .. "|" .. o.gpu .. "|" .. o.count
    local l = by_gpu[o.gpu]
    if not l then l = {}; by_gpu[o.gpu] = l end
    l[#l + 1] = o
  end
  index = { offers = offers, by_gpu = by_gpu,
            info = { sources = sources, rows = #offers, skipped = skipped } }
  return index
end

local function idx()
  local gen = gpus.generation()
  if index and index.gen == gen then return index end
  build()
  index.gen = gen
  return index
end

function M.offers() return idx().offers end
function M.by_gpu(name) return idx().by_gpu[name] or {} end
function M.info() return idx().info end
function M.reload() index = nil end

-- GPU names present in the catalog, sorted.
function M.gpu_names()
  local out = {}
  for name in pairs(idx().by_gpu) do out[#out + 1] = name end
  table.sort(out)
  return out
end

---------------------------------------------------------------------------------------------
-- refresh: SkyPilot's hosted v8 catalog → normalized per-cloud cache files

-- GCP lists GPUs without a host VM (empty InstanceType, GPU-only price); SkyPilot adds the host
-- (sky/catalog/gcp_catalog.py). Fixed host families per accelerator; n1 hosts for the others.
local GCP_HOST = {
  ["A100"] = function(n) return ("a2-highgpu-%dg"):format(n) end,
  ["A100-80GB"] = function(n) return ("a2-ultragpu-%dg"):format(n) end,
  ["H100"] = function(n) return ("a3-highgpu-%dg"):format(n) end,
  ["H100-MEGA"] = function() return "a3-megagpu-8g" end,
  ["H200"] = function() return "a3-ultragpu-8g" end,
  ["B200"] = function() return "a4-highgpu-8g" end,
  ["L4"] = function(n) return ({ [1] = "g2-standard-4", [2] = "g2-standard-24",
                                 [4] = "g2-standard-48", [8] = "g2-standard-96" })[n] end,
}
local function gcp_n1_host(n) -- SkyPilot's default vCPUs per GPU count, high-memory n1
  local cpus = ({ [1] = 8, [2] = 16, [4] = 32, [8] = 64 })[n] or 8 * n
  return ("n1-highmem-%d"):format(cpus)
end

-- Converts one cloud's v8 vms.csv (columns in any order) into rows in the snapshot's columns.
-- Returns a list of row tables, or nil and why the file is unusable.
function M.parse_v8(cloud, text)
  local header, rows = csv.parse(text)
  if not header then return nil, rows end
  local col = {}
  for i, h in ipairs(header) do col[h] = i end
  for _, need in ipairs({ "InstanceType", "AcceleratorName", "AcceleratorCount", "Price",
                          "SpotPrice", "Region" }) do
    if not col[need] then
      return nil, "not a SkyPilot v8 vms.csv: no column '" .. need .. "'"
    end
  end
  if #rows == 0 then return nil, "the file has a header but no rows" end
  local function get(r, name) return col[name] and r[col[name]] or "" end
  -- host VM prices by (type, region) for GCP, cheapest zone
  local host = {}
  if cloud == "gcp" then
    for _, r in ipairs(rows) do
      local it = get(r, "InstanceType")
      -- every row with an instance type prices a host VM; GPU prices come from the GPU rows
      if it ~= "" then
        local key = it .. "|" .. get(r, "Region")
        local p, sp = num(get(r, "Price")), num(get(r, "SpotPrice"))
        local h = host[key]
        if not h then h = {}; host[key] = h end
        if p and (not h.price or p < h.price) then h.price = p end
        if sp and (not h.spot or sp < h.spot) then h.spot = sp end
        h.vcpus, h.mem = num(get(r, "vCPUs")), num(get(r, "MemoryGiB"))
      end
    end
  end
  -- collapse zones: one row per (instance, accelerator, count, region), cheapest prices
  local out, seen = {}, {}
  for _, r in ipairs(rows) do
    local acc = get(r, "AcceleratorName")
    local count = num(get(r, "AcceleratorCount"))
    local price, spot = num(get(r, "Price")), num(get(r, "SpotPrice"))
    local it, region = get(r, "InstanceType"), get(r, "Region")
    local vcpus, mem = num(get(r, "vCPUs")), num(get(r, "MemoryGiB"))
    -- GCP: only GPU rows (no instance type) become offers, priced with their host; a row that
    -- names both an instance type and a GPU would otherwise be taken at the host-only price
    local gcp_host_row = cloud == "gcp" and it ~= ""
    if acc ~= "" and count and count > 0 and not gcp_host_row then
      if cloud == "gcp" and it == "" then
        local n = math.tointeger(count)
        local hf = GCP_HOST[acc]
        local hname = n and (hf and hf(n) or gcp_n1_host(n))
        local h = hname and host[hname .. "|" .. region]
        if h and h.price and price then -- a host row whose price did not parse prices nothing
          it, price = hname, price + h.price
          spot = spot and h.spot and (spot + h.spot) or nil
          vcpus, mem = h.vcpus, h.mem
        else
          price = nil -- no host price known: SkyPilot could not price it either
        end
      end
      if price and price > 0 then
        local key = table.concat({ it, acc, tostring(count), region }, "|")
        local prev = seen[key]
        if prev then
          if price < prev.price_hr then prev.price_hr = price end
          if spot and spot > 0 and (not prev.spot_price_hr or spot < prev.spot_price_hr) then
            prev.spot_price_hr = spot
          end
          local z = get(r, "AvailabilityZone")
          if z ~= "" and not prev.zones:find(z, 1, true) then
            prev.zones = prev.zones == "" and z or (prev.zones .. "|" .. z)
          end
        else
          local row = { cloud = cloud, instance_type = it, accelerator = acc, acc_count = count,
                        vcpus = vcpus, memory_gib = mem, price_hr = price,
                        spot_price_hr = (spot and spot > 0) and spot or nil, region = region,
                        zones = get(r, "AvailabilityZone"), src = "R" }
          seen[key] = row
          out[#out + 1] = row
        end
      end
    end
  end
  if #out == 0 then return nil, "no GPU rows with a price" end
  return out
end

local function to_csv(rows)
  local lines = { table.concat(M.COLUMNS, ",") }
  for _, r in ipairs(rows) do
    local f = {}
    for i, c in ipairs(M.COLUMNS) do f[i] = csv.quote(r[c]) end
    lines[#lines + 1] = table.concat(f, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Downloads <url>/<v8>/<cloud>/vms.csv for each cloud. A cloud's cache file is replaced only
-- after its download completed, parsed and had GPU rows (temporary file + rename, so a reader
-- never sees half a file); any failure leaves that cloud's previous cache as it was.
-- Returns { clouds = { {cloud=, ok=, rows=, error=} }, ok = n, failed = n }.
function M.refresh(opts)
  opts = opts or {}
  local base = (opts.url or M.DEFAULT_URL):gsub("/+$", "")
  local clouds = opts.clouds or M.DEFAULT_CLOUDS
  local dir = cache_dir()
  local ok, err = vibeml.fs.mkdirs(dir)
  if not ok then return nil, "cannot create " .. dir .. ": " .. tostring(err) end
  local metapath = dir .. "/meta.json"
  local meta = {}
  if vibeml.fs.exists(metapath) then
    local ok2, m = pcall(vibeml.json.decode, vibeml.fs.read(metapath))
    if ok2 and type(m) == "table" then meta = m end
  end
  meta.clouds = type(meta.clouds) == "table" and meta.clouds or {}
  local report = { clouds = {}, ok = 0, failed = 0, url = base, dir = dir }
  for _, cloud in ipairs(clouds) do
    local url = ("%s/%s/%s/vms.csv"):format(base, M.SCHEMA, cloud)
    local entry = { cloud = cloud, url = url }
    local r, msg = vibeml.http.request { url = url, timeout = opts.timeout or 120,
                                         max_bytes = 64 * 1024 * 1024 }
    if not r then
      entry.error = msg
    elseif r.status ~= 200 then
      entry.error = ("HTTP %d from %s"):format(r.status, url)
    else
      local rows, perr = M.parse_v8(cloud, r.body)
      if not rows then
        entry.error = "downloaded file rejected: " .. perr
      else
        local path = dir .. "/" .. cloud .. ".csv"
        local wok, werr = vibeml.fs.write(path, to_csv(rows), { atomic = true })
        if wok then
          entry.ok, entry.rows = true, #rows
          meta.clouds[cloud] = { fetched_at = vibeml.time(), url = url, rows = #rows }
        else
          entry.error = "cannot write " .. path .. ": " .. tostring(werr)
        end
      end
    end
    if entry.ok then report.ok = report.ok + 1 else report.failed = report.failed + 1 end
    report.clouds[#report.clouds + 1] = entry
  end
  if report.ok > 0 then
    local wok, werr = vibeml.fs.write(metapath, vibeml.json.encode(meta), { atomic = true })
    if not wok then return nil, "cannot write " .. metapath .. ": " .. tostring(werr) end
    M.reload()
    local ok3, events = pcall(require, "vibeml.events")
    if ok3 then events.emit("resource_updated", "vibeml://catalog/gpus") end
  end
  return report
end

return M

-- vibeml.gpus — the GPU registry built from the gpu_map plugins (plugins/gpus/<cloud>.lua, one
-- per cloud, plus any the plugin loader finds): canonical SkyPilot accelerator names, aliases,
-- memory, dense BF16 TFLOPs, architecture factor, and per-cloud instance types.
--   gpus.get(name)       -> spec | nil            (name or alias, matched by vibeml.names)
--   gpus.resolve(name)   -> canonical name | nil, "GPU type 'X' not supported. Available: ..."
--   gpus.list()          -> specs sorted by memory then speed
--   gpus.names()         -> canonical names
--   gpus.cloud_map(cloud)-> that cloud's gpu_map descriptor | nil
--   gpus.usable_gb(spec) -> memory a training process can use (GB)
--   gpus.reload()        -> drops the cache (after plugins change)
-- A spec: { name=, memory_gb=, usable_gb=, bf16_tflops=, arch=, arch_factor=, vendor=, cc=,
-- aliases={},
--           clouds={cloud=true}, instance_types={cloud={type=gpus_per_node}},
--           overrides={cloud={type={bf16_tflops=, interconnect=}}}, note= }
local names = require "vibeml.names"
local E = vibeml.E

local M = {}

local registry -- built once per process

-- gpu_map descriptors: from vibeml.plugins when it is there, else the embedded files directly.
local function load_maps()
  local maps, problems = {}, {}
  local ok, plugins = pcall(require, "vibeml.plugins")
  if ok and type(plugins) == "table" and type(plugins.list) == "function" then
    local ok2, list = pcall(plugins.list, "gpu_map")
    if ok2 and type(list) == "table" and #list > 0 then
      for _, info in ipairs(list) do
        local p = plugins.get(info.name)
        if p and type(p.descriptor) == "table" and type(p.descriptor.gpus) == "table" then
          maps[#maps + 1] = p.descriptor
        end
      end
      local st = type(plugins.status) == "function" and plugins.status() or nil
      for _, e in ipairs(st and st.errors or {}) do
        problems[#problems + 1] = type(e) == "table"
          and (tostring(e.name) .. ": " .. tostring(e.message)) or tostring(e)
      end
      if #maps > 0 then return maps, problems end
    end
  end
  for _, path in ipairs(vibeml.embedded.list("plugins/gpus/")) do
    if path:match("%.lua$") then
      local fn, err = load(vibeml.embedded.read(path), "@" .. path, "t", {})
      local ok3, desc = false, err
      if fn then ok3, desc = pcall(fn) end
      if ok3 and type(desc) == "table" and desc.kind == "gpu_map" then
        maps[#maps + 1] = desc
      else
        problems[#problems + 1] = path .. ": " .. tostring(desc)
      end
    end
  end
  return maps, problems
end

local function build()
  local specs, bycloud = {}, {}
  local maps, problems = load_maps()
  for _, map in ipairs(maps) do
    local cloud = map.cloud or map.name
    bycloud[cloud] = map
    for name, g in pairs(map.gpus or {}) do
      local s = specs[name]
      if not s then
        s = { name = name, memory_gb = g.memory_gb, usable_gb = g.usable_gb,
              bf16_tflops = g.bf16_tflops, arch = g.arch, arch_factor = g.arch_factor or 1.0,
              vendor = g.vendor, cc = g.cc, gfx = g.gfx, link = g.link,
              aliases = {}, clouds = {}, instance_types = {}, overrides = {}, note = g.note }
        specs[name] = s
      end
      s.clouds[cloud] = true
      s.instance_types[cloud] = g.instance_types or {}
      if g.instance_overrides then s.overrides[cloud] = g.instance_overrides end
      for _, a in ipairs(g.aliases or {}) do
        local seen = false
        for _, b in ipairs(s.aliases) do if b == a then seen = true end end
        if not seen then s.aliases[#s.aliases + 1] = a end
      end
    end
  end
  -- the one name rule (vibeml.names): any case, spaces for dashes, "nvidia h100", "H100s"
  local ents = {}
  for name, sp in pairs(specs) do ents[#ents + 1] = { name = name, aliases = sp.aliases } end
  table.sort(ents, function(a, b) return a.name < b.name end)
  local index = names.index(ents)
  registry = { specs = specs, index = index, maps = bycloud, problems = problems }
  return registry
end

local function reg() return registry or build() end

function M.reload() registry = nil end

-- The gpu_map plugins' names and content hashes: a user's map dropped in, edited or removed
-- (hot reload) changes it, and the registry is rebuilt on the next generation() call.
local generation, last_sig = 0, nil
local function signature()
  local ok, plugins = pcall(require, "vibeml.plugins")
  if not ok or type(plugins) ~= "table" or type(plugins.list) ~= "function" then return "" end
  local ok2, list = pcall(plugins.list, "gpu_map")
  if not ok2 or type(list) ~= "table" then return "" end
  local parts = {}
  for _, p in ipairs(list) do parts[#parts + 1] = tostring(p.name) .. ":" .. tostring(p.hash) end
  table.sort(parts)
  return table.concat(parts, ",")
end

-- A number that changes whenever the GPU maps changed (callers that cache specs compare it).
function M.generation()
  local sig = signature()
  if sig ~= last_sig then
    last_sig = sig
    registry = nil
    generation = generation + 1
  end
  return generation
end

-- lookup: no change check (hot paths that already called generation(), e.g. a catalog build)
function M.lookup(name)
  if name == nil then return nil end
  local r = reg()
  local canon = names.lookup(r.index, name)
  return canon and r.specs[canon] or nil
end

function M.get(name)
  M.generation()
  return M.lookup(name)
end

function M.list()
  local out = {}
  for _, s in pairs(reg().specs) do out[#out + 1] = s end
  table.sort(out, function(a, b)
    if a.memory_gb ~= b.memory_gb then return a.memory_gb > b.memory_gb end
    if a.bf16_tflops ~= b.bf16_tflops then return a.bf16_tflops > b.bf16_tflops end
    return a.name < b.name
  end)
  return out
end

function M.names()
  local out = {}
  for _, s in ipairs(M.list()) do out[#out + 1] = s.name end
  return out
end

-- The canonical name, or nil, a refusal naming the closest GPU types, "VML_EINVAL", {closest}.
function M.resolve(name)
  local s = M.get(name)
  if s then return s.name end
  local list = {}
  for _, sp in ipairs(M.list()) do list[#list + 1] = { name = sp.name, aliases = sp.aliases } end
  local msg, close = names.unknown("GPU type", name, list)
  return nil, msg:gsub("^unknown GPU type '([^']*)'", "GPU type '%1' not supported"), E.EINVAL,
    close
end

function M.cloud_map(cloud) return reg().maps[cloud] end

function M.clouds()
  local out = {}
  for c in pairs(reg().maps) do out[#out + 1] = c end
  table.sort(out)
  return out
end

function M.problems() return reg().problems end

-- What torch can allocate: the map's measured value when given, else 97 % of the nominal size
-- (A100-80GB reports 79.3 of 80).
function M.usable_gb(spec)
  return spec.usable_gb or spec.memory_gb * 0.97
end

-- Peak and interconnect for one instance type (some clouds sell PCIe variants under one name).
function M.instance_spec(spec, cloud, instance_type)
  local o = spec.overrides[cloud] and spec.overrides[cloud][instance_type]
  return (o and o.bf16_tflops) or spec.bf16_tflops, (o and o.interconnect) or spec.link or "nvlink"
end

return M

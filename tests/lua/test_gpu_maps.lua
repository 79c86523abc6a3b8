-- GPU maps are plugins: a user's gpu_map (dropped into <config>/plugins) joins the registry on
-- the next rescan, and the catalog re-resolves its offers.
local T = require "vibeml.test"
local plugins = require "vibeml.plugins"
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"

T.case("every shipped map validates and names only SkyPilot accelerators it prices", function()
  for _, cloud in ipairs { "aws", "gcp", "azure", "lambda", "nebius", "vast" } do
    local m = gpus.cloud_map(cloud)
    T.eq(m.kind, "gpu_map"); T.eq(m.cloud, cloud)
    for name, g in pairs(m.gpus) do
      T.ok(g.memory_gb > 0 and g.bf16_tflops > 0, name)
      T.ok(next(g.instance_types) ~= nil, cloud .. " " .. name .. " has instance types")
    end
  end
  -- every offer the planner uses has a spec
  for _, o in ipairs(catalog.offers()) do T.ok(o.spec ~= nil, o.gpu) end
end)

T.case("a user's gpu_map adds aliases and instance types after a rescan", function()
  local dir = vibeml.fs.paths().config .. "/plugins"
  vibeml.fs.mkdirs(dir)
  T.eq(gpus.resolve("MYH100"), nil)
  local g0 = gpus.generation()
  vibeml.fs.write(dir .. "/mygpus.lua", [[
return { kind = "gpu_map", name = "mygpus", cloud = "runpod", version = "1.0.0",
  gpus = { H100 = { memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
                    aliases = { "MYH100" }, instance_types = { ["1x_H100"] = 1 } } } }
]])
  plugins.rescan()
  T.ok(gpus.generation() ~= g0, "generation changed")
  T.eq(gpus.resolve("MYH100"), "H100")
  T.eq(gpus.get("H100").instance_types.runpod["1x_H100"], 1)
  T.ok(#catalog.by_gpu("H100") > 100, "catalog rebuilt against the new registry")
  vibeml.fs.remove(dir .. "/mygpus.lua")
  plugins.rescan()
  T.eq(gpus.resolve("MYH100"), nil)
end)


T.case("every shipped GPU says its vendor, and NVIDIA ones their compute capability", function()
  local specs = require "vibeml.gpu_specs"
  -- the facts the workflows' hardware declarations are checked against (CUDA GPU list)
  local CC = { T4 = 7.5, V100 = 7.0, A100 = 8.0, ["A100-80GB"] = 8.0, A10G = 8.6, L4 = 8.9,
               L40S = 8.9, H100 = 9.0, H200 = 9.0, B200 = 10.0, RTX4090 = 8.9, RTX5090 = 12.0 }
  for name, g in pairs(specs.specs) do
    T.ok(g.vendor == "nvidia" or g.vendor == "amd", name .. " vendor")
    if g.vendor == "nvidia" then T.ok(type(g.cc) == "number" and g.cc >= 7.0, name .. " cc") end
    if CC[name] then T.eq(g.cc, CC[name], name) end
  end
  T.eq(specs.specs.MI300X.vendor, "amd")
  T.eq(gpus.get("T4").cc, 7.5)
  T.eq(gpus.get("L4").link, "pcie")
  T.eq(select(2, gpus.instance_spec(gpus.get("L4"), "gcp", "g2-standard-96")), "pcie")
  T.eq(select(2, gpus.instance_spec(gpus.get("H100"), "aws", "p5.48xlarge")), "nvlink")
  T.eq(gpus.cloud_map("vast").multi_node, false)
end)

return T.run()

-- bench/plugin_reload.lua — hot-reload latency of workflow plugins against the one-second target.
--   VIBEML_HOME=$(mktemp -d) vibeml run bench/plugin_reload.lua [ROUNDS]
-- For each round: a valid change (file written -> change announced to Lua), a broken change
-- (syntax error) and, once, an infinite loop (stopped by the plugin's instruction budget). Also
-- the cost of loading + validating the four shipped workflows (one fresh sandboxed state each, a
-- trial build included). Prints medians and ratios to the target; asserts nothing.
local plugins = require "vibeml.plugins"

local rounds = tonumber(arg and arg[1]) or 10
local dir = vibeml.fs.paths().config .. "/plugins"
assert(vibeml.fs.mkdirs(dir))
assert(plugins.start_watching({ dirs = { dir } }))
local file = dir .. "/benchwf.lua"

local function source(v)
  return [[
local kit = require "vibeml.taskkit"
return { kind = "workflow", name = "benchwf", title = "B", description = "bench", version = "]] .. v .. [[",
  method = "lora", model_sizes = { min_b = 0.1, max_b = 10 }, vram = {}, throughput = {},
  hyperparameters = {}, gpu = { required = true, min_count = 1, max_count = 1, multi_node = false },
  build = function(p) return kit.task { workflow = "benchwf", p = p, gpu = true, setup = "", run = "x" } end }
]]
end

local function timed(text)
  local t0 = vibeml.monotonic()
  assert(vibeml.fs.write(file, text))
  while true do
    for _, c in ipairs(plugins.wait(10)) do
      if c.name == "benchwf" then return vibeml.monotonic() - t0, c.action end
    end
    if vibeml.monotonic() - t0 > 10 then error("no change within 10 s") end
  end
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local ok_t, bad_t = {}, {}
for i = 1, rounds do
  ok_t[#ok_t + 1] = timed(source("1." .. i .. ".0"))
  bad_t[#bad_t + 1] = timed("return {{{ -- " .. i)
end
local loop_t = timed("while true do end")

-- shipped workflows: load + validate + trial build, measured through a fresh registry scan
local t0 = vibeml.monotonic()
local n = 0
for _ = 1, rounds do
  for _, name in ipairs({ "full", "lora", "smoke", "unsloth" }) do
    assert(plugins.call(name, "build", { model = "a/b", dataset = "c/d", candidates = {},
      hyperparameters = {}, model_info = { params_b = 1 }, num_nodes = 1 }))
    n = n + 1
  end
end
local build_ms = (vibeml.monotonic() - t0) * 1000 / n

local target = 1.0
print(string.format("rounds: %d (debounce 250 ms)", rounds))
print(string.format("valid change -> live:        median %4.0f ms  (target %d ms, ratio %.2f)",
  median(ok_t) * 1000, target * 1000, median(ok_t) / target))
print(string.format("syntax error -> reported:    median %4.0f ms  (target %d ms, ratio %.2f)",
  median(bad_t) * 1000, target * 1000, median(bad_t) / target))
print(string.format("infinite loop -> reported:          %4.0f ms  (bounded by the plugin budget: 200 M instructions / 2 s; ratio %.2f)",
  loop_t * 1000, loop_t / target))
print(string.format("build() call in a plugin state:     %6.2f ms per call", build_ms))

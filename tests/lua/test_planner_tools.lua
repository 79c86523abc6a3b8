-- The planner's MCP tools and resource, called directly (offline: no Hub lookups).
local T = require "vibeml.test"

local progress = {}
local ctx = {
  progress = function(_, done, total, msg) progress[#progress + 1] = { done, total, msg } end,
  log = function() end,
  supports = function() return false end,
}

-- summary and next are added by the server (vibeml.mcp.server) to every result, not by handlers
local function check_required(schema, value, where)
  for _, k in ipairs(schema.required or {}) do
    T.ok(k == "summary" or k == "next" or value[k] ~= nil, (where or "") .. " has " .. k)
  end
end

T.case("tool descriptors follow the MCP tool shape", function()
  for _, name in ipairs { "plan_training", "list_gpus", "estimate_cost" } do
    local t = require("vibeml.tools." .. name)
    T.eq(t.name, name)
    T.ok(#t.description > 80, "assistant-oriented description")
    T.eq(t.inputSchema.additionalProperties, false)
    T.eq(t.annotations.readOnlyHint, true)
    T.ok(t.annotations.destructiveHint ~= true, "not destructive")
    T.ok(type(t.handler) == "function")
    -- schemas are valid JSON
    vibeml.json.encode(t.inputSchema); vibeml.json.encode(t.outputSchema)
  end
end)

T.case("plan_training returns a plan matching its output schema, with text", function()
  local t = require "vibeml.tools.plan_training"
  local out, text = t.handler({ model = "meta-llama/Llama-3.1-8B", dataset = "yahma/alpaca-cleaned",
                                offline = true, workflow = "unsloth" }, ctx)
  T.ok(out, text)
  check_required(t.outputSchema, out, "plan")
  for _, k in ipairs { "count", "cloud", "spot", "rate_hr", "duration_h", "cost" } do
    T.ok(out.best[k] ~= nil, "best has " .. k)
  end
  T.ok(tostring(out.plan_id):match("^p%-%w+$"), "a plan_id to launch")
  T.eq(out.workflow, "unsloth")
  T.eq(out.request, nil)
  T.ok(out.task and out.task.resources and out.task.resources.ordered,
    "task preview with the candidates in order")
  T.contains(text, "best is 1×")
  T.ok(#progress >= 2, "progress reported")
  -- round trip through JSON keeps arrays arrays, even when empty
  local j = vibeml.json.encode(out)
  T.contains(j, '"warnings":[')
  T.contains(j, '"assumptions":[')
end)

T.case("plan_training failures are tool errors with the product's wording", function()
  local t = require "vibeml.tools.plan_training"
  local out, msg = t.handler({ model = "org/Model-8B", gpu = "RTX9000", offline = true }, ctx)
  T.eq(out, nil)
  T.contains(msg, "GPU type 'RTX9000' not supported. Available:")
  local out2, msg2 = t.handler({ model = "org/Model-70B", workflow = "full", gpu = "T4", gpus = 1,
                                 offline = true }, ctx)
  T.eq(out2, nil)
  T.contains(msg2, "What would work")
end)

T.case("list_gpus filters and sorts by GPU-hour", function()
  local t = require "vibeml.tools.list_gpus"
  local out, text = t.handler({ cloud = "nebius" })
  check_required(t.outputSchema, out)
  for i, o in ipairs(out.offers) do
    T.eq(o.cloud, "nebius")
    for _,
      k in ipairs { "gpu", "count", "memory_gb", "cloud", "region", "price_hr",
      "best_per_gpu_hr" } do
      T.ok(o[k] ~= nil, "offer has " .. k)
    end
    if i > 1 then T.ok(o.best_per_gpu_hr >= out.offers[i - 1].best_per_gpu_hr) end
  end
  T.contains(text, "nebius")
  local none, err = t.handler({ gpu = "RTX9000" })
  T.eq(none, nil); T.contains(err, "not supported")
end)

T.case("estimate_cost prices GPU × count × hours", function()
  local t = require "vibeml.tools.estimate_cost"
  local out, text =
    t.handler({ gpu = "h200", count = 8, hours = 3, cloud = "nebius", spot = false })
  check_required(t.outputSchema, out)
  T.eq(out.gpu, "H200")
  T.eq(out.cheapest.rate_hr, 28.0)
  T.eq(out.cheapest.cost.expected, 84.0)
  T.ok(out.cheapest.cost.max > 84.0)
  T.contains(text, "8× H200 for 3 h")
  local none, err = t.handler({ gpu = "B200", count = 3, hours = 1, cloud = "nebius" })
  T.eq(none, nil); T.contains(err, "no B200 offer with 3 GPUs in total on nebius")
end)

T.case("resource vibeml://catalog/gpus", function()
  local r = require "vibeml.resources.catalog_gpus"
  T.eq(r.uri, "vibeml://catalog/gpus")
  local j = vibeml.json.decode(r.read("vibeml://catalog/gpus"))
  T.ok(#j.offers > 50)
  T.ok(j.sources.aws)
end)

return T.run()

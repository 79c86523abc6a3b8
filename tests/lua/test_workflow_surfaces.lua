-- The surfaces over vibeml.workflows: MCP tools list_workflows / get_workflow (handlers called
-- directly with a fake ctx), the vibeml://workflows resource, vibeml.workflows() in scripts, a
-- tools plugin registered in the MCP registry, and plugin status for check_setup.
local T = require "vibeml.test"
local json = vibeml.json

local ctx = { progress = function() end, log = function() end, supports = function()
  return false end }

T.case("list_workflows: all, filtered by method and size, with a suggestion", function()
  local tool = require "vibeml.tools.list_workflows"
  T.eq(tool.annotations.readOnlyHint, true)
  T.eq(tool.inputSchema.additionalProperties, false)
  local res, text = tool.handler({}, ctx)
  T.eq(res.count, 4)
  T.eq(res.workflows[1].name, "full")
  T.contains(text, "unsloth (qlora, 0.1-120B)")
  res = tool.handler({ method = "qlora" }, ctx)
  T.eq(res.count, 1)
  T.eq(res.workflows[1].name, "unsloth")
  res = tool.handler({ params_b = 100, preference = "cheapest" }, ctx)
  local names = {}
  for _, w in ipairs(res.workflows) do names[#names + 1] = w.name end
  T.eq(table.concat(names, ","), "smoke,unsloth", "only workflows supporting 100B")
  T.eq(res.suggested.name, "unsloth")
  T.contains(res.suggested.reason, "cheapest")
  -- the result is JSON-encodable as the server will send it
  T.ok(json.encode(res))
end)

T.case("get_workflow: the full descriptor, or an error naming the available ones", function()
  local tool = require "vibeml.tools.get_workflow"
  local d, text = tool.handler({ name = "lora" }, ctx)
  T.eq(d.name, "lora")
  T.eq(d.hyperparameters.learning_rate.default, 2e-4)
  T.eq(d.hyperparameters.lr_scheduler.enum[2], "cosine")
  T.eq(d.path, nil)
  T.eq(type(d.vram.weight_bytes_per_param), "number")
  T.contains(text, "learning_rate (number, default 0.0002; 1e-07..0.01)")
  local none, msg = tool.handler({ name = "nope" }, ctx)
  T.eq(none, nil)
  T.contains(msg, "available: full, lora, smoke, unsloth")
  T.ok(json.encode(d))
end)

T.case("resource vibeml://workflows", function()
  local r = require "vibeml.resources.workflows"
  T.eq(r.uri, "vibeml://workflows")
  T.eq(r.mimeType, "application/json")
  local doc = json.decode(r.read("vibeml://workflows", {}))
  T.eq(#doc.workflows, 4)
  T.eq(doc.workflows[4].name, "unsloth")
end)

T.case("vibeml.workflows() in scripts", function()
  local all = vibeml.workflows()
  T.eq(#all, 4)
  T.eq(#vibeml.workflows({ method = "full" }), 1)
  T.eq(vibeml.workflows.get("smoke").name, "smoke")
  local task = assert(vibeml.workflows.build("smoke", { model = "a/b", dataset = "c/d" }))
  T.eq(task.run, "python3 train.py")
end)

T.case("a tools plugin's tools reach the MCP registry and run in the plugin's sandbox", function()
  local plugins = require "vibeml.plugins"
  local registry = require "vibeml.mcp.registry"
  local changed = 0
  require("vibeml.events").on("tools_changed", function() changed = changed + 1 end)
  local dir = plugins.default_dir()
  assert(vibeml.fs.mkdirs(dir))
  assert(vibeml.fs.write(dir .. "/greeter.lua", [[
return { kind = "tools", name = "greeter", version = "1.0.0", tools = {
  { name = "greet", title = "Greet", description = "says hello",
    inputSchema = { type = "object", properties = { who = { type = "string" } } },
    handler = function(args) return { text = "hello " .. args.who, io = type(rawget(_G, "io")), os = type(os.execute) } end },
} }
]]))
  assert(plugins.start({}))
  local t = registry.get("greet")
  T.ok(t, "greet registered")
  T.eq(t.annotations.readOnlyHint, true)
  local res = t.handler({ who = "ada" }, ctx)
  T.eq(res.text, "hello ada")
  T.eq(res.io, "nil", "no io in the plugin")
  T.eq(res.os, "nil", "no os.execute in the plugin")
  T.ok(changed >= 1, "tools_changed emitted")
  -- remove: the tool leaves the registry
  assert(vibeml.fs.remove(dir .. "/greeter.lua"))
  local gone = false
  local t0 = vibeml.monotonic()
  repeat
    for _, c in ipairs(plugins.wait(3)) do if c.name == "greeter" then gone = true end end
  until gone or vibeml.monotonic() - t0 > 15
  T.ok(gone, "removal announced")
  T.eq(registry.get("greet"), nil)
end)

T.case("check_setup sees plugin errors", function()
  local plugins = require "vibeml.plugins"
  local dir = plugins.default_dir()
  assert(vibeml.fs.write(dir .. "/broken.lua", "return {{{"))
  local t0 = vibeml.monotonic()
  local failed
  repeat
    for _, c in ipairs(plugins.wait(3)) do if c.name == "broken" then failed = c end end
  until failed or vibeml.monotonic() - t0 > 15
  T.eq(failed.action, "failed")
  T.contains(plugins.errors()[1].message, "broken.lua:1:")
  local cs = require "vibeml.tools.check_setup"
  local res = cs.handler({ skip_backends = true }, ctx)
  local found = false
  for _, e in ipairs(res.plugins.errors) do
    if e.name == "broken" then found = true; T.contains(e.message, "broken.lua:1:") end
  end
  T.ok(found, "check_setup reports the broken plugin")
end)

T.case("the example user workflow loads and builds", function()
  local plugins = require "vibeml.plugins"
  local src = (os.getenv("VML_SOURCE_DIR") or ".") .. "/examples/plugins/my_workflow.lua"
  local dir = plugins.default_dir()
  assert(vibeml.fs.write(dir .. "/my_workflow.lua", assert(vibeml.fs.read(src))))
  local got
  local t0 = vibeml.monotonic()
  repeat
    for _, c in ipairs(plugins.wait(3)) do if c.name == "my_workflow" then got = c end end
  until got or vibeml.monotonic() - t0 > 15
  T.eq(got and got.action, "added", got and got.message)
  local wf = require "vibeml.workflows"
  local task = assert(wf.build("my_workflow", { model = "Qwen/Qwen2.5-0.5B", dataset = "c/d",
    candidates =
      { { accelerator = "L4", count = 1, cloud = "gcp", region = "us-central1", spot = true } } }))
  T.eq(json.decode(task.envs.VIBEML_PARAMS).hyperparameters.max_steps, 200)
end)

return T.run()

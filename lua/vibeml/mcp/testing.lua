-- vibeml.mcp.testing — tools, a resource and a prompt that exist only for the MCP integration
-- tests (`VIBEML_TEST_TOOLS=1 vibeml serve`). They exercise every path of the server: waiting,
-- progress, cancellation, logging, elicitation, failures, strict schemas, list changes and
-- resource updates. Never loaded in normal use.
local registry = require "vibeml.mcp.registry"
local events = require "vibeml.events"
local E = vibeml.E

local M = {}
local counter = 0

local tools = {
  {
    name = "test_echo", title = "Echo (test)",
    description = "Returns its arguments; a strict schema for validation tests.",
    inputSchema = {
      type = "object",
      properties = {
        message = { type = "string", minLength = 1, maxLength = 50 },
        count = { type = "integer", minimum = 1, maximum = 10, default = 1 },
        ratio = { type = "number", exclusiveMinimum = 0, exclusiveMaximum = 1 },
        mode = { type = "string", enum = { "fast", "slow" } },
        tag = { type = "string", pattern = "^[a-z][a-z0-9-]*$" },
        nested = {
          type = "object",
          properties =
            { items = { type = "array", items = { type = "integer" }, minItems = 1,
            maxItems = 3 } },
          required = { "items" }, additionalProperties = false,
        },
        either = { type = { "string", "null" } },
      },
      required = { "message" },
    },
    outputSchema = {
      type = "object",
      properties = { message = { type = "string" }, count = { type = "integer" } },
      required = { "message", "count" },
    },
    annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
      openWorldHint = false },
    handler = function(args, ctx)
      return { message = args.message, count = args.count, mode = args.mode, nested = args.nested },
        string.rep(args.message, args.count)
    end,
  },
  {
    name = "test_sleep", title = "Sleep (test)",
    description = "Waits seconds in steps, reporting progress; for cancellation tests.",
    inputSchema = { type = "object", properties = {
      seconds = { type = "number", minimum = 0, maximum = 600 },
      steps = { type = "integer", minimum = 1, maximum = 1000, default = 1 } },
      required = { "seconds" } },
    annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
      openWorldHint = false },
    handler = function(args, ctx)
      for i = 1, args.steps do
        vibeml.sleep(args.seconds / args.steps)
        ctx:progress(i, args.steps, "step " .. i .. " of " .. args.steps)
      end
      M.slept = (M.slept or 0) + 1
      return { slept = args.seconds, steps = args.steps }
    end,
  },
  {
    name = "test_log", title = "Log (test)", description = "Sends one log message at a level.",
    inputSchema = { type = "object", properties = {
      level = { type = "string",
        enum = { "debug", "info", "notice", "warning", "error", "critical", "alert",
        "emergency" } },
      message = { type = "string" } }, required = { "level", "message" } },
    handler = function(args, ctx)
      print("test_log printed this")  -- must reach stderr, never the protocol stream
      local sent = ctx:log(args.level, args.message)
      events.emit("log", args.level, "event: " .. args.message)
      return { sent = sent }
    end,
  },
  {
    name = "test_elicit", title = "Elicit (test)", description = "Asks the person to confirm.",
    inputSchema = { type = "object", properties = {} },
    handler = function(args, ctx)
      if not ctx:supports("elicitation") then
        local _, err = ctx:elicit("x", {})
        return { supported = false, error = err }
      end
      local r, err = ctx:elicit("Spend $12.50 on 1x A100 for 2 h?", {
        type = "object",
        properties = { confirm = { type = "boolean", title = "Confirm" },
                       cap = { type = "number", minimum = 0, description = "cost cap in USD" } },
        required = { "confirm" },
      })
      if not r then return nil, err end
      return { supported = true, action = r.action, content = r.content }
    end,
  },
  {
    name = "test_fail", title = "Fail (test)", description = "Fails as a tool (isError).",
    inputSchema = { type = "object",
      properties =
      { how = { type = "string",
      enum = { "nil", "raise", "table", "badjson", "badoutput" } } }, required = { "how" } },
    outputSchema = { type = "object", properties = { n = { type = "integer" } },
      required = { "n" } },
    handler = function(args)
      if args.how == "nil" then return nil, "the thing failed: try again with a smaller model" end
      if args.how == "raise" then error("boom in handler") end
      if args.how == "table" then
        error({ code = E.EMONEY, message = "over budget", hint = "raise the limit" })
      end
      if args.how == "badjson" then return { f = function() end } end
      return { n = "not an integer" }
    end,
  },
  {
    name = "test_toggle_tool", title = "Toggle a tool (test)",
    description = "Registers or unregisters test_dynamic (tools/list_changed).",
    inputSchema = { type = "object", properties = { on = { type = "boolean" } },
      required = { "on" } },
    handler = function(args)
      if args.on then
        assert(registry.register{ name = "test_dynamic", description = "appears at run time",
          inputSchema = { type = "object" }, handler = function() return { ok = true } end })
      else
        registry.unregister("test_dynamic")
      end
      return { on = args.on }
    end,
  },
  {
    name = "test_touch", title = "Touch a resource (test)",
    description = "Changes vibeml://test/counter and emits resource_updated.",
    inputSchema = { type = "object", properties = {} },
    handler = function()
      counter = counter + 1
      events.emit("resource_updated", "vibeml://test/counter")
      return { counter = counter }
    end,
  },
}

-- Stand-ins for the domain tools the prompts name, registered only when the real ones are not
-- there, so the prompt tests run before those issues land.
local stand_ins = { "plan_training", "launch_training", "get_job_status" }

function M.install(server)
  for _, n in ipairs(stand_ins) do
    if not registry.get(n) then
      assert(registry.register({ name = n, description = "test stand-in for " .. n,
        inputSchema = { type = "object" }, handler = function() return nil, "test stand-in" end },
        { quiet = true }))
    end
  end
  for _, t in ipairs(tools) do assert(registry.register(t, { quiet = true })) end
  require("vibeml.mcp.testing_budget").install(server) -- money/secrets test tools (issue 7)
  for i = 1, 5 do
    assert(
      registry.register({ name = string.format("test_page_%02d", i), description = "page filler "
        .. i,
      inputSchema = { type = "object" }, handler = function() return { i = i } end },
        { quiet = true }))
  end
  server.add_resource{ uri = "vibeml://test/counter", name = "test-counter",
    title = "Counter (test)",
    description = "A number that test_touch increments", mimeType = "application/json",
    read = function() return vibeml.json.encode({ counter = counter }) end }
  server.add_resource{ uriTemplate = "vibeml://test/items/{id}", name = "test-item",
    description = "Items by id (test)", mimeType = "text/plain",
    list = function() return { { uri = "vibeml://test/items/a", name = "item a" } } end,
    complete = function() return { "a", "b", "abc" } end,
    read = function(uri, p)
      if p.id == "missing" then error({ code = E.ENOENT, message = "no item " .. p.id }) end
      return "item " .. p.id
    end }
end

return M

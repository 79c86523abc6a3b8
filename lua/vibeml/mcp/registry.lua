-- vibeml.mcp.registry — the MCP server's tool registry (a tool's shape: docs/mcp.md).
-- Built-in tools (lua/vibeml/tools/*.lua) are added by the server at start; plugins of kind
-- "tools" and other code add and remove tools at run time:
--
--   local registry = require "vibeml.mcp.registry"
--   registry.register{ name = "my_tool", title = "...", description = "...",
--     inputSchema = { type = "object", properties = { n = { type = "integer", minimum = 1 } },
--                     required = { "n" } },
--     outputSchema = {...}, annotations = { readOnlyHint = true, ... },
--     handler = function(args, ctx) return { result = args.n * 2 } end }
--   registry.unregister("my_tool")
--   registry.list()  -- tools sorted by name
--
-- Every change emits events "tools_changed"; the server then re-reads the list and sends
-- notifications/tools/list_changed. Argument validation against inputSchema happens in C
-- (core/schema.c) before the handler runs; schemas are checked there too (unsupported keywords
-- leave the tool out with a message on stderr).
local events = require "vibeml.events"
local E = vibeml.E

local M = {}
local tools = {}     -- name -> tool
local builtin = {}   -- name -> true for tools from lua/vibeml/tools
local generation = 0 -- bumps on every change

-- JSON Schema keywords whose value is a list: mark them so an empty Lua table encodes as [].
local LISTS = { required = true, enum = true, examples = true }

local function normalize(schema)
  if type(schema) ~= "table" then return schema end
  for k, v in pairs(schema) do
    if type(v) == "table" then
      if LISTS[k] or (k == "type") then
        vibeml.array(v)
      elseif k == "anyOf" then
        vibeml.array(v)
        for _, s in ipairs(v) do normalize(s) end
      elseif k == "properties" then
        vibeml.object(v)
        for _, s in pairs(v) do normalize(s) end
      elseif k == "items" or k == "additionalProperties" then
        normalize(v)
      end
    end
  end
  return schema
end
M.normalize_schema = normalize

local function check(tool)
  if type(tool) ~= "table" then return nil, "a tool must be a table" end
  local name = tool.name
  if type(name) ~= "string" or #name < 1 or #name > 128 or name:find("[^%w_%.%-]") then
    return nil, "tool name must be 1-128 characters of letters, digits, '_', '.', '-' (got "
      .. tostring(name) .. ")"
  end
  if type(tool.description) ~= "string" or tool.description == "" then
    return nil, "tool '" .. name .. "' needs a description (what it does, when to use it)"
  end
  if type(tool.handler) ~= "function" then
    return nil, "tool '" .. name .. "' needs a handler function(args, ctx)"
  end
  local s = tool.inputSchema
  if type(s) ~= "table" or s.type ~= "object" then
    return nil, "tool '" .. name .. "' needs an inputSchema with type = \"object\""
  end
  if s.additionalProperties == nil then s.additionalProperties = false end
  if s.properties == nil then s.properties = vibeml.object{} end
  normalize(s)
  if tool.outputSchema ~= nil then
    if type(tool.outputSchema) ~= "table" or tool.outputSchema.type ~= "object" then
      return nil, "tool '" .. name .. "': outputSchema must have type = \"object\""
    end
    normalize(tool.outputSchema)
  end
  if tool.annotations ~= nil then
    if type(tool.annotations) ~= "table" then
      return nil, "tool '" .. name .. "': annotations must be a table"
    end
    for k, v in pairs(tool.annotations) do
      if k == "title" then
        if type(v) ~= "string" then return nil, "annotations.title must be a string" end
      elseif k == "readOnlyHint" or k == "destructiveHint" or k == "idempotentHint"
          or k == "openWorldHint" then
        if type(v) ~= "boolean" then
          return nil, "tool '" .. name .. "': annotations." .. k .. " must be a boolean"
        end
      else
        return nil, "tool '" .. name .. "': unknown annotation '" .. tostring(k) .. "'"
      end
    end
  end
  return true
end
M.check = check

-- Adds or replaces a tool. A plugin cannot replace a built-in tool. opts.builtin marks built-ins
-- (the server uses it); opts.quiet skips the event (bulk loads).
function M.register(tool, opts)
  opts = opts or {}
  local ok, err = check(tool)
  if not ok then return nil, err, E.EINVAL end
  if builtin[tool.name] and not opts.builtin then
    return nil, "tool '" .. tool.name .. "' is built in and cannot be replaced", E.EEXIST
  end
  tools[tool.name] = tool
  if opts.builtin then builtin[tool.name] = true end
  generation = generation + 1
  if not opts.quiet then events.emit("tools_changed") end
  return true
end

-- Removes a tool; returns true when there was one.
function M.unregister(name)
  if tools[name] == nil then return false end
  tools[name] = nil
  builtin[name] = nil
  generation = generation + 1
  events.emit("tools_changed")
  return true
end

function M.get(name) return tools[name] end

function M.is_builtin(name) return builtin[name] == true end

function M.list()
  local out = {}
  for _, t in pairs(tools) do out[#out + 1] = t end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

function M.generation() return generation end

return M

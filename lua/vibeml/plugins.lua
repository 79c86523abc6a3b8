-- vibeml.plugins — the host's view of the plugin registry (core/plugin.c through vibeml._plugins).
--
--   local plugins = require "vibeml.plugins"
--   plugins.list([kind])          live plugins {name, kind, version, source, path, functions, ...}
--   plugins.status()              + errors (message with file:line), folders, reload counters
--   plugins.get(name)             live plugin with its descriptor (data only) | nil
--   plugins.call(name, fn, ...)   runs plugin function fn (dotted path, e.g. "build") inside the
--                                 plugin's own sandboxed state: JSON in, JSON out; returns its
--                                 results, or nil, message, code when the call itself failed
--   plugins.set_dirs({dir,...})   the user's plugin folders (default: <config>/plugins)
--   plugins.start_watching([opts]) watch the folders (hot reload); opts.dirs sets them first
--   plugins.wait([timeout])       waits for changes, announces them (events below), returns them
--   plugins.rescan()              rescans now and announces the changes
--   plugins.start{dirs=}          for `vibeml serve`: the default folder plus dirs (--plugins),
--                                 watched; tools plugins registered; returns at once (the service
--                                 services/plugins.lua announces changes)
--   plugins.errors()              { {name=, path=, message=, at=, serving_previous=} }
--   plugins.run_forever()         start_watching + announce changes until the task ends
--
-- Announcing a change: events.emit("plugin_error", name, message) and events.emit("log", "error",
-- message) for failures (the previous version keeps serving); events.emit("log", "info", ...)
-- otherwise; "workflows_changed" and resource_updated("vibeml://workflows") when a workflow
-- changed; resource_updated("vibeml://catalog/gpus") when a GPU map changed; tools plugins are
-- (re)registered in vibeml.mcp.registry when that module exists, and
-- "tools_changed" is emitted.
local core = vibeml._plugins
local events = require "vibeml.events"

local M = {}

function M.list(kind) return core.list(kind) end
function M.status() return core.status() end
function M.get(name) return core.get(name) end
function M.set_dirs(dirs) return core.set_dirs(dirs) end

function M.call(name, fn, ...)
  local args = vibeml.array({ ... })
  local n = select("#", ...)
  for i = 1, n do
    if args[i] == nil then args[i] = vibeml.null end
  end
  local res, msg, code = core.call(name, fn, args)
  if not res then return nil, msg, code end
  local out = {}
  for i = 1, #res do
    local v = res[i]
    if vibeml.isnull(v) then v = nil end
    out[i] = v
  end
  return table.unpack(out, 1, #res)
end

-- {======================================================= tools plugins -> MCP registry
local registered = {} -- plugin name -> { tool names }

local function registry()
  local ok, reg = pcall(require, "vibeml.mcp.registry")
  if ok and type(reg) == "table" and reg.register then return reg end
  return nil
end

local function sync_tools(name)
  local reg = registry()
  local changed = false
  if reg then
    for _, tool in ipairs(registered[name] or {}) do
      pcall(reg.unregister, tool)
      changed = true
    end
  end
  registered[name] = nil
  local p = core.get(name)
  if not p or p.kind ~= "tools" then return changed end
  local names = {}
  for i, t in ipairs(p.descriptor.tools or {}) do
    names[#names + 1] = t.name
    if reg then
      local path = "tools." .. i .. ".handler"
      local ok, e = pcall(reg.register, {
        name = t.name, title = t.title, description = t.description,
        inputSchema = t.inputSchema, outputSchema = t.outputSchema,
        annotations = t.annotations or { readOnlyHint = true, destructiveHint = false,
                                         idempotentHint = true, openWorldHint = false },
        plugin = name,
        handler = function(args, ctx)
          local res, text = M.call(name, path, args or vibeml.object{})
          if res == nil then return nil, text or "the plugin tool returned nothing" end
          return res, text
        end,
      })
      if not ok then
        events.emit("log", "error",
          string.format("plugin '%s': tool '%s' could not be registered: %s",
          name, tostring(t.name), tostring(type(e) == "table" and e.message or e)))
      end
    end
  end
  registered[name] = names
  return true
end

-- Registers the tools of every live tools plugin (at start).
function M.sync_all_tools()
  local any = false
  for _, p in ipairs(core.list("tools")) do
    if sync_tools(p.name) then any = true end
  end
  if any then events.emit("tools_changed") end
end

-- }=======================================================

-- Announces change records (from wait/rescan) on the event bus. Returns them.
function M.announce(changes)
  local workflows, tools, gpus = false, false, false
  for _, c in ipairs(changes) do
    if c.action == "failed" then
      local msg = string.format("plugin '%s' (%s) failed to load%s: %s", c.name, c.path or "?",
        c.version and "; the previous version keeps serving" or "", c.message or "?")
      events.emit("plugin_error", c.name, msg)
      events.emit("log", "error", msg)
    else
      events.emit("log", c.action == "overridden" and "notice" or "info",
        string.format("plugin '%s' %s%s%s", c.name, c.action,
          c.version and (" (version " .. c.version .. ")") or "",
          c.message and (": " .. c.message) or ""))
      if c.kind == "workflow" then workflows = true end
      if c.kind == "gpu_map" then gpus = true end
      if c.kind == "tools" or registered[c.name] then
        sync_tools(c.name)
        tools = true
      end
    end
  end
  if workflows then
    events.emit("workflows_changed")
    events.emit("resource_updated", "vibeml://workflows")
  end
  if tools then events.emit("tools_changed") end
  if gpus then events.emit("resource_updated", "vibeml://catalog/gpus") end
  return changes
end

function M.rescan()
  local n, e = core.rescan()
  if not n then return nil, e end
  return M.announce(core.wait(0))
end

function M.start_watching(opts)
  opts = opts or {}
  if opts.dirs then
    local ok, e, code = core.set_dirs(opts.dirs)
    if not ok then return nil, e, code end
  end
  local ok, e, code = core.watch()
  if not ok then return nil, e, code end
  M.announce(core.wait(0))
  return true
end

function M.wait(timeout)
  return M.announce(core.wait(timeout))
end

function M.stop_watching() return core.unwatch() end

function M.watching() return core.status().watching end

function M.errors() return core.status().errors end

-- The user's default plugin folder: <config>/plugins.
function M.default_dir()
  return vibeml.fs.paths().config .. "/plugins"
end

function M.start(opts)
  opts = opts or {}
  local dirs = { M.default_dir() }
  vibeml.fs.mkdirs(dirs[1])
  for _, d in ipairs(opts.dirs or {}) do
    if d ~= dirs[1] then dirs[#dirs + 1] = d end
  end
  local ok, e = M.start_watching({ dirs = dirs })
  M.sync_all_tools()
  return ok, e
end

-- For `vibeml serve` (services/plugins.lua): watch and announce until the task is cancelled.
function M.run_forever(opts)
  local ok, e = M.start_watching(opts)
  if not ok then
    events.emit("log", "error", "plugin folders cannot be watched: " .. tostring(e))
    return nil, e
  end
  M.sync_all_tools()
  while true do M.wait(3600) end
end

return M

-- vibeml.events — a small in-process event bus for the Lua half of a server process.
-- Producers (job poller, plugin reloader, budget) emit; consumers (the MCP server's resource
-- subscriptions and list_changed notifications) listen. Listeners run synchronously, each
-- under pcall so one broken listener cannot stop the others.
--
--   local events = require "vibeml.events"
--   local off = events.on("job_changed", function(job_id) ... end)
--   events.emit("job_changed", "j-123")
--   off()
--
-- Names in use: "job_changed"(job_id), "tools_changed"(), "workflows_changed"(),
-- "resources_changed"(), "plugin_error"(name, message), "budget_warning"(info table),
-- "log"(level, message) — a log line meant for MCP clients (notifications/message).
local M = {}
local listeners = {}

function M.on(name, fn)
  assert(type(name) == "string" and type(fn) == "function", "events.on(name, fn)")
  local list = listeners[name] or {}
  listeners[name] = list
  list[#list + 1] = fn
  return function()
    for i, f in ipairs(list) do
      if f == fn then table.remove(list, i) return end
    end
  end
end

function M.emit(name, ...)
  local list = listeners[name]
  if not list then return 0 end
  local n = 0
  for _, fn in ipairs({ table.unpack(list) }) do
    local ok, err = pcall(fn, ...)
    if ok then n = n + 1
    else vibeml.log("warning", "listener for '%s' failed: %s", name, tostring(err)) end
  end
  return n
end

return M

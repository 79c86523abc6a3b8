-- The plugin service of `vibeml serve`: watches the plugin folders (started by the server through
-- vibeml.plugins.start with --plugins folders) and announces every reload — workflows_changed,
-- tools_changed, plugin_error and log events for MCP clients — for as long as the server runs.
local plugins = require "vibeml.plugins"

return {
  -- each HTTP session runs it too: the folders are watched once per process, and every state
  -- waiting gets each change (core/lapi_plugins.c), registers the tools and tells its client
  per_session = true,
  start = function()
    if not plugins.watching() then plugins.start({}) end
    while true do plugins.wait(3600) end
  end,
}

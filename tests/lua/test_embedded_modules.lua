-- Embedded lua/ modules are loaded from bytecode the build compiled (core/gen/embedgen.c) when
-- it has it: errors must still name the module's file and the right source line, and the
-- sources must stay readable (vibeml.embedded.read) for anything that ships them.
local T = require "vibeml.test"

-- the line of an embedded file that contains needle (plain text)
local function line_of(path, needle)
  local text = assert(vibeml.embedded.read(path), path)
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:find(needle, 1, true) then return n end
  end
  error("no line of " .. path .. " contains " .. needle)
end

T.case("a runtime error inside an embedded module names its file and source line", function()
  local sizing = require "vibeml.sizing"
  local ok, err = pcall(sizing.vram_gb, "lora", "not a number")
  T.eq(ok, false)
  local want = line_of("lua/vibeml/sizing.lua", "params_b must be a positive number")
  T.contains(tostring(err), "lua/vibeml/sizing.lua:" .. want .. ":")
end)

T.case("every embedded module loads, and its source stays readable", function()
  local n = 0
  for _, path in ipairs(vibeml.embedded.list("lua/vibeml/")) do
    local text = vibeml.embedded.read(path)
    T.ok(type(text) == "string" and #text > 0, path .. " has source text")
    n = n + 1
  end
  T.ok(n > 20, "found the embedded modules")
  -- a few modules the server needs at start, required fresh in this state
  for _, m in ipairs{ "vibeml.csv", "vibeml.events", "vibeml.mcp.registry", "vibeml.gpu_specs" } do
    T.eq(type(require(m)), "table")
  end
end)

return T.run()

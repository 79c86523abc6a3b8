-- check_setup's handler called directly with a fake ctx (the MCP path is in tests/integration).
local T = require "vibeml.test"
local tool = require "vibeml.tools.check_setup"

local function ctx()
  local c = { progress_calls = {} }
  function c:progress(done, total, msg)
    self.progress_calls[#self.progress_calls + 1] = { done, total, msg }
  end
  function c:log() end
  function c:supports() return false end
  return c
end

T.case("reports version, state folder and the local backend", function()
  local c = ctx()
  local r, text = tool.handler({ skip_backends = true }, c)
  T.eq(r.version, vibeml.version)
  T.eq(r.state_dir, vibeml.fs.paths().state)
  T.eq(r.backends[1].name, "local")
  T.eq(r.backends[1].available, true)
  T.eq(r.backends[2].available, false)
  T.contains(r.backends[2].detail, "skip_backends")
  T.ok(#c.progress_calls >= 2, "progress reported")
  T.contains(text, "backend local")
  T.ok(type(r.cloud_credentials) == "table")
end)

T.case("secrets appear by name only, with the command to set them", function()
  local r = tool.handler({ skip_backends = true }, ctx())
  local hf
  for _, s in ipairs(r.secrets) do if s.name == "HF_TOKEN" then hf = s end end
  T.ok(hf, "HF_TOKEN expected")
  if hf.set ~= true then T.contains(hf.fix, "vibeml secrets set HF_TOKEN") end
  for k in pairs(hf) do T.ok(k ~= "value", "no value field") end
end)

T.case("find_sky honours VIBEML_SKY and PATH", function()
  local path, why = tool.find_sky()
  if os.getenv("VIBEML_SKY") == nil then
    T.ok(path == nil or path:match("/sky$"), "a sky on PATH or none")
    if not path then T.contains(why, "PATH") end
  end
end)

return T.run()

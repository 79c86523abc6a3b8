-- A process that used a secret has run; its captured output is stored redacted; then no file
-- under VIBEML_HOME, no stored log and no tool result holds the value or an encoding of it.
local T = require "vibeml.test"
local secrets = require "vibeml.vault"
local SECRET = "hf_LuaScan_9f8e7d6c5b4a3210ZYX"
local home = vibeml.fs.paths().state

local function b64(s)
  local r = vibeml.proc.run({ "base64", "-w0" }, { stdin = s })
  return (r.stdout:gsub("=+$", ""))
end

local function scan(dir, needles, hits)
  for _, name in ipairs(vibeml.fs.list(dir) or {}) do
    local p = dir .. "/" .. name
    local kind = vibeml.fs.exists(p)
    if kind == "dir" then scan(p, needles, hits)
    elseif kind == "file" then
      local text = vibeml.fs.read(p) or ""
      for _, n in ipairs(needles) do
        if text:find(n, 1, true) then hits[#hits + 1] = p end
      end
    end
  end
  return hits
end

T.case("secret set through the CLI (stdin), used by a child, output stored redacted", function()
  local exe = vibeml.proc.self_exe()
  local r = vibeml.proc.run({ exe, "secrets", "set", "HF_TOKEN" }, { stdin = SECRET .. "\n" })
  T.eq(r.code, 0)
  T.ok(secrets.has("HF_TOKEN"))
  local h = assert(secrets.env_for({ "HF_TOKEN" }))
  local child = vibeml.proc.run({ "/bin/sh", "-c",
    'echo "using $HF_TOKEN"; printf %s "$HF_TOKEN" | base64; printf %s "$HF_TOKEN" | od -An ' ..
      '-tx1 | tr -d " \\n"; echo; echo "argv: $*"' },
    { secrets = h, clear_env = true, env = { PATH = "/usr/bin:/bin" } })
  h:close()
  T.eq(child.code, 0)
  T.contains(child.stdout, SECRET)             -- the child had the value in its environment
  local clean, n = secrets.redact(child.stdout)
  T.ok(n >= 3, "value, base64 and hex masked")
  vibeml.fs.mkdirs(home .. "/jobs/j-scan")
  assert(vibeml.fs.write(home .. "/jobs/j-scan/stdout.log", clean))
  -- tool results
  local results = {}
  for _, name in ipairs({ "get_budget", "get_preferences", "check_setup" }) do
    local ok, tool = pcall(require, "vibeml.tools." .. name)
    if ok then
      local okc, res, text = pcall(tool.handler, {}, { supports = function() return false end,
        progress = function() end, log = function() end })
      if okc then results[#results + 1] = vibeml.json.encode(res) .. (text or "") end
    end
  end
  T.ok(#results >= 2)
  local hex = SECRET:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  local needles = { SECRET, b64(SECRET), hex }
  for _, r2 in ipairs(results) do
    for _, nd in ipairs(needles) do T.ok(not r2:find(nd, 1, true), "tool result clean") end
  end
  local hits = scan(home, needles, {})
  T.eq(#hits, 0, "files holding the secret: " .. table.concat(hits, ", "))
  T.contains(vibeml.fs.read(home .. "/jobs/j-scan/stdout.log"), "using ****")
end)

return T.run()

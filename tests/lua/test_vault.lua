-- vibeml.vault from Lua: names and presence only; handles carry values in C.
local T = require "vibeml.test"
local secrets = require "vibeml.vault"

T.case("empty vault", function()
  T.eq(#secrets.names(), 0)
  T.eq(secrets.has("HF_TOKEN"), false)
  T.eq(secrets.has("not a name"), false)
  T.eq(secrets.missing({ "HF_TOKEN" })[1], "HF_TOKEN")
  T.eq(secrets.hint("HF_TOKEN"), "vibeml secrets set HF_TOKEN")
end)

T.case("env_for a missing secret names the command", function()
  local h, msg, code = secrets.env_for({ "HF_TOKEN" })
  T.eq(h, nil)
  T.contains(msg, "vibeml secrets set HF_TOKEN")
  T.eq(code, "VML_ENOENT")
  local h2 = secrets.env_for({}, { "HF_TOKEN" })
  T.eq(#h2, 0)
  h2:close()
end)

T.case("bad names are misuse-proof", function()
  local h, msg = secrets.env_for({ "BAD-NAME" })
  T.eq(h, nil)
  T.contains(msg, "not a valid secret name")
  T.eq(secrets.valid_name("HF_TOKEN"), true)
  T.eq(secrets.valid_name("9X"), false)
end)

T.case("from_environ handle redacts and never shows the value", function()
  -- the test runner has PATH in its environment; use it as a stand-in secret value
  local path = os.getenv("PATH")
  local h = vibeml.vault.from_environ({ "PATH" })
  T.eq(#h, 1)
  T.eq(h:names()[1], "PATH")
  T.eq(tostring(h), "SecretEnv(PATH)")
  local out, n = h:redact("x " .. path .. " y")
  T.eq(n, 1)
  T.ok(not out:find(path, 1, true), "value masked")
  local g = secrets.redact("again " .. path)
  T.ok(not g:find(path, 1, true), "process-wide redaction")
  h:close()
  T.eq(tostring(h), "SecretEnv(closed)")
  T.eq(#h, 0)
end)

T.case("cloud credentials are checked, not read", function()
  local rows = secrets.cloud_credentials()
  T.ok(#rows >= 6)
  local seen = {}
  for _, r in ipairs(rows) do
    T.eq(type(r.present), "boolean")
    T.eq(type(r.path), "string")
    T.eq(type(r.fix), "string")
    seen[r.cloud] = true
  end
  T.ok(seen.nebius and seen.aws and seen.gcp, "nebius, aws, gcp listed")
end)

return T.run()

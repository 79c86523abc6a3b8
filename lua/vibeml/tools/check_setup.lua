-- check_setup — the first tool an assistant calls: what is installed and configured, what is
-- missing, and how to fix it. Read-only: it never changes anything and never reveals a secret's
-- value (only whether a secret by that name exists).
local kit = require "vibeml.mcp.toolkit"
local M = {
  name = "check_setup",
  title = "Check VibeML set-up",
  description =
    "What can run here: backends, plugins, secrets present (names only). Call it first and "
    .. "after set-up failures; relay each fix. Secrets are set by the person in a terminal.",
  inputSchema = {
    type = "object",
    properties = {
      skip_backends = { type = "boolean", description = "faster; backends unchecked" },
    },
    additionalProperties = false,
  },
  outputSchema =
    kit.out({ ready = "boolean", backends = "array", secrets = "array", problems = "array" },
    { "ready", "backends", "secrets", "problems" }),
  annotations = kit.READ_LOCAL,
}

local function is_executable(path)
  local st = vibeml.fs.stat(path)
  return st and st.type == "file" and st.mode and (st.mode & 73) ~= 0
end

-- Finds the sky executable: VIBEML_SKY, else the first `sky` on PATH.
function M.find_sky()
  local explicit = os.getenv("VIBEML_SKY")
  if explicit and explicit ~= "" then
    if is_executable(explicit) then return explicit end
    return nil, "VIBEML_SKY is set to " .. explicit .. " but that is not an executable file"
  end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/sky"
    if is_executable(p) then return p end
  end
  return nil, "no `sky` command on PATH"
end

local function skypilot_backend()
  local b = { name = "skypilot", available = false }
  local path, why = M.find_sky()
  if not path then
    b.detail = why
    b.fix = "install SkyPilot (>= 0.12) with `pip install 'skypilot[aws,gcp,nebius]'` (pick your "
      .. "clouds), run `sky check`, or set VIBEML_SKY to the sky executable"
    return b
  end
  b.path = path
  local res, err = vibeml.proc.run({ path, "--version" }, { timeout = 30 })
  if not res then
    b.detail = "could not run " .. path .. ": " .. tostring(err)
    b.fix = "check that " .. path .. " runs in a terminal"
    return b
  end
  local out = (res.stdout or "") .. (res.stderr or "")
  if res.timed_out or res.code ~= 0 then
    b.detail = string.format("`%s --version` %s: %s", path,
      res.timed_out and "timed out" or ("exited with " .. tostring(res.code or res.signal)),
      out:sub(1, 300))
    b.fix = "repair the SkyPilot installation (try `sky --version` in a terminal)"
    return b
  end
  local v = out:match("version%s+([%w%.%-%+]+)") or out:match("(%d+%.%d+[%w%.%-%+]*)")
  b.version = v
  local major, minor = (v or ""):match("^(%d+)%.(%d+)")
  if major and tonumber(major) == 0 and tonumber(minor) < 12 then
    b.detail = "SkyPilot " .. v .. " is too old (VibeML needs 0.12 or newer for -o json)"
    b.fix = "upgrade with `pip install -U skypilot`"
    return b
  end
  b.available = true
  b.detail = "SkyPilot " .. (v or "(version not recognised: " .. out:sub(1, 80) .. ")")
    .. "; run `sky check` to see which clouds have credentials"
  return b
end

local function plugin_report(server)
  local report = { available = false, loaded = vibeml.array{}, errors = vibeml.array{} }
  local ok, plugins = pcall(require, "vibeml.plugins")
  if not ok or type(plugins) ~= "table" then
    report.detail = "the plugin system is not part of this build"
  else
    report.available = true
    local okl, list = pcall(function() return plugins.list and plugins.list() or {} end)
    if okl and type(list) == "table" then
      for _, p in ipairs(list) do
        report.loaded[#report.loaded + 1] = { name = p.name, kind = p.kind, source = p.source
          or p.path,
                                              version = p.version }
      end
    end
    local oke, errs = pcall(function() return plugins.errors and plugins.errors() or {} end)
    if oke and type(errs) == "table" then
      for k, e in pairs(errs) do
        if type(e) == "table" then
          report.errors[#report.errors + 1] = { name = e.name or e.source or tostring(k),
                                                message = tostring(e.message or e.error) }
        else
          report.errors[#report.errors + 1] = { name = tostring(k), message = tostring(e) }
        end
      end
    end
  end
  for _, e in ipairs(server and server.load_errors or {}) do
    report.errors[#report.errors + 1] = { name = e.source, message = e.message }
  end
  return report
end

-- Secret names VibeML expects: HF_TOKEN always (gated models, pushing to the Hub), plus what
-- the workflows declare.
local function expected_secrets()
  local names, seen = {}, {}
  local function add(n, why, required)
    if type(n) ~= "string" or seen[n] then return end
    seen[n] = { name = n, used_for = why, required = required or false }
    names[#names + 1] = seen[n]
  end
  add("HF_TOKEN", "gated models and pushing results to the Hugging Face Hub")
  local ok, wf = pcall(require, "vibeml.workflows")
  if ok and type(wf) == "table" and type(wf.list) == "function" then
    local okl, list = pcall(wf.list)
    if okl and type(list) == "table" then
      for _, w in ipairs(list) do
        local s = type(w.secrets) == "table" and w.secrets or {}
        for _, n in ipairs(s.required or {}) do add(n, "workflow " .. tostring(w.name), true) end
        for _, n in ipairs(s.optional or {}) do add(n, "workflow " .. tostring(w.name)) end
      end
    end
  end
  return names
end

local function secret_report(problems)
  local out = vibeml.array{}
  local ok, secrets = pcall(require, "vibeml.vault")
  local vault = ok and type(secrets) == "table" and type(secrets.has) == "function"
  for _, s in ipairs(expected_secrets()) do
    local entry = { name = s.name, used_for = s.used_for, required = s.required }
    if vault then
      local okh, has = pcall(secrets.has, s.name)
      entry.set = okh and has and true or false
    else
      entry.set = vibeml.null
      entry.in_environment = (os.getenv(s.name) or "") ~= ""
    end
    if entry.set ~= true then
      entry.fix = "run `vibeml secrets set " .. s.name
        .. "` in a terminal (never paste it in the chat)"
      if entry.set == false and s.required then
        problems[#problems + 1] = "secret " .. s.name .. " is missing: " .. entry.fix
      end
    end
    out[#out + 1] = entry
  end
  return out, vault
end

-- The month's budget and the cloud credential files SkyPilot reads (checked, never read or
-- copied). Informational: neither blocks readiness (issue 7's vibeml.budget / vibeml.vault).
local function money_report()
  local budget, clouds
  local okm, money = pcall(require, "vibeml.budget")
  if okm and type(money) == "table" then
    local ok, st = pcall(money.status)
    if ok and type(st) == "table" then
      local f = function(v) return v and money.format(v) or "none" end
      budget = { monthly_limit = st.monthly_limit or vibeml.null, spent = st.spent,
        reserved = st.reserved, remaining = st.remaining or vibeml.null,
        per_job_cap = st.per_job_cap or vibeml.null, warnings = vibeml.array(st.warnings or {}),
        summary = string.format("budget %s: limit %s, spent %s, reserved %s, per-job cap %s",
          st.month, f(st.monthly_limit), f(st.spent), f(st.reserved), f(st.per_job_cap)) }
    end
  end
  local oks, secrets = pcall(require, "vibeml.vault")
  if oks and type(secrets) == "table" and secrets.cloud_credentials then
    local ok, rows = pcall(secrets.cloud_credentials)
    if ok then clouds = vibeml.array(rows) end
  end
  return budget, clouds
end

function M.handler(args, ctx)
  local oks, srv = pcall(require, "vibeml.mcp.server")
  local server = oks and srv or nil
  local problems = vibeml.array{}
  local paths = vibeml.fs.paths()
  ctx:progress(1, 3, "checking backends")
  local backends = vibeml.array{ { name = "local", available = true,
    detail = "runs jobs on this machine (CPU or local GPUs)" } }
  if args.skip_backends then
    backends[#backends + 1] = { name = "skypilot", available = false,
      detail = "not checked (skip_backends)" }
  else
    local b = skypilot_backend()
    backends[#backends + 1] = b
    if not b.available then
      problems[#problems + 1] = "SkyPilot backend unavailable (" .. tostring(b.detail) .. "): "
        .. b.fix
    end
  end
  ctx:progress(2, 3, "checking plugins and secrets")
  local plugins = plugin_report(server)
  for _, e in ipairs(plugins.errors) do
    problems[#problems + 1] = "plugin " .. tostring(e.name) .. " failed to load: "
      .. tostring(e.message)
  end
  local secrets, vault = secret_report(problems)
  local budget, clouds = money_report()
  local result = {
    ready = #problems == 0,
    version = vibeml.version,
    state_dir = paths.state, config_dir = paths.config, data_dir = paths.data,
    backends = backends, plugins = plugins, secrets = secrets,
    secrets_vault = vault and "available"
      or "not part of this build (secrets are read from the environment)",
    problems = problems,
    budget = budget, cloud_credentials = clouds,
  }
  local lines = { "VibeML " .. vibeml.version .. " — state folder " .. paths.state }
  for _, b in ipairs(backends) do
    lines[#lines + 1] = string.format("backend %-9s %s%s", b.name, b.available and "ready"
      or "unavailable",
      b.detail and (" — " .. b.detail) or "")
  end
  lines[#lines + 1] = string.format("plugins: %d loaded, %d failed", #plugins.loaded,
    #plugins.errors)
  for _, s in ipairs(secrets) do
    local state = s.set == true and "set" or s.set == false and "missing"
      or (s.in_environment and "in environment" or "not set")
    lines[#lines + 1] = string.format("secret %s: %s", s.name, state)
  end
  if budget then
    lines[#lines + 1] = budget.summary
    for _, w in ipairs(budget.warnings) do lines[#lines + 1] = "budget: " .. w end
  end
  for _, c in ipairs(clouds or {}) do
    if c.present then lines[#lines + 1] = string.format("%s %s: %s", c.cloud, c.what, c.path) end
  end
  if #problems == 0 then lines[#lines + 1] = "Ready."
  else
    lines[#lines + 1] = "To fix:"
    for _, p in ipairs(problems) do lines[#lines + 1] = "- " .. p end
  end
  return result, table.concat(lines, "\n")
end

return M

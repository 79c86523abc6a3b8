-- `vibeml config [list] [--json]` · `config get KEY [--json]` · `config set KEY VALUE` ·
-- `config path`. Preferences live in config.json (see lua/vibeml/prefs.lua for the format).
-- Money limits are shown here and may be set here (this is a person at a terminal); they are
-- stored in the ledger, like `vibeml budget set`.
local prefs = require "vibeml.prefs"

local usage = [[
usage: vibeml config [list] [--json]      all preferences (and the money limits, for reference)
       vibeml config get KEY [--json]
       vibeml config set KEY VALUE        VALUE "null" (or "none") clears a preference
       vibeml config path                 where the file is (JSON, edit it by hand if you like)

keys: backend (auto|skypilot|local; auto = skypilot when SkyPilot is set up, else local), cloud (aws, gcp, nebius, ... or null), region, gpu (H100,
A100-80GB, ...), spot (true|false), workflow (lora, qlora, unsloth, ...). Names match in any
case, with aliases and plurals ("H100s", "GCP"), and are stored canonical; a region must be one
the price catalog knows.
Money limits: per_job_cap and monthly_budget are stored in the ledger; `vibeml config set
per_job_cap 25` is the same as `vibeml budget set --per-job 25`. An assistant cannot change them.
  vibeml config set cloud nebius
  vibeml config set spot false]]

local function err(s) vibeml.log("error", "%s", s) end

local function show(v)
  if v == nil or vibeml.isnull(v) then return "null" end
  return tostring(v)
end

local function parse_value(key, text)
  if text == "null" or text == "none" or text == "" then return vibeml.null end
  local spec
  for _, s in ipairs(prefs.SPEC) do if s.key == key then spec = s end end
  if spec and spec.type == "boolean" then
    local t = { ["true"] = true, yes = true, on = true, ["1"] = true,
      ["false"] = false, no = false, off = false, ["0"] = false }
    if t[text] == nil then return nil, "'" .. key .. "' must be true or false, not '" .. text .. "'" end
    return t[text]
  end
  return text
end

local MONEY = { per_job_cap = "per_job", monthly_budget = "monthly" }

return {
  summary = "preferences: list, get KEY, set KEY VALUE (config.json)",
  usage = usage,
  main = function(args)
    local sub = args[1] or "list"
    local json = false
    for _, a in ipairs(args) do if a == "--json" then json = true end end
    if sub == "--json" then sub = "list" end
    if sub == "-h" or sub == "--help" or sub == "help" then print(usage) return 0 end
    if sub == "path" then print(prefs.path()) return 0 end
    if sub == "list" then
      local p, msg = prefs.get()
      if not p then err("vibeml config: " .. msg) return 1 end
      if json then
        local out = vibeml.object{}
        for _, s in ipairs(prefs.SPEC) do
          local v = p[s.key]
          out[s.key] = v == nil and vibeml.null or v
        end
        out.per_job_cap = p.per_job_cap or vibeml.null
        out.monthly_budget = p.monthly_budget or vibeml.null
        print(vibeml.json.encode(out))
        return 0
      end
      for _, s in ipairs(prefs.SPEC) do
        print(string.format("%-15s %-12s %s", s.key, show(p[s.key]), s.description))
      end
      local budget = require "vibeml.budget"
      print(string.format("%-15s %-12s %s", "per_job_cap",
        p.per_job_cap and budget.format(p.per_job_cap) or "none", "set with `vibeml budget set --per-job USD`"))
      print(string.format("%-15s %-12s %s", "monthly_budget",
        p.monthly_budget and budget.format(p.monthly_budget) or "none",
        "set with `vibeml budget set --monthly USD`"))
      print("file: " .. prefs.path())
      return 0
    elseif sub == "get" then
      local key = args[2]
      if not key or key == "--json" then err("vibeml config get: which KEY?\n" .. usage) return 2 end
      local p, msg = prefs.get()
      if not p then err("vibeml config: " .. msg) return 1 end
      local known = MONEY[key] ~= nil
      for _, s in ipairs(prefs.SPEC) do if s.key == key then known = true end end
      if not known then
        local _, m = prefs.check(key, nil)
        err("vibeml config get: " .. m) return 2
      end
      local v = p[key]
      if json then print(vibeml.json.encode({ [key] = v == nil and vibeml.null or v }))
      else print(show(v)) end
      return 0
    elseif sub == "set" then
      local key, text = args[2], args[3]
      if not key or not text or args[4] then
        err("vibeml config set: give KEY and VALUE\n" .. usage) return 2
      end
      if MONEY[key] then
        local budget = require "vibeml.budget"
        local v = text
        if text == "null" or text == "none" or text == "off" then v = false
        else
          local ok, m = vibeml.budget.parse_usd(text)
          if not ok then err("vibeml config set: " .. m) return 2 end
        end
        local ok, m = budget.set_limits({ [MONEY[key]] = v })
        if not ok then err("vibeml config set: " .. m) return 1 end
        print(key .. " = " .. (v and budget.format(vibeml.budget.parse_usd(text)) or "none"))
        return 0
      end
      local v, perr = parse_value(key, text)
      if perr then err("vibeml config set: " .. perr) return 2 end
      local ok, m = prefs.set({ [key] = v })
      if not ok then err("vibeml config set: " .. m) return 2 end
      local now = prefs.get() or {}
      print(key .. " = " .. show(now[key]) .. ((type(v) == "string" and now[key] ~= v)
        and ("  (for '" .. v .. "')") or ""))
      return 0
    end
    err("vibeml config: " .. require("vibeml.cli._args").unknown_sub(sub, { "list", "get", "set", "path" })
      .. "\n" .. usage)
    return 2
  end,
}

-- `vibeml config [list] [--json]` · `config get KEY [--json]` · `config set KEY VALUE` ·
-- `config unset KEY` · `config path`. Preferences live in config.json (see lua/vibeml/prefs.lua
-- for the format). Money limits are shown here and may be set here (this is a person at a
-- terminal); they are stored in the ledger, like `vibeml budget set`. Webhooks
-- (notify.webhook, several allowed) live in notify.json, whose rules are in lua/vibeml/notify.lua;
-- their URLs are shown masked unless --reveal is given (a webhook URL is often a credential).
local E = vibeml.E
local prefs = require "vibeml.prefs"

local usage = [[
usage: vibeml config [list] [--json]      all preferences (and the money limits, for reference)
       vibeml config get KEY [--json]
       vibeml config set KEY VALUE        VALUE "null" (or "none") clears a preference
       vibeml config unset KEY            the same as VALUE null
       vibeml config path                 where the file is (JSON, edit it by hand if you like)

webhooks (job notifications, several allowed; stored in notify.json):
       vibeml config set notify.webhook URL [--format json|slack|ntfy] [--secret NAME]
                                          add one (or change the format/secret of that URL);
                                          http:// or https:// only. Bodies are signed with
                                          HMAC-SHA256 under the vault secret NAME (default
                                          VIBEML_NOTIFY_KEY; add it with `vibeml secrets set`)
       vibeml config unset notify.webhook [URL | N]   remove one (by URL or list number), or all
       vibeml config get notify.webhook [--json] [--reveal]   list them (URLs masked unless --reveal)

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
    if t[text] == nil then
      return nil, "'" .. key .. "' must be true or false, not '" .. text .. "'"
    end
    return t[text]
  end
  return text
end

local MONEY = { per_job_cap = "per_job", monthly_budget = "monthly" }

-- {==== notify.webhook

local HOOK = "notify.webhook"

-- scheme://host[:port] and the path's last 4 characters: enough to tell hooks apart
local function masked(url)
  local base, rest = url:match("^(%a+://[^/?#]+)(.*)$")
  if not base then return "?" end
  if #rest <= 1 then return base .. rest end
  return base .. "/..." .. (#rest > 8 and rest:sub(-4) or "")
end

local function hook_options(args, from)
  local o = {}
  local i = from
  while args[i] do
    local a = args[i]
    if a == "--format" or a == "--secret" then
      local v = args[i + 1]
      if not v or v:sub(1, 2) == "--" then return nil, a .. " needs a value" end
      if a == "--format" then o.format = v else o.key_secret = v end
      i = i + 2
    elseif a == "--json" or a == "--reveal" then
      i = i + 1
    elseif a:sub(1, 2) == "--" then
      return nil, require("vibeml.cli._args").unknown_option(a, { "--format", "--secret" })
    else
      if o.value then return nil, "one URL at a time (got '" .. require("vibeml.tty").safe(o.value)
        .. "' and '"
        .. require("vibeml.tty").safe(a) .. "')" end
      o.value = a
      i = i + 1
    end
  end
  return o
end

local function webhooks(sub, args, json, reveal)
  local notify = require "vibeml.notify"
  local o, oerr = hook_options(args, 3)
  if not o then err("vibeml config " .. sub .. " " .. HOOK .. ": " .. oerr) return 2 end
  if sub == "set" then
    if not o.value then
      err("vibeml config set " .. HOOK .. ": give the URL, e.g. `vibeml config set " .. HOOK
        .. " https://hooks.example.com/vibeml --format json`") return 2
    end
    local hook, what, code = notify.add_hook(o.value,
      { format = o.format, key_secret = o.key_secret })
    if not hook then
      err("vibeml config set " .. HOOK .. ": " .. what) return code == E.EINVAL and 2 or 1
    end
    local kname = hook.key_secret or (notify.config() or {}).key_secret or "VIBEML_NOTIFY_KEY"
    print(string.format("%s %s (%s, signed with %s)", what, reveal and hook.url or masked(hook.url),
      hook.format, kname))
    local okh, has = pcall(function() return require("vibeml.vault").has(kname) end)
    if okh and not has then
      vibeml.eprint("note: the vault has no secret " .. kname
        .. ", so deliveries are unsigned until you add the "
        .. "key your receiver checks: `vibeml secrets set " .. kname .. "`")
    end
    return 0
  elseif sub == "unset" then
    if o.format or o.key_secret then
      err("vibeml config unset " .. HOOK .. ": takes a URL or a list number only") return 2
    end
    local removed, msg, code = notify.remove_hook(o.value)
    if not removed then
      err("vibeml config unset " .. HOOK .. ": " .. msg) return code == E.ENOENT and 1 or 2
    end
    for _, h in ipairs(removed) do
      print("removed " .. (reveal and h.url or masked(h.url or "")))
    end
    if #removed == 0 then print("no webhooks were configured") end
    return 0
  end
  -- get
  if o.value or o.format or o.key_secret then
    err("vibeml config get " .. HOOK .. ": takes no value") return 2
  end
  local list, c = notify.hooks()
  if not list then err("vibeml config get " .. HOOK .. ": " .. c) return 1 end
  local default_key = type(c.key_secret) == "string" and c.key_secret or "VIBEML_NOTIFY_KEY"
  if json then
    local out = vibeml.array()
    for i, h in ipairs(list) do
      out[i] = { url = reveal and h.url or masked(h.url or ""), format = h.format,
        key_secret = h.key_secret or default_key }
    end
    print(vibeml.json.encode({ [HOOK] = out }))
    return 0
  end
  if #list == 0 then
    print("none (add one with `vibeml config set " .. HOOK .. " URL`)") return 0
  end
  for i, h in ipairs(list) do
    print(string.format("%d  %-6s %-20s %s", i, tostring(h.format), h.key_secret or default_key,
      reveal and h.url or masked(h.url or "")))
  end
  return 0
end

-- }====

return {
  summary = "preferences: list, get KEY, set KEY VALUE, unset KEY (config.json); notify.webhook",
  usage = usage,
  main = function(args)
    local sub = args[1] or "list"
    local json, reveal = false, false
    for _, a in ipairs(args) do
      if a == "--json" then json = true elseif a == "--reveal" then reveal = true end
    end
    if sub == "--json" then sub = "list" end
    if sub == "-h" or sub == "--help" or sub == "help" then print(usage) return 0 end
    if sub == "path" then print(prefs.path()) return 0 end
    if (sub == "set" or sub == "get" or sub == "unset") and args[2] == HOOK then
      return webhooks(sub, args, json, reveal)
    end
    if sub == "unset" then
      if not args[2] or args[3] then
        err("vibeml config unset: give one KEY\n" .. usage) return 2
      end
      sub, args = "set", { "set", args[2], "null" }
    end
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
        p.per_job_cap and budget.format(p.per_job_cap) or "none",
          "set with `vibeml budget set --per-job USD`"))
      print(string.format("%-15s %-12s %s", "monthly_budget",
        p.monthly_budget and budget.format(p.monthly_budget) or "none",
        "set with `vibeml budget set --monthly USD`"))
      local hooks = require("vibeml.notify").hooks()
      print(string.format("%-15s %-12s %s", HOOK, hooks and (#hooks .. " set") or "unreadable",
        "`vibeml config get " .. HOOK .. "` lists them"))
      print("file: " .. prefs.path())
      return 0
    elseif sub == "get" then
      local key = args[2]
      if not key or key == "--json" then
        err("vibeml config get: which KEY?\n" .. usage) return 2
      end
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
    err("vibeml config: "
      .. require("vibeml.cli._args").unknown_sub(sub, { "list", "get", "set", "unset", "path" })
      .. "\n" .. usage)
    return 2
  end,
}

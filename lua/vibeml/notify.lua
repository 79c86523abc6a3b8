-- SPDX-License-Identifier: MIT
--
-- vibeml.notify — webhook notifications about jobs (issue 15): started (first step), recovered,
-- watchdog, cap_projected, cap_80, completed (cost, outputs), failed (the fix), terminated,
-- budget_projected (the re-quote's total crosses this month's remaining budget).
--
-- Configuration: <config>/notify.json (kept apart from the preferences; written by
-- `vibeml config set|unset|get notify.webhook`, see lua/vibeml/cli/config.lua, or by hand)
--   { "webhooks": [ "http://127.0.0.1:8080/hook",
--                   { "url": "https://hooks.slack.com/...", "format": "slack" },
--                   { "url": "https://ntfy.example/topic", "format": "ntfy",
--                     "key_secret": "NTFY_SIGNING_KEY" } ],   -- this hook's own signing key
--     "key_secret": "VIBEML_NOTIFY_KEY",      -- vault secret that signs (default this name)
--     "events": ["completed", "failed", ...] } -- optional filter
--   check_url(url) -> url (scheme and host lower-cased) | nil, message, code
--   hooks() -> { {url=, format=, key_secret=}, ... } (as stored) | nil, message, code
--   add_hook(url, {format=, key_secret=}) -> hook, "added"|"updated" | nil, message, code
--   remove_hook([url | list number]) -> removed hooks | nil, message, code (none given: all)
-- Each delivery is a POST of the JSON event (format "json", the default), Slack's {"text": ...},
-- or ntfy's plain text with a Title header; every body is signed: X-VibeML-Timestamp: T and
-- X-VibeML-Signature: sha256=<hex HMAC-SHA256 of "T." .. body under the vault key> (the key is
-- handed to C as a SecretEnv, never as a Lua string). Bodies are redacted against every secret
-- in the vault, and carry no environment, parameters or log text.
--
-- send(job_id, event, data) never blocks a job: it queues the event in <job dir>/notify/ and
-- starts a detached `vibeml run` deliverer (clean environment) that posts it with short time-outs,
-- retries a failure or a 5xx with backoff (0.5, 1, 2, 4 s; 5 tries), and appends one line per try
-- to <job dir>/notify.log (URL shown as scheme://host only: webhook URLs are often credentials).
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check

local M = {}

M.TRIES = 5
M.TIMEOUT = 5
M.ONCE = { started = true }

local function config_path() return vibeml.fs.paths().config .. "/notify.json" end

function M.config()
  local text = vibeml.fs.read(config_path())
  if not text then return nil end
  local ok, c = pcall(vibeml.json.decode, text)
  if not ok or type(c) ~= "table" then
    vibeml.log("warning", "%s is not valid JSON; no notifications are sent", config_path())
    return nil
  end
  local hooks = {}
  for _, w in ipairs(type(c.webhooks) == "table" and c.webhooks or {}) do
    if type(w) == "string" then w = { url = w } end
    if type(w) == "table" and type(w.url) == "string" and w.url:match("^https?://[^%s]+$") then
      hooks[#hooks + 1] = { url = w.url, format = w.format or "json",
                            key_secret = type(w.key_secret) == "string" and w.key_secret or nil }
    end
  end
  if #hooks == 0 then return nil end
  local events
  if type(c.events) == "table" and #c.events > 0 then
    events = {}
    for _, e in ipairs(c.events) do events[e] = true end
  end
  return { webhooks = hooks, key_secret = type(c.key_secret) == "string" and c.key_secret
    or "VIBEML_NOTIFY_KEY",
           events = events }
end

-- {==== the store: notify.json's webhooks list, edited by `vibeml config`

M.FORMATS = { json = true, slack = true, ntfy = true }
local E = vibeml.E

-- A webhook URL: http or https, a host (name, IPv4 or [IPv6]) and an optional port, no spaces
-- or control characters. Returned with its scheme and host lower-cased.
function M.check_url(url)
  local function bad(why)
    return nil,
      string.format("'%s' is not a usable webhook URL: %s. Give an http:// or https:// URL, "
      .. "e.g. https://hooks.example.com/vibeml", tostring(url):gsub("[%c]", "?"):sub(1, 200), why),
        E.EINVAL
  end
  if type(url) ~= "string" or url == "" then return bad("it is empty") end
  if #url > 2048 then return bad("it is longer than 2048 characters") end
  if url:find("[%s%c]") then return bad("it contains spaces or control characters") end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return bad("it has no scheme (http:// or https://)") end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return bad("the scheme is " .. scheme .. "://, and a webhook is sent only over http or https")
  end
  local authority, tail = rest:match("^([^/?#]*)(.*)$")
  local hostport = authority:match("@([^@]*)$") or authority
  local host, port = hostport:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = hostport:match("^([^:]*)(.*)$") end
  if host == "" then return bad("it names no host") end
  if not host:match("^%[") and not host:match("^[%w.-]+$") then
    return bad("the host '" .. host .. "' is not a host name or address")
  end
  if port ~= "" then
    local n = tonumber(port:match("^:(%d+)$"))
    if not n or n < 1 or n > 65535 then return bad("the port must be a number from 1 to 65535") end
  end
  local userinfo = authority:match("^(.*@)") or ""
  return scheme .. "://" .. userinfo .. host:lower() .. port .. tail
end

local function read_store()
  local text = vibeml.fs.read(config_path())
  if not text then return {} end
  local ok, c = pcall(vibeml.json.decode, text)
  if not ok or type(c) ~= "table" or (c.webhooks ~= nil and type(c.webhooks) ~= "table") then
    return nil, config_path()
      .. " is not valid JSON with a \"webhooks\" list; fix or remove it by hand, then try again",
      E.ECONFIG
  end
  return c
end

local function write_store(c)
  if c.webhooks and #c.webhooks == 0 then c.webhooks = vibeml.array() end
  return vibeml.fs.write(config_path(), vibeml.json.encode(c) .. "\n",
    { mode = 384, atomic = true })
end

local function as_hook(w)
  if type(w) == "string" then return { url = w, format = "json" } end
  if type(w) ~= "table" then return nil end
  return { url = w.url, format = w.format or "json", key_secret = w.key_secret }
end

function M.hooks()
  local c, msg, code = read_store()
  if not c then return nil, msg, code end
  local out = {}
  for _, w in ipairs(c.webhooks or {}) do out[#out + 1] = as_hook(w) end
  return out, c
end

function M.add_hook(url, opts)
  opts = opts or {}
  local u, msg, code = M.check_url(url)
  if not u then return nil, msg, code end
  local format = opts.format or "json"
  if not M.FORMATS[format] then
    return nil, "format must be json, slack or ntfy, not '" .. tostring(format) .. "'", E.EINVAL
  end
  local ks = opts.key_secret
  if ks ~= nil and (type(ks) ~= "string" or not ks:match("^[%a_][%w_]*$") or #ks > 64) then
    return nil, "'" .. tostring(ks)
      .. "' is not a secret name: use an environment-variable name (letters, digits "
      .. "and '_', not starting with a digit), e.g. VIBEML_NOTIFY_KEY", E.EINVAL
  end
  local c, m2, c2 = read_store()
  if not c then return nil, m2, c2 end
  c.webhooks = c.webhooks or {}
  local hook = { url = u, format = format, key_secret = ks }
  for i, w in ipairs(c.webhooks) do
    local h = as_hook(w)
    if h and h.url == u then
      c.webhooks[i] = hook
      local ok, werr = write_store(c)
      if not ok then return nil, werr, E.EIO end
      return hook, "updated"
    end
  end
  c.webhooks[#c.webhooks + 1] = hook
  local ok, werr = write_store(c)
  if not ok then return nil, werr, E.EIO end
  return hook, "added"
end

function M.remove_hook(which)
  local c, msg, code = read_store()
  if not c then return nil, msg, code end
  local list, kept, removed = c.webhooks or {}, {}, {}
  local n = math.tointeger(tonumber(which))
  local u = which and not n and (M.check_url(which) or which)
  for i, w in ipairs(list) do
    local h = as_hook(w)
    if which == nil or (n and i == n) or (h and h.url == u) then removed[#removed + 1] = h
    else kept[#kept + 1] = w end
  end
  if which ~= nil and #removed == 0 then
    return nil,
      string.format("no webhook %s is configured (%d configured; list them with `vibeml config get "
      .. "notify.webhook`)", n and ("number " .. n)
        or ("'" .. tostring(which):gsub("[%c]", "?") .. "'"), #list), E.ENOENT
  end
  c.webhooks = kept
  local ok, werr = write_store(c)
  if not ok then return nil, werr, E.EIO end
  return removed
end

-- }====

local function host_of(url) return url:match("^(https?://[^/?#]+)") or "?" end

local function queue_dir(row) return row.dir .. "/notify" end

-- The deliverer script `vibeml run` is given (kept in the config folder, rewritten when stale).
local DELIVER = 'require("vibeml.notify").deliver(arg[1])\n'

local function deliverer()
  local path = vibeml.fs.paths().config .. "/notify-deliver.lua"
  if vibeml.fs.read(path) ~= DELIVER then vibeml.fs.write(path, DELIVER) end
  return path
end

local function spawn(dir)
  local env = {}
  for _,
    k in ipairs({ "HOME", "PATH", "VIBEML_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
    "XDG_STATE_HOME",
                       "XDG_CACHE_HOME", "VML_SOURCE_DIR", "VIBEML_PASSPHRASE_FILE" }) do
    env[k] = os.getenv(k)
  end
  local exe = vibeml.proc.self_exe()
  local p, msg = vibeml.proc.spawn({ exe, "run", "--timeout", "120", deliverer(), dir }, {
    detached = true, clear_env = true, env = env, stdin = "", stdout = "null",
    stderr = { file = dir .. "/deliver.err" } })
  if not p then return nil, msg end
  p:release()
  return true
end

local function summary(row, event, data)
  local d = data or {}
  if event == "completed" then
    return string.format("VibeML job %s completed (cost $%.4f); output: %s", row.id,
      tonumber(d.cost) or 0,
      tostring(type(d.outputs) == "table" and (d.outputs.output or d.outputs.hub_url) or "-"))
  elseif event == "failed" then
    local f = type(d.failure) == "table" and d.failure or {}
    local fix = type(f.fixes) == "table" and f.fixes[1] and f.fixes[1].title
    return string.format("VibeML job %s failed: %s%s", row.id, tostring(f.message or "?"), fix
      and (" Fix: " .. fix) or "")
  elseif event == "watchdog" then
    return string.format("VibeML job %s: watchdog %s (%s): %s", row.id, tostring(d.rule),
      tostring(d.action), tostring(d.evidence))
  elseif event == "terminated" then
    return string.format("VibeML job %s stopped (%s)", row.id, tostring(d.stop_reason or "user"))
  end
  return string.format("VibeML job %s: %s%s", row.id, event, d.message and (": " .. d.message)
    or "")
end

-- Queues one event and starts a deliverer. Returns true, or nil and why nothing was queued.
function M.send(job_id, event, data)
  local c = M.config()
  if not c then return nil, "no webhooks configured" end
  if c.events and not c.events[event] then return nil, "event filtered out" end
  local row = jdb.get(job_id)
  if not row or not row.dir then return nil, "no job" end
  local dir = queue_dir(row)
  vibeml.fs.mkdirs(dir)
  if M.ONCE[event] then
    if vibeml.fs.exists(dir .. "/sent-" .. event) then return nil, "already sent" end
    vibeml.fs.write(dir .. "/sent-" .. event, "")
  end
  local ev = { v = 1, event = event,
    id = vibeml.hash(job_id .. event .. vibeml.time() .. math.random(), 16),
               at = vibeml.time(),
                 job = { id = row.id, name = row.name, workflow = row.workflow, model = row.model,
               state = row.state, backend = row.backend }, data = data or vibeml.object(),
               summary = summary(row, event, data) }
  local name = string.format("%s/q-%.6f-%s.json", dir, vibeml.time(), ev.id)
  vibeml.fs.write(name, vibeml.json.encode(ev))
  return spawn(dir)
end

-- Notifications the progress hooks owe (vibeml.jobs.watchdog calls this with new steps): the
-- first step ("started") and the first step after each recovery ("recovered").
function M.progress(row)
  if not M.config() then return end
  M.send(row.id, "started", { step = row.step, total_steps = row.total_steps })
  local n = tonumber(row.recoveries) or 0
  if n > 0 and row.dir and not vibeml.fs.exists(queue_dir(row) .. "/sent-recovered-" .. n) then
    vibeml.fs.mkdirs(queue_dir(row))
    vibeml.fs.write(queue_dir(row) .. "/sent-recovered-" .. n, "")
    M.send(row.id, "recovered", { recoveries = n, step = row.step })
  end
end

local function body_of(ev, format)
  if format == "slack" then
    return vibeml.json.encode({ text = ev.summary }), "application/json"
  elseif format == "ntfy" then
    return ev.summary, "text/plain; charset=utf-8"
  end
  return vibeml.json.encode(ev), "application/json"
end

local function log_line(dir, t)
  t.at = vibeml.time()
  vibeml.fs.append(dir .. "/../notify.log", vibeml.json.encode(t) .. "\n")
end

-- Posts the queued events of one job folder's notify/ queue (the deliverer process).
function M.deliver(dir)
  local c = M.config()
  if not c then return end
  -- the signing keys by vault name (a hook may name its own), opened once each
  local keys = {}
  local function key_of(name)
    if keys[name] == nil then
      local okv, se = pcall(function() return vibeml.vault.env_for({ name }) end)
      keys[name] = okv and se or false
      if not keys[name] then
        log_line(dir, { warning = "no signing key: the vault has no secret " .. name
          .. " (add it with `vibeml secrets set " .. name .. "`); deliveries are unsigned" })
      end
    end
    return keys[name] or nil
  end
  pcall(vibeml.vault.prime)
  for _ = 1, 20 do -- events queued while this runs are taken too
    local names = {}
    for _, n in ipairs(vibeml.fs.list(dir) or {}) do if n:match("^q%-.*%.json$") then
      names[#names + 1] = n end end
    if #names == 0 then break end
    table.sort(names)
    for _, n in ipairs(names) do
      -- claim: read and remove in one write transaction, so two deliverers never post one event
      local ev
      check(jdb.db():tx(function()
        local text = vibeml.fs.read(dir .. "/" .. n)
        if text then
          vibeml.fs.remove(dir .. "/" .. n)
          ev = vibeml.json.decode(text)
        end
      end))
      if type(ev) == "table" then
        for _, w in ipairs(c.webhooks) do
          local body, ctype = body_of(ev, w.format)
          body = vibeml.vault.redact(body)
          local ts = string.format("%d", math.floor(vibeml.time()))
          local headers = { ["Content-Type"] = ctype, ["X-VibeML-Event"] = ev.event,
            ["X-VibeML-Delivery"] = ev.id,
                            ["X-VibeML-Timestamp"] = ts }
          if w.format == "ntfy" then headers["Title"] = "VibeML " .. ev.event end
          local kname = w.key_secret or c.key_secret
          local key = key_of(kname)
          if key then
            headers["X-VibeML-Signature"] = "sha256=" .. vibeml.mac(key, ts .. "." .. body, kname)
          end
          local delay = 0.5
          for try = 1, M.TRIES do
            local r, msg =
              vibeml.http.request({ method = "POST", url = w.url, headers = headers, body = body,
                                                 timeout = M.TIMEOUT, max_redirects = 0,
                                                   max_bytes = 65536 })
            local status = r and r.status
            log_line(dir,
              { event = ev.event, delivery = ev.id, to = host_of(w.url), try = try, status = status,
                            error = not r and vibeml.vault.redact(tostring(msg)) or nil })
            if status and status < 500 then break end
            if try < M.TRIES then vibeml.sleep(delay); delay = delay * 2 end
          end
        end
      end
    end
  end
  for _, k in pairs(keys) do if k then k:close() end end
end

return M

-- SPDX-License-Identifier: MIT
--
-- vibeml.notify — webhook notifications about jobs (issue 15): started (first step), recovered,
-- watchdog, cap_projected, cap_80, completed (cost, outputs), failed (the fix), terminated.
--
-- Configuration: <config>/notify.json (kept apart from the preferences)
--   { "webhooks": [ "http://127.0.0.1:8080/hook",
--                   { "url": "https://hooks.slack.com/...", "format": "slack" },
--                   { "url": "https://ntfy.example/topic", "format": "ntfy" } ],
--     "key_secret": "VIBEML_NOTIFY_KEY",      -- vault secret that signs (default this name)
--     "events": ["completed", "failed", ...] } -- optional filter
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
      hooks[#hooks + 1] = { url = w.url, format = w.format or "json" }
    end
  end
  if #hooks == 0 then return nil end
  local events
  if type(c.events) == "table" and #c.events > 0 then
    events = {}
    for _, e in ipairs(c.events) do events[e] = true end
  end
  return { webhooks = hooks, key_secret = type(c.key_secret) == "string" and c.key_secret or "VIBEML_NOTIFY_KEY",
           events = events }
end

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
  for _, k in ipairs({ "HOME", "PATH", "VIBEML_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
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
    return string.format("VibeML job %s completed (cost $%.4f); output: %s", row.id, tonumber(d.cost) or 0,
      tostring(type(d.outputs) == "table" and (d.outputs.output or d.outputs.hub_url) or "-"))
  elseif event == "failed" then
    local f = type(d.failure) == "table" and d.failure or {}
    local fix = type(f.fixes) == "table" and f.fixes[1] and f.fixes[1].title
    return string.format("VibeML job %s failed: %s%s", row.id, tostring(f.message or "?"), fix and (" Fix: " .. fix) or "")
  elseif event == "watchdog" then
    return string.format("VibeML job %s: watchdog %s (%s): %s", row.id, tostring(d.rule), tostring(d.action), tostring(d.evidence))
  elseif event == "terminated" then
    return string.format("VibeML job %s stopped (%s)", row.id, tostring(d.stop_reason or "user"))
  end
  return string.format("VibeML job %s: %s%s", row.id, event, d.message and (": " .. d.message) or "")
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
  local ev = { v = 1, event = event, id = vibeml.hash(job_id .. event .. vibeml.time() .. math.random(), 16),
               at = vibeml.time(), job = { id = row.id, name = row.name, workflow = row.workflow, model = row.model,
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
  local key
  local okv, se = pcall(function() return vibeml.vault.env_for({ c.key_secret }) end)
  if okv and se then key = se else
    log_line(dir, { warning = "no signing key: the vault has no secret " .. c.key_secret
      .. " (add it with `vibeml secrets set " .. c.key_secret .. "`); deliveries are unsigned" })
  end
  pcall(vibeml.vault.prime)
  for _ = 1, 20 do -- events queued while this runs are taken too
    local names = {}
    for _, n in ipairs(vibeml.fs.list(dir) or {}) do if n:match("^q%-.*%.json$") then names[#names + 1] = n end end
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
          local headers = { ["Content-Type"] = ctype, ["X-VibeML-Event"] = ev.event, ["X-VibeML-Delivery"] = ev.id,
                            ["X-VibeML-Timestamp"] = ts }
          if w.format == "ntfy" then headers["Title"] = "VibeML " .. ev.event end
          if key then headers["X-VibeML-Signature"] = "sha256=" .. vibeml.mac(key, ts .. "." .. body, c.key_secret) end
          local delay = 0.5
          for try = 1, M.TRIES do
            local r, msg = vibeml.http.request({ method = "POST", url = w.url, headers = headers, body = body,
                                                 timeout = M.TIMEOUT, max_redirects = 0, max_bytes = 65536 })
            local status = r and r.status
            log_line(dir, { event = ev.event, delivery = ev.id, to = host_of(w.url), try = try, status = status,
                            error = not r and vibeml.vault.redact(tostring(msg)) or nil })
            if status and status < 500 then break end
            if try < M.TRIES then vibeml.sleep(delay); delay = delay * 2 end
          end
        end
      end
    end
  end
  if key then key:close() end
end

return M

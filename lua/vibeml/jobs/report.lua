-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.report — the end-of-job report (issue 15): outcome, cost per attempt, recoveries,
-- measured against planned duration and cost, final/eval loss, watchdog events and where the
-- outputs are; written as report.json and report.md in the job folder when the job ends (the
-- local supervisor's end, the SkyPilot backend's finish) and served as vibeml://jobs/{id}/report.
--   build(row) -> report table
--   write(id_or_row) -> report, path_json | nil, message   (never raises: an end must not fail)
--   read(id) -> text of report.json (built now when the job has none yet) | nil, message
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check

local M = {}

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  return vibeml.json.decode(s)
end

local function round(x, d)
  if type(x) ~= "number" then return x end
  local m = 10 ^ (d or 4)
  return math.floor(x * m + 0.5) / m
end

local function expected(v)
  if type(v) == "table" then return tonumber(v.expected) or tonumber(v.max) end
  return tonumber(v)
end

local function pct(got, want)
  if type(got) ~= "number" or type(want) ~= "number" or want <= 0 then return nil end
  return round(100 * (got - want) / want, 1)
end

-- Billed segments from the state trail: each stretch in "running" is one attempt on one VM.
local function attempts_of(db, row)
  local out, open = {}, nil
  local rate = (row.rate_hr or 0) * math.max(1, row.nodes or 1)
  for _,
    e in ipairs(
    check(
      db:query("SELECT ts, data FROM job_events WHERE job_id = ? AND kind = 'state' ORDER BY id",
        row.id))) do
    local d = decode(e.data) or {}
    if d.to == "running" and not open then
      open = e.ts
    elseif d.to ~= "running" and open then
      out[#out + 1] = { started_at = open, ended_at = e.ts, duration_s = round(e.ts - open, 1),
                        cost = round(rate * (e.ts - open) / 3600, 6), ended_as = d.to }
      open = nil
    end
  end
  if open then out[#out + 1] = { started_at = open, duration_s = round(jdb.now() - open, 1) } end
  return out
end

function M.build(row)
  local db = jdb.db()
  local ok, jobs = pcall(require, "vibeml.jobs")
  local est = decode(row.estimate) or {}
  local final_loss, eval_loss, train_loss, last_step, steps_seen
  local t_first, t_last, s_first, s_last
  for _,
    e in ipairs(
    check(db:query("SELECT data FROM job_events WHERE job_id = ? AND kind = 'progress' ORDER BY id",
      row.id))) do
    local d = decode(e.data) or {}
    if d.event == "step" then
      steps_seen = (steps_seen or 0) + 1
      if d.loss ~= nil then final_loss = d.loss end
      last_step = tonumber(d.step) or last_step
      local ts, st = tonumber(d.ts), tonumber(d.step)
      if ts and st then
        -- a restart begins anew
        if not t_first or st <= (s_last or 0) then t_first, s_first = ts, st end
        t_last, s_last = ts, st
      end
    elseif d.event == "eval" and d.eval_loss ~= nil then
      eval_loss = d.eval_loss
    elseif d.event == "end" then
      if d.final_loss ~= nil then final_loss = d.final_loss end
      if d.train_loss ~= nil then train_loss = d.train_loss end
    end
  end
  local watch = {}
  for _,
    e in ipairs(
    check(
      db:query(
        "SELECT ts, data FROM job_events WHERE job_id = ? AND kind IN ('watchdog', 'cost') " ..
          "ORDER BY id", row.id))) do
    local d = decode(e.data) or {}
    if d.rule or d.requote or d.message then
      watch[#watch + 1] = { at = e.ts, rule = d.rule or d.requote, action = d.action,
        evidence = d.evidence,
                            message = d.message }
    end
  end
  local runtime = row.started_at and row.ended_at and round(row.ended_at - row.started_at, 1) or nil
  local planned_s = expected(est.duration_h) and round(expected(est.duration_h) * 3600, 1)
  local cost = row.cost_final or row.cost_accrued or 0
  local planned_cost = expected(est.cost)
  local failure
  if row.failure_category then
    failure = { category = row.failure_category, message = row.failure_message,
                fixes = decode(row.failure_advice) or vibeml.array() }
  end
  return {
    id = row.id, name = row.name, workflow = row.workflow, model = row.model, dataset = row.dataset,
    backend = row.backend, where = ok and jobs.where(row) or nil,
    outcome = { state = row.state, stop_reason = row.stop_reason, exit_code = row.exit_code,
      failure = failure },
    created_at = row.created_at, started_at = row.started_at, ended_at = row.ended_at,
    duration = { measured_s = runtime, planned_s = planned_s, delta_pct = pct(runtime, planned_s) },
    cost = { currency = "USD", final = round(cost, 6), planned = planned_cost,
      delta_pct = pct(cost, planned_cost),
             cap = row.cap_usd, rate_hr = row.rate_hr, nodes = row.nodes },
    attempts = vibeml.array(attempts_of(db, row)), attempts_count = row.attempts,
      recoveries = row.recoveries,
    training = { steps = last_step, total_steps = row.total_steps, logs = steps_seen,
                 final_loss = final_loss, train_loss = train_loss, eval_loss = eval_loss,
                 measured_step_s = (t_last and s_last and s_first and s_last > s_first)
                   and round((t_last - t_first) / (s_last - s_first), 5) or nil,
                 tokens_per_s = row.tokens_per_s },
    watchdog = vibeml.array(watch),
    outputs = ok and jobs.outputs_of(row) or nil,
  }
end

local function money(x)
  if type(x) ~= "number" then return "?" end
  if math.abs(x) < 0.1 then return string.format("$%.4f", x) end
  return string.format("$%.2f", x)
end

local function signed(p) return p and string.format(" (%+.0f %%)", p) or "" end

function M.markdown(r)
  local L = {}
  local function add(fmt, ...) L[#L + 1] = string.format(fmt, ...) end
  add("# Job %s: %s", r.id, r.outcome.state)
  add("")
  add("%s on %s (%s), %s.", tostring(r.workflow), tostring(r.model), tostring(r.dataset),
    tostring(r.where))
  if r.outcome.stop_reason then add("Stopped: %s.", r.outcome.stop_reason) end
  if r.outcome.failure then
    add("")
    add("**%s**: %s", r.outcome.failure.category, tostring(r.outcome.failure.message))
    for _, f in ipairs(r.outcome.failure.fixes or {}) do
      add("- fix: %s", tostring(f.title or f.command))
    end
  end
  add("")
  add("| | measured | planned |")
  add("|---|---|---|")
  add("| duration | %s s | %s s%s |", tostring(r.duration.measured_s or "?"),
    tostring(r.duration.planned_s or "?"), signed(r.duration.delta_pct))
  add("| cost | %s | %s%s |", money(r.cost.final), money(r.cost.planned), signed(r.cost.delta_pct))
  add("")
  add("Cap %s; %d attempt(s), %d recovery(ies).", money(r.cost.cap), #r.attempts,
    tonumber(r.recoveries) or 0)
  for i, a in ipairs(r.attempts) do
    add("- attempt %d: %s s, %s%s", i, tostring(a.duration_s), money(a.cost), a.ended_as
      and (", ended " .. a.ended_as) or "")
  end
  local t = r.training
  add("")
  add("Training: step %s of %s; final loss %s, eval loss %s; %s s/step.", tostring(t.steps or "?"),
    tostring(t.total_steps or "?"),
    tostring(t.final_loss or "-"), tostring(t.eval_loss or "-"), tostring(t.measured_step_s or "?"))
  if #r.watchdog > 0 then
    add("")
    add("Watchdog and cost events:")
    for _, w in ipairs(r.watchdog) do
      add("- %s%s: %s", tostring(w.rule or "cost"), w.action and (" (" .. w.action .. ")") or "",
        tostring(w.evidence or w.message))
    end
  end
  local o = r.outputs
  if o then
    add("")
    add("Outputs: %s%s", tostring(o.output or "-"), o.saved and "" or " (not saved)")
    if o.last_checkpoint then
      add("Last checkpoint: %s (step %s)", o.last_checkpoint, tostring(o.last_checkpoint_step))
    end
    if o.hub_url then add("Hub: %s", o.hub_url) end
    if o.fetch then add("Fetch: `%s`", o.fetch) end
  end
  return table.concat(L, "\n") .. "\n"
end

local function write(id)
  local row = jdb.get(id)
  if not row then return nil, "no job " .. tostring(id) end
  if not row.dir then return nil, "job " .. id .. " has no folder" end
  local r = M.build(row)
  local path = row.dir .. "/report.json"
  vibeml.fs.write(path, vibeml.json.encode(r))
  vibeml.fs.write(row.dir .. "/report.md", M.markdown(r))
  require("vibeml.plan.measured").record(row, r) -- throughput kept for later plans (never raises)
  jdb.event(jdb.db(), id, "note", { message = "report written", path = path })
  local okn, notify = pcall(require, "vibeml.notify")
  if okn and type(notify) == "table" and notify.send and jdb.TERMINAL[row.state] then
    pcall(notify.send, id, row.state,
      { cost = r.cost.final, outputs = r.outputs, stop_reason = row.stop_reason,
      failure = r.outcome.failure
        and { category = r.outcome.failure.category, message = r.outcome.failure.message,
                                        fixes = r.outcome.failure.fixes } })
  end
  return r, path
end

function M.write(id_or_row)
  local id = type(id_or_row) == "table" and id_or_row.id or id_or_row
  local ok, r, path = pcall(write, id)
  if ok and r then return r, path end
  local msg = ok and path or r
  vibeml.log("warning", "report for job %s: %s", tostring(id), tostring(msg))
  return nil, tostring(msg)
end

function M.read(id)
  local row = jdb.get(id)
  if not row then return nil, "no job '" .. tostring(id) .. "'" end
  local text = row.dir and vibeml.fs.read(row.dir .. "/report.json")
  if text then return text end
  return vibeml.json.encode(M.build(row))
end

return M

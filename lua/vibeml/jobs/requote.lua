-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.requote — a running job's quote, redone from what it measures (issue 15): after
-- warm-up (the first logged step since the job last became running is the reference, so start-up
-- and a recovery's set-up are not counted as training), the time per step between logs gives the
-- time left, the end time, the total run time and the cost to finish, beside the plan's figures.
--   of(row [, now]) -> { measured_step_s=, tokens_per_s=, steps_left=, tail_s=, tail_source=,
--        eta_s=, expected_end_at=,
--        runtime_s=, expected_runtime_s=, planned_runtime_s=, cost_so_far=, cost_to_finish=,
--        expected_cost=, planned_cost=, delta_pct=, cap=, crosses_cap=, budget_left=,
--        crosses_budget=, budget_reached_in_s=, summary= } | nil
--        (nil while there is too little to measure, or when the job is not running;
--        tail_s: the time expected after the last step, see tail_of; budget_left: what this
--        month's budget can still take for this job in all, i.e. the remaining budget plus the
--        job's own hold in the ledger; crosses_budget when the projected total is over it before
--        the job's cap would stop it)
--   watch(row)  records, once per job, a "cost" event when the projected total crosses the cap
--        (before the cap stop happens; webhook "cap_projected") or this month's remaining budget
--        (webhook "budget_projected"; nothing stops a job at the month's budget, so the person
--        is told what to do), and notifies at 80 % of the cap
--
-- Estimate error (bench/requote/run.sh): the expected total run time at 10/25/50/75 % of the
-- steps against the true one (ended_at - started_at), smoke runs of about 20 s with step_delay_s
-- 0.01, 0.03 and 0.06, two rounds (n = 6 per cell), on a shared 2-core machine; mean error in %,
-- and the mean of its absolute value in brackets. Before the tail was counted, every cell was low
-- by about the time between the last step and the recorded end (final checkpoint, evaluation,
-- export; on SkyPilot also the poll that sees SUCCEEDED): about 0.5 s locally and 2-3 s through
-- the simulator, by these errors.
--   backend   tail counted   10 %           25 %           50 %           75 %
--   local     no             -2.5 (4.1)     -2.6 (3.1)     -2.4 (2.4)     -1.8 (1.8)
--   local     yes            -0.5 (2.1)     -0.0 (1.5)     +0.4 (0.5)     +0.3 (0.6)
--   skypilot  no             -8.9 (10.7)    -9.5 (9.5)     -9.0 (9.0)     -6.2 (6.2)
--   skypilot  yes            +1.5 (3.7)     -0.3 (4.8)     -0.5 (5.5)     -0.5 (5.0)
-- What is left is noise (other work on the machine, the poll's timing), not a bias.
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check

local M = {}

M.MIN_LOGS = 3   -- logged steps since running before a re-quote is made (the first is warm-up)

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  return vibeml.json.decode(s)
end

local function expected(v)
  if type(v) == "table" then return tonumber(v.expected) or tonumber(v.max) end
  return tonumber(v)
end

local function round(x, d)
  if type(x) ~= "number" then return x end
  local m = 10 ^ (d or 4)
  return math.floor(x * m + 0.5) / m
end

local function measure(row)
  local db = jdb.db()
  local since =
    check(
    db:first(
      "SELECT max(ts) AS ts FROM job_events WHERE job_id = ? AND kind = 'state' AND " ..
        "json_extract(data, '$.to') = 'running'", row.id))
  local q = "SELECT ts, data FROM job_events WHERE job_id = ? AND kind = 'progress' AND ts >= ? "
    .. "AND json_extract(data, '$.event') = 'step' ORDER BY id %s LIMIT 1"
  local cnt =
    check(
    db:first(
      "SELECT count(*) AS n FROM job_events WHERE job_id = ? AND kind = 'progress' AND ts >= ? "
    .. "AND json_extract(data, '$.event') = 'step'", row.id, since and since.ts or 0)).n
  if cnt < M.MIN_LOGS then return nil end
  local a = check(db:first(string.format(q, "ASC"), row.id, since and since.ts or 0))
  local b = check(db:first(string.format(q, "DESC"), row.id, since and since.ts or 0))
  local da, dbb = decode(a and a.data) or {}, decode(b and b.data) or {}
  local sa, sb = tonumber(da.step), tonumber(dbb.step)
  local ta, tb = tonumber(da.ts) or a.ts, tonumber(dbb.ts) or b.ts
  if not (sa and sb and sb > sa and tb > ta) then return nil end
  return { step_s = (tb - ta) / (sb - sa), step = sb, at = tb, total = tonumber(dbb.total_steps),
           tokens_per_s = tonumber(dbb.tokens_per_s) }
end

-- The time from a job's last step to its end (final checkpoint, evaluation, export, upload, and
-- on a cloud the backend noticing the end): the steps alone leave it out, and the re-quote
-- underestimated by it (see the table above). Measured on this machine's last TAIL_JOBS
-- completed jobs of the same workflow and backend (their median: one slow end does not move
-- it), else the workflow descriptor's export time (throughput.export_s), else nothing. Kept
-- TAIL_EVERY seconds per process.
M.TAIL_JOBS = 5
M.TAIL_EVERY = 60
local tails = {}

local function tail_of(row)
  if not row.workflow then return 0, "none" end
  local key = row.workflow .. "|" .. tostring(row.backend)
  local c = tails[key]
  if c and vibeml.monotonic() - c.at < M.TAIL_EVERY then return c.s, c.source end
  local list = {}
  for _, j in ipairs(jdb.db():query([[SELECT j.ended_at AS ended_at, (SELECT max(json_extract(e.data, '$.ts'))
      FROM job_events e WHERE e.job_id = j.id AND e.kind = 'progress' AND json_extract(e.data, '$.event') = 'step') AS last_step
      FROM jobs j WHERE j.state = 'completed' AND j.workflow = ? AND j.backend = ? AND j.id <> ? AND j.ended_at IS NOT NULL
      ORDER BY j.ended_at DESC LIMIT ?]], row.workflow, row.backend, row.id, M.TAIL_JOBS)) do
    local t = tonumber(j.last_step) and j.ended_at - tonumber(j.last_step)
    if t and t >= 0 then list[#list + 1] = t end
  end
  local tail, source = 0, "none"
  if #list > 0 then
    table.sort(list)
    tail = #list % 2 == 1 and list[(#list + 1) // 2]
      or (list[#list // 2] + list[#list // 2 + 1]) / 2
    source = string.format("measured: the median of the last %d completed %s job(s) on %s", #list,
      row.workflow, tostring(row.backend))
  else
    local okw, wfs = pcall(require, "vibeml.workflows")
    local d = okw and select(2, pcall(wfs.get, row.workflow))
    local ex = type(d) == "table" and type(d.throughput) == "table"
      and tonumber(d.throughput.export_s)
    if ex then tail, source = ex, "workflow " .. row.workflow .. "'s export time" end
  end
  tails[key] = { at = vibeml.monotonic(), s = tail, source = source }
  return tail, source
end

local function money(x)
  if math.abs(x) < 0.1 then return string.format("$%.4f", x) end
  return string.format("$%.2f", x)
end

-- What this month's budget can still take for the job (USD), from the ledger's month status
-- (read at most every BUDGET_EVERY seconds per process: a status poll of many jobs asks once);
-- nil when no monthly budget is set or the ledger cannot be read. The job's own hold
-- (max(reserved, accrued)) is part of the month's use, so it is added back.
M.BUDGET_EVERY = 5
local month = { at = -math.huge }

local function budget_left(row)
  local now = vibeml.monotonic()
  if now - month.at >= M.BUDGET_EVERY then
    local okm, ledger = pcall(require, "vibeml.budget")
    local ok, st = false, nil
    if okm and type(ledger) == "table" and ledger.status then ok, st = pcall(ledger.status) end
    month = { at = now, st = ok and type(st) == "table" and st or nil }
  end
  local st = month.st
  if not st or type(st.monthly_limit) ~= "number" or type(st.remaining) ~= "number" then
    return nil
  end
  local held = 0
  for _, j in ipairs(type(st.jobs) == "table" and st.jobs or {}) do
    if j.job_id == row.id and j.state == "reserved" then
      held = math.max(tonumber(j.reserved) or 0, tonumber(j.accrued) or 0)
    end
  end
  return st.remaining + held, st.monthly_limit
end

local function compute(row, now)
  if row.state ~= "running" then return nil end
  local m = measure(row)
  if not m then return nil end
  local total = m.total or row.total_steps
  if not total or total <= 0 then return nil end
  now = now or jdb.now()
  local left = math.max(0, total - m.step)
  -- from the last log: the steps left and the end's tail; the time since that log counts against
  -- them (a slow step shows before it ends)
  local tail, tail_source = tail_of(row)
  local eta = math.max(0, left * m.step_s + tail - math.max(0, now - m.at))
  local rate = (row.rate_hr or 0) * math.max(1, row.nodes or 1)
  local so_far = math.max(row.cost_accrued or 0, jdb.cost_of(row, now))
  local to_finish = rate * eta / 3600
  local est = decode(row.estimate) or {}
  local planned_cost = expected(est.cost)
  local planned_h = expected(est.duration_h)
  local runtime = row.started_at and (now - row.started_at) or nil
  local r = {
    measured_step_s = round(m.step_s, 5), tokens_per_s = m.tokens_per_s, steps_left = left,
    tail_s = round(tail, 2), tail_source = tail_source,
    eta_s = round(eta, 1), expected_end_at = round(now + eta, 1),
    runtime_s = runtime and round(runtime, 1), expected_runtime_s = runtime
      and round(runtime + eta, 1),
    planned_runtime_s = planned_h and round(planned_h * 3600, 1),
    cost_so_far = round(so_far, 6), cost_to_finish = round(to_finish, 6),
      expected_cost = round(so_far + to_finish, 6),
    planned_cost = planned_cost, cap = row.cap_usd,
  }
  if planned_cost and planned_cost > 0 then
    r.delta_pct = round(100 * (r.expected_cost - planned_cost) / planned_cost, 1)
    r.summary = string.format("planned %s, now expected %s, %+.0f %%", money(planned_cost),
      money(r.expected_cost), r.delta_pct)
  else
    r.summary = string.format("now expected %s", money(r.expected_cost))
  end
  r.summary = r.summary .. string.format("; %.0f s left at %.3g s/step", eta, m.step_s)
  if row.cap_usd and r.expected_cost > row.cap_usd then
    r.crosses_cap = true
    r.cap_reached_in_s = rate > 0 and round(math.max(0, (row.cap_usd - so_far) / rate * 3600), 1)
      or nil
    r.summary = r.summary
      .. string.format("; crosses the cap %s, so it will be stopped there", money(row.cap_usd))
  end
  -- this month's budget: told when it runs out before the cap would stop the job
  local month_left, limit = nil, nil
  if rate > 0 then month_left, limit = budget_left(row) end
  if month_left then
    r.budget_left, r.month_limit = round(month_left, 6), limit
    if r.expected_cost > month_left and (not row.cap_usd or month_left < row.cap_usd) then
      r.crosses_budget = true
      r.budget_reached_in_s = round(math.max(0, (month_left - so_far) / rate * 3600), 1)
      r.summary = r.summary
        .. string.format("; crosses this month's remaining budget (%s left for it) in about %.0f s",
        money(math.max(0, month_left)), r.budget_reached_in_s)
    end
  end
  return r
end

function M.of(row, now)
  if type(row) ~= "table" or row.state ~= "running" then return nil end
  local ok, r = pcall(compute, row, now)
  if ok then return r end
  vibeml.log("warning", "re-quote of job %s: %s", tostring(row.id), tostring(r))
  return nil
end

local function once(db, id, what)
  return check(
    db:first(
      "SELECT 1 AS x FROM job_events WHERE job_id = ? AND kind = 'cost' AND json_extract(data, " ..
        "'$.requote') = ?", id, what)) == nil
end

local function notify(id, event, ev)
  local okn, n = pcall(require, "vibeml.notify")
  if okn and type(n) == "table" and n.send then pcall(n.send, id, event, ev) end
end

function M.watch(row)
  local r = M.of(row)
  if not r then return nil end
  local db = jdb.db()
  if r.crosses_budget and r.cost_so_far < r.budget_left and once(db, row.id, "crosses_budget") then
    local ev = { requote = "crosses_budget", projected = r.expected_cost,
      budget_left = r.budget_left,
      month_limit = r.month_limit, accrued = r.cost_so_far, cap = row.cap_usd,
        budget_in_s = r.budget_reached_in_s,
      message =
        string.format(
        "at the measured speed this job will cost about %s, more than this month's budget has "
        .. "left for it (%s of %s): the month's budget will be exceeded in about %.0f s. The " ..
          "job is not stopped "
        .. "for this%s; stop it (`vibeml jobs stop %s`) or raise the monthly budget (`vibeml " ..
          "budget set --monthly USD`)",
        money(r.expected_cost), money(math.max(0, r.budget_left)), money(r.month_limit),
          r.budget_reached_in_s,
        row.cap_usd and string.format(" (its cap, %s, is higher)", money(row.cap_usd)) or "",
          row.id) }
    jdb.event(db, row.id, "cost", ev)
    notify(row.id, "budget_projected", ev)
  end
  if not row.cap_usd then return r end
  if r.crosses_cap and r.cost_so_far < row.cap_usd and once(db, row.id, "crosses_cap") then
    local ev = { requote = "crosses_cap", projected = r.expected_cost, cap = row.cap_usd,
      accrued = r.cost_so_far,
      cap_in_s = r.cap_reached_in_s,
      message =
        string.format(
        "at the measured speed this job will cost about %s, over its cap %s: it will be stopped "
        .. "with a checkpoint when it reaches the cap%s unless the cap is raised",
          money(r.expected_cost), money(row.cap_usd),
        r.cap_reached_in_s and string.format(" (in about %.0f s)", r.cap_reached_in_s) or "") }
    jdb.event(db, row.id, "cost", ev)
    notify(row.id, "cap_projected", ev)
  end
  if r.cost_so_far >= 0.8 * row.cap_usd and once(db, row.id, "cap_80") then
    local ev = { requote = "cap_80", accrued = r.cost_so_far, cap = row.cap_usd,
                 message = string.format("80 %% of the cap used: %s of %s", money(r.cost_so_far),
                   money(row.cap_usd)) }
    jdb.event(db, row.id, "cost", ev)
    notify(row.id, "cap_80", ev)
  end
  return r
end

return M

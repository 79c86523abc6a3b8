-- SPDX-License-Identifier: MIT
--
-- `vibeml supervise JOB_ID` — the local backend's supervisor (started detached by
-- vibeml.jobs.local, in its own session; not meant to be typed). It runs the job's setup and
-- then its run (static workflow text, through bash; user parameters reach the program only
-- inside the VIBEML_PARAMS JSON environment variable), each in its own process group; writes
-- stdout/stderr to the job folder with secrets redacted; turns @@VIBEML lines (and Trainer dicts
-- or tqdm bars) into progress in the store; accrues cost and stops the job at its cap; honours
-- stop requests (SIGTERM to the group, SIGKILL after the grace period); records the exit code,
-- the end state and, for a failure, its category and advice.
local jdb = require "vibeml.jobs.db"
local check = require("vibeml.store").check
local progress = require "vibeml.jobs.progress"
local errors = require "vibeml.jobs.errors"
local watchdog = require "vibeml.jobs.watchdog"

local TICK = 0.5          -- seconds between stop-flag and cost checks
local PROGRESS_EVERY = 1  -- at most one fallback (tqdm/dict) progress event per second

local function guarded(modname)
  local ok, m = pcall(require, modname)
  if ok and type(m) == "table" then return m end
  return nil
end

local function redactor(names)
  if #names == 0 or not vibeml.vault then return function(s) return s end end
  local ok, se = pcall(vibeml.vault.from_environ, names)
  if not ok or not se then return function(s) return s end end
  return function(s)
    local out = se:redact(s)
    return out
  end
end

local function tail_of(path, n)
  local text = vibeml.fs.read(path) or ""
  if #text > n then text = text:sub(-n) end
  return text
end

local function run_phase(job, phase, script, env, state)
  local db = jdb.db()
  local p, msg = vibeml.proc.spawn({ "bash", "-c", script },
    { cwd = state.workdir, env = env, group = true })
  if not p then return nil, msg end
  jdb.update(job.id, { child_pgid = p:pid() })
  jdb.event(db, job.id, "phase", { phase = phase, status = "start", pid = p:pid() })
  local split = { stdout = progress.splitter(), stderr = progress.splitter() }
  local last_fallback = 0
  local function handle_lines(stream, lines)
    if #lines == 0 then return end
    local text = state.redact(table.concat(lines, "\n") .. "\n")
    vibeml.fs.append(state.dir .. "/" .. stream .. ".log", text)
    local prog, evs = nil, {}
    for line in text:gmatch("[^\n]+") do
      local kind, t = progress.parse_line(line)
      if kind then
        local pr = progress.to_progress(kind, t)
        local now = vibeml.monotonic()
        if kind == "vibeml" then
          state.protocol = true -- our protocol speaks: fallback parsing is off from now on
          evs[#evs + 1] = t
          if pr and (pr.event == "step" or pr.event == "start" or pr.event == "end") then
            prog = pr
          end
        elseif pr and not state.protocol and now - last_fallback >= PROGRESS_EVERY then
          last_fallback = now
          evs[#evs + 1] = { event = pr.event, source = kind, step = pr.step,
            total_steps = pr.total_steps, loss = pr.loss }
          prog = pr
        end
      end
    end
    if #evs > 0 or prog then
      check(db:tx(function()
        for _, e in ipairs(evs) do
          local kind = (e.event == "checkpoint" or e.event == "phase" or e.event == "error")
            and e.event or "progress"
          jdb.event(db, job.id, kind, e)
        end
        if prog then
          local f = { progress_at = jdb.now() }
          for _,
            k in ipairs({ "step", "total_steps", "loss", "lr", "tokens_per_s", "eta_s",
            "epoch" }) do
            if prog[k] ~= nil then f[k] = prog[k] end
          end
          local cols, vals = {}, {}
          for k, v in pairs(f) do cols[#cols + 1] = k .. " = ?"; vals[#vals + 1] = v end
          vals[#vals + 1] = job.id
          check(db:exec("UPDATE jobs SET " .. table.concat(cols, ", ") .. ", updated_at = "
            .. jdb.now() .. " WHERE id = ?", table.unpack(vals)))
        end
      end))
      watchdog.observe(job, evs, { flag = true })
    end
  end
  local next_tick = 0
  while true do
    local stream, chunk = p:read(TICK)
    if stream then
      handle_lines(stream, split[stream](chunk))
    elseif chunk ~= "timeout" then
      break -- both streams ended
    end
    if vibeml.monotonic() >= next_tick then
      next_tick = vibeml.monotonic() + TICK
      state.tick(p)
    end
  end
  handle_lines("stdout", split.stdout(nil))
  handle_lines("stderr", split.stderr(nil))
  local r = p:wait()
  jdb.event(db, job.id, "phase",
    { phase = phase, status = "end", code = r.code, signal = r.signal })
  return r
end

local function main(args)
  local id = args[1]
  if not id then
    vibeml.log("error", "usage: vibeml supervise JOB_ID")
    return 2
  end
  local db = jdb.db()
  local job = jdb.get(id)
  if not job then vibeml.log("error", "no job %s", id); return 1 end
  if not jdb.ACTIVE[job.state] then return 0 end
  local me = vibeml.proc.getpid()
  jdb.update(id, { pid = me, pid_start = vibeml.proc.start_time(me), backend_id = tostring(me) })
  local budget = guarded("vibeml.budget")
  local task = vibeml.json.decode(assert(vibeml.fs.read(job.task_path)))
  local params = type(job.params) == "string" and vibeml.json.decode(job.params) or {}
  local state = { dir = job.dir, workdir = job.dir .. "/work", stopping = false }
  vibeml.fs.mkdirs(state.workdir)
  vibeml.fs.mkdirs(job.dir .. "/checkpoints")
  local names = {}
  for k in pairs(task.secrets or {}) do names[#names + 1] = k end
  state.redact = redactor(names)

  local env = { VIBEML_JOB_ID = id, VIBEML_CHECKPOINT_DIR = job.dir .. "/checkpoints",
                VIBEML_OUTPUT_DIR = job.dir .. "/output", VIBEML_SUPERVISOR = false }
  for k, v in pairs(task.envs or {}) do
    if type(v) == "string" then env[k] = v end
  end

  -- every TICK: stop requests and cost
  local last_accrue = -1
  state.tick = function(p)
    local row =
      check(
      db:first(
        "SELECT state, stop_requested_at, stop_reason, stop_grace, cap_usd, rate_hr, nodes, " ..
          "billed_s, billing_since FROM jobs WHERE id = ?", id))
    if not row then return end
    if row.stop_requested_at and not state.stopping then
      state.stopping = true
      state.reason = row.stop_reason or "user"
      jdb.event(db, id, "note",
        { message = "stopping: SIGTERM to the job's process group", reason = state.reason })
      p:stop(row.stop_grace or params.grace or 10)
    end
    -- the clock-only rules (a stalled run prints nothing)
    watchdog.observe(job, {}, { flag = true })
    local cost = jdb.cost_of(row)
    if cost ~= last_accrue and (row.rate_hr or 0) > 0 then
      last_accrue = cost
      check(db:exec("UPDATE jobs SET cost_accrued = ? WHERE id = ?", cost, id))
      if budget and budget.accrue then pcall(budget.accrue, id, cost) end
      if row.cap_usd and cost >= row.cap_usd and not state.stopping then
        jdb.update(id, { stop_requested_at = jdb.now(), stop_reason = "budget" })
        jdb.event(db, id, "cost",
          { accrued = cost, cap = row.cap_usd, message = "cost cap reached: stopping the job" })
      end
    end
  end

  local ok, werr = pcall(require("vibeml.workflows").write_files, task, state.workdir)
  local result, failure
  if not ok then
    failure = { category = "setup",
      message = tostring(type(werr) == "table" and werr.message or werr), retry = false }
  end
  if not failure and task.setup and task.setup ~= "" then
    local r, msg = run_phase(job, "setup", task.setup, env, state)
    if not r then
      failure = { category = "setup", message = "setup could not start: " .. tostring(msg) }
    elseif r.code ~= 0 and not state.stopping then
      failure = { category = "setup", message = "setup exited with code " .. r.code, code = r.code }
      result = r
    end
  end
  if not failure and not state.stopping then
    jdb.update(id, { state = "running" }, "run started")
    local r, msg = run_phase(job, "run", task.run or "true", env, state)
    result = r
    if not r then
      failure = { category = "setup", message = "the program could not start: " .. tostring(msg) }
    end
  end

  -- the end
  local row = jdb.get(id)
  local final = jdb.cost_of(row)
  local fields = { exit_code = result and result.code or nil, cost_accrued = final,
    cost_final = final,
                   child_pgid = vibeml.null }
  if state.stopping then
    fields.state = "terminated"
    fields.stop_reason = state.reason
  elseif failure or (result and result.code ~= 0) then
    fields.state = "failed"
    local text = tail_of(job.dir .. "/stderr.log", 32768) .. "\n"
      .. tail_of(job.dir .. "/stdout.log", 8192)
    local ctx = { job_id = id, model = job.model, dataset = job.dataset,
      hp = params.hyperparameters }
    local c = errors.classify(text, ctx, { sources = { "training" } })
    failure = failure or {}
    if c and (not failure.category or failure.category == "setup" and failure.code) then
      failure.category = (failure.category == "setup" and c.category == "user_code") and "setup"
        or c.category
      failure.message = c.message .. " (" .. c.detail .. ")"
      failure.fixes = c.fixes
      failure.retry = c.retry
    end
    if not failure.message then
      local last = text:match("([^\n]+)\n*%s*$") or ""
      failure.message = string.format("the training program exited with code %s: %s",
        tostring(result and result.code), last)
    end
    fields.failure_category = failure.category or "user_code"
    fields.failure_message = state.redact(failure.message)
    if not failure.fixes or #failure.fixes == 0 then -- never a failure without a next step
      failure.fixes = errors.fallback(fields.failure_category,
        { job_id = id, model = job.model, dataset = job.dataset })
    end
    fields.failure_advice = vibeml.json.encode(vibeml.array(failure.fixes))
    fields.failure_retry = failure.retry and 1 or 0
  else
    fields.state = "completed"
  end
  jdb.update(id, fields, "supervisor finished")
  require("vibeml.jobs.report").write(id) -- report.json + report.md in the job folder
  if budget and budget.settle then pcall(budget.settle, id, final) end
  return 0
end

return { summary = "(internal) supervise a local job: `vibeml supervise JOB_ID`",
         usage =
           "usage: vibeml supervise JOB_ID\n\nStarted by the local backend; runs the job, " ..
           "records its progress and end.\n",
         main = main }

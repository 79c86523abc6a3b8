-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.db — the jobs component's tables (its own migrations) and the small data layer the
-- backends, the supervisor, the poller and the surfaces share. Every write that changes a job's
-- state goes through M.transition so the state machine and its event trail stay consistent
-- across processes (a CLI, servers and supervisors may all touch one job).
--
-- States: pending -> launching -> running -> completed | failed | terminated, and
-- running <-> recovering (spot preemption, managed jobs). Terminal states never change.
local store = require "vibeml.store"
local E = vibeml.E
local check = store.check

local M = {}

M.STEPS = {
  -- 1: jobs and their events
  [[CREATE TABLE jobs(
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      workflow TEXT, model TEXT, dataset TEXT,
      params TEXT,                    -- JSON: the request's hyperparameters and options
      backend TEXT NOT NULL,          -- local | skypilot
      mode TEXT,                      -- local: process; skypilot: managed | cluster
      backend_id TEXT,                -- SkyPilot (managed) job id, or the local supervisor pid
      sky_name TEXT,                  -- the name given with -n / -c
      cluster TEXT,
      state TEXT NOT NULL,
      backend_status TEXT,            -- the backend's own word (RUNNING, RECOVERING, ...)
      created_at REAL NOT NULL, started_at REAL, ended_at REAL, updated_at REAL,
      offer TEXT,                     -- JSON: gpu, count, cloud, region, spot
      gpu TEXT, gpu_count INTEGER, cloud TEXT, region TEXT, spot INTEGER,
      nodes INTEGER NOT NULL DEFAULT 1,
      rate_hr REAL NOT NULL DEFAULT 0,     -- USD per node-hour of the chosen offer
      estimate TEXT,                  -- JSON: duration_h and cost ranges from the plan
      cap_usd REAL,                   -- stop (reason budget) when accrued cost reaches it
      cost_accrued REAL NOT NULL DEFAULT 0,
      cost_final REAL,
      billed_s REAL NOT NULL DEFAULT 0,    -- closed billing segments, seconds
      billing_since REAL,             -- open segment start (running/recovering on a cloud)
      pid INTEGER, pid_start INTEGER, child_pgid INTEGER,
      exit_code INTEGER,
      step INTEGER, total_steps INTEGER, loss REAL, lr REAL, tokens_per_s REAL, eta_s REAL,
      epoch REAL, progress_at REAL,
      attempts INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0,
      failure_category TEXT, failure_message TEXT, failure_advice TEXT, failure_retry INTEGER,
      stop_reason TEXT, stop_requested_at REAL, stop_grace REAL,
      dir TEXT, task_path TEXT,
      log_bytes INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_state ON jobs(state);
    CREATE INDEX jobs_created ON jobs(created_at);
    CREATE INDEX jobs_backend_state ON jobs(backend, state);
    CREATE TABLE job_events(
      id INTEGER PRIMARY KEY,
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      ts REAL NOT NULL,
      kind TEXT NOT NULL,             -- state | progress | phase | checkpoint | attempt |
                                      -- recovery | cost | error | log | note
      data TEXT                       -- JSON
    );
    CREATE INDEX job_events_job ON job_events(job_id, id);]],
  -- 2: answers of `sky api info` / `sky check` shared between processes for a few minutes
  [[CREATE TABLE sky_info(key TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL NOT NULL)]],
  -- 3: where the job's checkpoints and outputs live (JSON, vibeml.jobs.storage layout); billing
  -- at the rate of what actually runs: cost_base is the cost of the billed time before the last
  -- rate change, rate_from_s the billed seconds at that change; the launching process (pid,
  -- start time) so a launch that died mid-way can be told from one still under way
  [[ALTER TABLE jobs ADD COLUMN storage TEXT;
    ALTER TABLE jobs ADD COLUMN cost_base REAL NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN rate_from_s REAL NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN launcher_pid INTEGER;
    ALTER TABLE jobs ADD COLUMN launcher_start INTEGER;
    ALTER TABLE jobs ADD COLUMN outputs TEXT]],
  -- 4: what the budget's ledger reads to settle a reservation whose process died
  -- (vml_budget_reconcile in core/budget.c): whether the job ended (a terminal state, as in
  -- M.TERMINAL below) and its cost in USD, the larger of the final and the accrued cost
  [[CREATE VIEW job_outcomes(id, ended, cost_usd) AS
      SELECT id, state IN ('completed', 'failed', 'terminated'),
             MAX(COALESCE(cost_final, 0), cost_accrued)
      FROM jobs]],
}

M.TERMINAL = { completed = true, failed = true, terminated = true }
M.ACTIVE = { pending = true, launching = true, running = true, recovering = true }
-- allowed moves (terminal states have none)
local NEXT = {
  pending = { launching = true, running = true, failed = true, terminated = true },
  launching = { running = true, recovering = true, completed = true, failed = true,
    terminated = true },
  running = { recovering = true, completed = true, failed = true, terminated = true },
  recovering = { running = true, completed = true, failed = true, terminated = true,
    launching = true },
}

local migrated = setmetatable({}, { __mode = "k" })

function M.db()
  local db = store.db()
  if not migrated[db] then
    check(db:migrate("jobs", M.STEPS))
    migrated[db] = true
  end
  return db
end

function M.now() return vibeml.time() end

function M.event(db, id, kind, data, ts)
  check(db:exec("INSERT INTO job_events(job_id, ts, kind, data) VALUES(?, ?, ?, ?)", id, ts
    or M.now(),
    kind, data and vibeml.json.encode(data) or nil))
end

function M.get(id)
  return check(M.db():first("SELECT * FROM jobs WHERE id = ?", id))
end

-- Applies fields to job id in one transaction; when fields.state moves the job, checks the move,
-- records a "state" event and keeps billing segments straight. Returns the row after the change,
-- and whether the state changed. A move out of a terminal state is ignored (returns row, false).
function M.update(id, fields, note)
  local db = M.db()
  local changed, row
  check(db:tx(function()
    local cur = check(db:first("SELECT * FROM jobs WHERE id = ?", id))
    if not cur then error({ code = E.ENOENT, message = "no job '" .. tostring(id) .. "'" }) end
    local set = {}
    for k, v in pairs(fields) do set[k] = v end
    local now = M.now()
    if set.state and set.state ~= cur.state then
      if M.TERMINAL[cur.state] or not (NEXT[cur.state] or {})[set.state] then
        set.state = nil
      else
        changed = true
        local billed_states = { running = true, recovering = false }
        -- billing: an open segment while running on paid resources
        if billed_states[set.state] and not cur.billing_since then
          set.billing_since = set.billing_since or now
        elseif not billed_states[set.state] and cur.billing_since and set.billing_since == nil then
          -- (a caller that closes the segment itself passes billed_s and billing_since = null)
          set.billed_s = (cur.billed_s or 0) + math.max(0, now - cur.billing_since)
          set.billing_since = vibeml.null
        end
        if set.state == "running" and not cur.started_at then
          set.started_at = set.started_at or now
        end
        if M.TERMINAL[set.state] then set.ended_at = set.ended_at or now end
      end
    elseif set.state then
      set.state = nil
    end
    set.updated_at = now
    local cols, vals = {}, {}
    for k, v in pairs(set) do
      if not k:match("^[%a_][%w_]*$") then error("bad column " .. k) end
      cols[#cols + 1] = k .. " = ?"
      if type(v) == "table" and v ~= vibeml.null then v = vibeml.json.encode(v) end
      vals[#vals + 1] = v
    end
    vals[#vals + 1] = id
    check(db:exec("UPDATE jobs SET " .. table.concat(cols, ", ") .. " WHERE id = ?",
      table.unpack(vals, 1, #vals)))
    if changed then
      M.event(db, id, "state", { from = cur.state, to = fields.state, note = note,
                                 backend_status = fields.backend_status })
    end
    row = check(db:first("SELECT * FROM jobs WHERE id = ?", id))
  end))
  return row, changed
end

-- Billed seconds so far (closed segments plus the open one).
function M.billed_seconds(row, now)
  local s = row.billed_s or 0
  if row.billing_since then s = s + math.max(0, (now or M.now()) - row.billing_since) end
  return s
end

-- Cost so far: what was billed before the last rate change, plus the time since at the
-- current rate (USD per node-hour × nodes).
function M.cost_of(row, now)
  local s = math.max(0, M.billed_seconds(row, now) - (row.rate_from_s or 0))
  return (row.cost_base or 0) + s / 3600 * (row.rate_hr or 0) * (row.nodes or 1)
end

-- The fields that move job row to a new rate from now on (the cost so far is kept).
function M.rerate(row, rate_hr, nodes, now)
  now = now or M.now()
  return { cost_base = M.cost_of(row, now), rate_from_s = M.billed_seconds(row, now),
           rate_hr = rate_hr, nodes = nodes or row.nodes }
end

local ALPH = "abcdefghijkmnpqrstuvwxyz23456789"
function M.new_id()
  local t = {}
  for i = 1, 6 do
    local k = math.random(1, #ALPH)
    t[i] = ALPH:sub(k, k)
  end
  return "j" .. os.date("!%y%m%d") .. "-" .. table.concat(t)
end

function M.insert(job)
  local db = M.db()
  for _ = 1, 5 do
    job.id = job.id or M.new_id()
    -- an id already taken inserts nothing (ON CONFLICT DO NOTHING): draw another one
    local inserted = check(db:tx(function()
      local n = check(db:exec([[INSERT INTO jobs(id, name, workflow, model, dataset, params,
          backend, mode, state, created_at, updated_at, offer, gpu, gpu_count, cloud, region, spot,
          nodes, rate_hr, estimate, cap_usd, dir)
        VALUES(:id, :name, :workflow, :model, :dataset, :params, :backend, :mode, 'pending',
          :now, :now, :offer, :gpu, :gpu_count, :cloud, :region, :spot, :nodes, :rate_hr,
          :estimate, :cap_usd, :dir)
        ON CONFLICT DO NOTHING]], {
        id = job.id, name = job.name or job.id, workflow = job.workflow, model = job.model,
        dataset = job.dataset, params = job.params, backend = job.backend, mode = job.mode,
        now = M.now(), offer = job.offer, gpu = job.gpu, gpu_count = job.gpu_count,
        cloud = job.cloud, region = job.region, spot = job.spot, nodes = job.nodes or 1,
        rate_hr = job.rate_hr or 0, estimate = job.estimate, cap_usd = job.cap_usd, dir = job.dir,
      }))
      if n == 0 then return false end
      M.event(db, job.id, "state", { to = "pending" })
      return true
    end))
    if inserted then return job.id end
    job.id = nil
  end
  error("could not allocate a job id")
end

function M.job_dir(id)
  local dir = vibeml.fs.paths().state .. "/jobs/" .. id
  vibeml.fs.mkdirs(dir)
  return dir
end

return M

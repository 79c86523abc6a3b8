-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.local — the `local` backend: the job runs on this machine under a detached
-- supervisor (`vibeml supervise JOB_ID`, see cli/supervise.lua) in its own session and process
-- group, so it outlives the server or CLI that started it. The supervisor records everything in
-- the store; this module starts it, checks that it is still alive (pid + start time, so a reused
-- pid is never taken for it), and asks it to stop.
local jdb = require "vibeml.jobs.db"
local E = vibeml.E

local M = { name = "local" }

-- Whether this machine has an NVIDIA GPU (nvidia-smi answers with at least one GPU).
function M.has_gpu()
  if os.getenv("VIBEML_FAKE_GPU") == "1" then return true end
  local r = vibeml.proc.run({ "nvidia-smi", "-L" }, { timeout = 10, grace = 1 })
  return r ~= nil and r.code == 0 and r.stdout:find("GPU %d") ~= nil
end

local function needs_gpu(task, info)
  if info and info.gpu_required ~= nil then return info.gpu_required end
  local res = task.resources or {}
  if res.accelerators then return true end
  for _, r in ipairs(res.ordered or res.any_of or {}) do if r.accelerators then return true end end
  return false
end

function M.where(row)
  return "this machine (local backend, pid " .. tostring(row.pid or "?") .. ")"
end

-- Starts the supervisor for job row (state pending). opts.secrets: SecretEnv for the job.
function M.start(row, task, opts)
  opts = opts or {}
  if needs_gpu(task, opts) and not M.has_gpu() then
    return nil,
      "this workflow needs an NVIDIA GPU and this machine has none (nvidia-smi found no GPU). "
      .. "Run it on a cloud GPU with `--backend skypilot` (launch_training backend=\"skypilot\"), "
      .. "or try the pipeline here with the CPU-only `smoke` workflow.", E.EUNSUPPORTED
  end
  local exe = assert(vibeml.proc.self_exe())
  local p, msg, code = vibeml.proc.spawn({ exe, "supervise", row.id }, {
    detached = true, stdout = { file = row.dir .. "/supervisor.log" },
    stderr = { file = row.dir .. "/supervisor.log" }, secrets = opts.secrets,
    env = { VIBEML_SUPERVISOR = "1" } })
  if not p then return nil, "could not start the job's supervisor: " .. tostring(msg), code end
  local pid = p:pid()
  local start = vibeml.proc.start_time(pid)
  p:release() -- it runs on without us; libuv still reaps it if it ends while we live
  jdb.update(row.id,
    { state = "launching", pid = pid, pid_start = start, backend_id = tostring(pid),
                       mode = "process", attempts = 1 }, "supervisor started")
  return true
end

-- Is the job's supervisor still running?
function M.alive(row)
  return row.pid ~= nil and vibeml.proc.alive(row.pid, row.pid_start or 0)
end

-- A job whose supervisor vanished without recording its end (SIGKILL, OOM killer, the machine
-- restarted): the training group goes down with it (nobody would record its progress or stop
-- it at its cap), and the end the supervisor would have written is written here: the cost so
-- far as the final cost (settled in the ledger), the failure with its fixes, report.json and
-- report.md, and the "failed" notification.
local function finalize_orphan(cur)
  if cur.child_pgid then vibeml.proc.signal(cur.child_pgid, "KILL") end
  local stopping = cur.stop_requested_at ~= nil
  local final = jdb.cost_of(cur)
  local fields = { state = stopping and "terminated" or "failed", cost_accrued = final,
    cost_final = final,
                   child_pgid = vibeml.null }
  if not stopping then
    local okj, jobs = pcall(require, "vibeml.jobs")
    local out = okj and jobs.outputs_of(cur) or nil
    local ck = out and out.last_checkpoint
    fields.failure_category = "supervisor"
    fields.failure_message =
      "supervisor killed: the job's supervisor process ended without recording the "
      .. "job's end (killed, or the machine restarted), so the training was stopped at step "
      .. tostring(cur.step or 0)
        .. (ck and (" (last checkpoint: " .. ck .. ")") or " (no checkpoint was saved)")
    local fixes = {
      { title = ck and "Relaunch it: the run resumes from its last checkpoint" or "Relaunch it",
        tool = "launch_training", arguments = { job_id = cur.id } },
      { title =
        "Read the supervisor's log for why it ended (an out-of-memory kill shows in `dmesg`)",
        command = "vibeml jobs logs " .. cur.id .. " --stream stderr" },
    }
    fields.failure_advice = vibeml.json.encode(vibeml.array(fixes))
    fields.failure_retry = 1
  end
  local _, changed = jdb.update(cur.id, fields, "supervisor gone")
  if not changed then return false end -- another process wrote the end first
  require("vibeml.jobs.report").write(cur.id) -- report.json + report.md, and the notification
  local okm, money = pcall(require, "vibeml.budget")
  if okm and type(money) == "table" and money.settle then pcall(money.settle, cur.id, final) end
  return true
end

-- One pass over the active local jobs: a supervisor that vanished without recording an end
-- (killed, machine rebooted) fails its job (finalize_orphan).
function M.poll(rows)
  local changed = {}
  for _, row in ipairs(rows) do
    if row.pid and not M.alive(row) then
      local cur = jdb.get(row.id) -- it may have just finished and written its end
      if cur and jdb.ACTIVE[cur.state] and not M.alive(cur) and finalize_orphan(cur) then
        changed[#changed + 1] = cur.id
      end
    end
  end
  return changed
end

-- Asks the supervisor to stop the job: it sends SIGTERM to the training group (the script saves
-- a checkpoint), SIGKILL after the grace period, and records `terminated`. With no supervisor
-- left, this process does it.
function M.stop(row, reason, grace)
  jdb.update(row.id, { stop_requested_at = jdb.now(), stop_reason = reason or "user",
                       stop_grace = grace })
  if M.alive(row) then return true end
  local cur = jdb.get(row.id)
  if cur.child_pgid then
    vibeml.proc.signal(cur.child_pgid, "TERM")
    local deadline = vibeml.monotonic() + (grace or 10)
    while vibeml.monotonic() < deadline and vibeml.proc.alive(cur.child_pgid) do
      vibeml.sleep(0.1)
    end
    vibeml.proc.signal(cur.child_pgid, "KILL")
  end
  jdb.update(row.id, { state = "terminated" }, "stopped (no supervisor)")
  return true
end

return M

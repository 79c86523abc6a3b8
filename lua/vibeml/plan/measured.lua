-- vibeml.plan.measured — throughput that finished jobs measured, kept per GPU and workflow, so a
-- later plan for the same GPU, workflow and a similar model size uses what runs really did
-- instead of the throughput model alone (and says so in its assumptions).
--
--   measured.record(row, report) -> true | nil, why   (never raises; why says what was skipped)
--   measured.lookup(gpu, workflow, params_b) -> m | nil
--   measured.factors(workflow, params_b) -> { [gpu] = m }   (one query for every GPU)
--   measured.list() -> { row, ... } newest first (tests, diagnostics)
-- m: { factor = median of measured ÷ modelled tokens/s, runs = N, params_b = {min, max} }
--
-- What is kept is a factor, measured tokens/s ÷ what the model predicted for that same run (its
-- GPU, count, model size, batch and sequence length): tokens/s come from the run's step time and
-- the tokens one step trains (tokens_per_step in the job's estimate), so a later plan with another
-- batch, sequence length or GPU count still benefits. The factor of a GPU is the median of its
-- last LAST_N runs (one outlier does not rule); runs of models within SIZE_RATIO of the planned
-- size count as similar. Only completed GPU runs with enough steps are kept (smoke, CPU and local
-- runs are not: their GPU is unknown or none); a factor outside FACTOR_RANGE is odd data and is
-- dropped. Kept in the state database (component "planner", its own migrations).
local store = require "vibeml.store"

local M = {}

M.LAST_N = 5
M.SIZE_RATIO = 1.5
M.MIN_STEPS = 10
M.FACTOR_RANGE = { 0.2, 5 }

M.STEPS = {
  -- 1: one row per finished job (a report written twice replaces its row)
  [[CREATE TABLE plan_measured(
      job_id TEXT PRIMARY KEY,
      at REAL NOT NULL,               -- when the job ended
      workflow TEXT NOT NULL, method TEXT,
      gpu TEXT NOT NULL, gpu_count INTEGER NOT NULL, nodes INTEGER NOT NULL,
      params_b REAL NOT NULL,
      tokens_per_step REAL NOT NULL,  -- tokens one optimizer step trains (all GPUs)
      step_s REAL NOT NULL,           -- measured seconds per step
      tokens_per_s REAL NOT NULL,     -- tokens_per_step / step_s
      model_tokens_per_s REAL NOT NULL, -- what the throughput model predicted for this run
      factor REAL NOT NULL            -- tokens_per_s / model_tokens_per_s
    );
    CREATE INDEX plan_measured_wf ON plan_measured(workflow, params_b)]],
}

local migrated = setmetatable({}, { __mode = "k" })

local function db()
  local d = store.db()
  if not migrated[d] then
    d:migrate("planner", M.STEPS)
    migrated[d] = true
  end
  return d
end

local function finite(x) return type(x) == "number" and x == x and x > 0 and x < math.huge end

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  local ok, v = pcall(vibeml.json.decode, s)
  return ok and type(v) == "table" and v or nil
end

-- The model's tokens/s for the run as it ran: the plan's figure when the job ran the planned GPU
-- and count, else the model again for the candidate SkyPilot actually ran.
local function modelled(row, est)
  if row.gpu == est.gpu and tonumber(row.gpu_count) == tonumber(est.count) then
    return tonumber(est.model_tokens_per_s), tonumber(est.count), tonumber(est.tokens_per_step)
  end
  local gpus, sizing = require "vibeml.gpus", require "vibeml.sizing"
  local spec = gpus.get(row.gpu)
  local okw, wf = pcall(require("vibeml.workflows").get, row.workflow)
  if not spec or not okw or type(wf) ~= "table" or not finite(tonumber(est.count)) then
    return nil
  end
  local nodes = math.max(1, tonumber(row.nodes) or 1)
  -- a candidate's count is per node; the row's nodes are the plan's
  local n = (tonumber(row.gpu_count) or 1) * nodes
  local ok, tps = pcall(sizing.throughput, est.method, est.params_b, spec, n,
    { nodes = nodes, interconnect = spec.link, throughput = wf.throughput })
  if not ok then return nil end
  -- the global batch grows with the GPUs: per_device × grad_accum × n
  return tps, n, tonumber(est.tokens_per_step) and est.tokens_per_step / est.count * n
end

local function record(row, report)
  if type(row) ~= "table" or row.state ~= "completed" then return nil, "not a completed job" end
  if not row.gpu then return nil, "no GPU recorded (a local or CPU run)" end
  local est = decode(row.estimate)
  if not est or not finite(tonumber(est.params_b)) or not finite(tonumber(est.tokens_per_step))
     or type(est.method) ~= "string" then
    return nil, "the job's estimate has no throughput facts (planned before they were kept)"
  end
  local t = type(report) == "table" and report.training or {}
  local step_s = tonumber(t.measured_step_s)
  if not finite(step_s) then return nil, "no measured step time" end
  if (tonumber(t.steps) or 0) < M.MIN_STEPS then return nil, "too few steps to measure" end
  local model_tps, n, per_step = modelled(row, est)
  if not finite(model_tps) or not finite(per_step) then
    return nil, "no modelled throughput for " .. row.gpu
  end
  local tps = per_step / step_s
  local factor = tps / model_tps
  if not finite(factor) or factor < M.FACTOR_RANGE[1] or factor > M.FACTOR_RANGE[2] then
    return nil, string.format("measured %.0f tokens/s against a model of %.0f: odd data, not kept",
      tps, model_tps)
  end
  db():exec([[INSERT OR REPLACE INTO plan_measured(job_id, at, workflow, method, gpu, gpu_count,
      nodes, params_b, tokens_per_step, step_s, tokens_per_s, model_tokens_per_s, factor)
    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], row.id, row.ended_at or vibeml.time(),
    row.workflow or est.workflow, est.method, row.gpu, n, math.max(1, tonumber(row.nodes) or 1),
    est.params_b, per_step, step_s, tps, model_tps, factor)
  return true
end

function M.record(row, report)
  local ok, r, why = pcall(record, row, report)
  if ok then return r, why end
  local msg = type(r) == "table" and r.message or tostring(r)
  vibeml.log("warning", "throughput of job %s not kept: %s",
    tostring(type(row) == "table" and row.id), msg)
  return nil, msg
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  if n % 2 == 1 then return xs[(n + 1) // 2] end
  return (xs[n // 2] + xs[n // 2 + 1]) / 2
end

local function factors(workflow, params_b, gpu)
  local lo, hi = params_b / M.SIZE_RATIO, params_b * M.SIZE_RATIO
  local sql = "SELECT gpu, params_b, factor FROM plan_measured "
    .. "WHERE workflow = ? AND params_b BETWEEN ? AND ?"
    .. (gpu and " AND gpu = ?" or "") .. " ORDER BY at DESC, job_id"
  local rows
  if gpu then rows = db():query(sql, workflow, lo, hi, gpu)
  else rows = db():query(sql, workflow, lo, hi) end
  local by = {}
  for _, r in ipairs(rows) do
    local g = by[r.gpu]
    if not g then g = { xs = {}, min = r.params_b, max = r.params_b }; by[r.gpu] = g end
    if #g.xs < M.LAST_N and finite(r.factor) then
      g.xs[#g.xs + 1] = r.factor
      g.min, g.max = math.min(g.min, r.params_b), math.max(g.max, r.params_b)
    end
  end
  local out = {}
  for name, g in pairs(by) do
    if #g.xs > 0 then
      out[name] = { factor = median(g.xs), runs = #g.xs, params_b = { g.min, g.max } }
    end
  end
  return out
end

-- A plan must not fail because the state database cannot be read: no measurements then.
function M.factors(workflow, params_b)
  if type(workflow) ~= "string" or not finite(params_b) then return {} end
  local ok, out = pcall(factors, workflow, params_b)
  if ok then return out end
  vibeml.log("debug", "measured throughput not read: %s",
    tostring(type(out) == "table" and out.message or out))
  return {}
end

function M.lookup(gpu, workflow, params_b)
  if type(gpu) ~= "string" or type(workflow) ~= "string" or not finite(params_b) then return nil end
  local ok, out = pcall(factors, workflow, params_b, gpu)
  return ok and out[gpu] or nil
end

function M.list()
  return db():query("SELECT * FROM plan_measured ORDER BY at DESC, job_id")
end

return M

-- get_job_status — one job: state, where it runs, progress (step/total, loss, tokens/s, ETA),
-- cost so far and cap, outputs, and for a failure its category, plain message and fixes (each a
-- tool call or a command the assistant can apply in one step). wait_s (<= 60) answers when the
-- job changes state or makes progress, or at the timeout, with progress notifications meanwhile
-- (they keep a client's request timeout from firing); it sleeps on the event loop, so other
-- requests go on. For clients that render MCP Apps (SEP-1865) the tool links the job dashboard
-- (ui://vibeml/job-dashboard, vibeml.ui.dashboard) and its result carries `history`, the loss and
-- throughput series the view draws (at most 200 points each); other clients get neither.
local dashboard = require "vibeml.ui.dashboard"
local jobs = require "vibeml.jobs"
local jdb = require "vibeml.jobs.db"
local kit = require "vibeml.mcp.toolkit"

local M = {
  name = "get_job_status",
  title = "Get a job's status",
  description = "A job's state, where it runs, progress, cost and cap, outputs; for a failure its "
    .. "cause and fixes (tool calls). wait_s: answer when the job changes (at most that long).",
  inputSchema = {
    type = "object",
    properties = { job_id = { type = "string", minLength = 1 },
                   wait_s = { type = "number", minimum = 0, maximum = 60 } },
    required = { "job_id" },
    additionalProperties = false,
  },
  outputSchema = kit.out({ id = "string", state = "string", backend = "string", where = "string",
    progress = "object", cost = "object", failure = "object", outputs = "object" },
    { "id", "state", "backend", "where" }),
  annotations = kit.READ,
  _meta = { ui = { resourceUri = dashboard.URI } },
}

local TICK = 0.25

-- Sleeps until the job's state or step changes, the deadline or a cancel.
local function wait_change(id, wait_s, ctx)
  local row = jdb.get(id)
  if not row or jdb.TERMINAL[row.state] then return end
  local state0, step0 = row.state, row.step
  local t0 = vibeml.monotonic()
  local next_note = 0
  while true do
    local waited = vibeml.monotonic() - t0
    if waited >= wait_s or (ctx and ctx.cancelled) then return end
    if ctx and ctx.progress and waited >= next_note then
      ctx:progress(math.floor(waited), wait_s, "waiting: job " .. id .. " is " .. row.state)
      next_note = next_note + 5
    end
    vibeml.sleep(TICK)
    pcall(jobs.refresh, id)
    row = jdb.get(id)
    if not row or row.state ~= state0 or row.step ~= step0 then return end
  end
end

function M.handler(args, ctx)
  if not jdb.get(args.job_id) then
    return nil, "no job '" .. args.job_id .. "' (list_jobs shows the job ids)"
  end
  if args.wait_s and args.wait_s > 0 then wait_change(args.job_id, args.wait_s, ctx) end
  local ok, err = pcall(jobs.refresh, args.job_id)
  if not ok then
    vibeml.log("warning", "refreshing %s: %s", args.job_id,
      tostring(type(err) == "table" and err.message or err))
  end
  local st, msg = jobs.status(args.job_id)
  if not st then return nil, msg end
  if ctx and ctx.supports and ctx:supports("extensions/io.modelcontextprotocol/ui") then
    st.history = dashboard.history(st.id)
  end
  local p = st.progress or {}
  local text = string.format("Job %s is %s on %s.", st.id, st.state, st.where)
  if p.step then
    text = text .. string.format(" Step %s/%s%s%s%s.", p.step, p.total_steps or "?",
      p.loss and string.format(", loss %.4g", p.loss) or "",
      p.tokens_per_s and string.format(", %.0f tokens/s", p.tokens_per_s) or "",
      p.eta_s and string.format(", about %d min left", math.ceil(p.eta_s / 60)) or "")
  end
  text = text .. string.format(" Cost so far $%.2f%s.", st.cost.final or st.cost.accrued or 0,
    st.cost.cap and string.format(" (cap $%.2f)", st.cost.cap) or "")
  if st.failure then
    text = text .. " Failed (" .. st.failure.category .. "): " .. tostring(st.failure.message)
    for i, f in ipairs(st.failure.fixes or {}) do
      text = text .. string.format("\n  fix %d: %s", i, f.title or "")
    end
  end
  local o = st.outputs
  if o then
    if o.saved then text = text .. " Output: " .. tostring(o.output) .. "."
    elseif o.last_checkpoint then text = text .. " Last checkpoint: " .. tostring(o.last_checkpoint)
      .. "." end
    if o.hub_repo then text = text .. " Hub repo: " .. o.hub_repo .. "." end
    if o.fetch and (o.saved or o.last_checkpoint) then text = text .. " Fetch: " .. o.fetch end
  end
  return st, text
end

function M.next(st)
  if jdb.ACTIVE[st.state] then
    return { kit.call("get_job_status", { job_id = st.id, wait_s = 60 }),
             kit.call("get_job_logs", { job_id = st.id, tail = 50 }),
             kit.call("terminate_job", { job_id = st.id }) }
  end
  local out = {}
  if st.failure then
    for _, f in ipairs(st.failure.fixes or {}) do
      if type(f) == "table" and type(f.tool) == "string" then
        out[#out + 1] = { tool = f.tool, arguments = f.arguments }
      end
    end
    out[#out + 1] = kit.call("get_job_logs", { job_id = st.id, stream = "stderr", tail = 50 })
  end
  return out
end

return M

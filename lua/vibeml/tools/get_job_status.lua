-- get_job_status — one job: state, where it runs, progress (step/total, loss, tokens/s, ETA),
-- cost so far and cap, and for a failure its category, plain message and fixes (each a tool call
-- or a command the assistant can apply in one step).
local jobs = require "vibeml.jobs"

return {
  name = "get_job_status",
  title = "Get a job's status",
  description = "State (pending, launching, running, recovering, completed, failed, terminated), "
    .. "where it runs, progress (step/total, percent, loss, learning rate, tokens/s, ETA), cost so "
    .. "far, cap and final cost, attempts and spot recoveries, and when it failed: the category "
    .. "(capacity, quota, credentials, cloud_not_enabled, invalid_resource, preempted, user_code, "
    .. "setup, not_found, api_server), a plain explanation, whether retrying can help, and fixes "
    .. "— each a tool call (usually launch_training with job_id and the change) or a command for "
    .. "the person.",
  inputSchema = {
    type = "object",
    properties = { job_id = { type = "string", minLength = 1 } },
    required = { "job_id" },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = { id = { type = "string" }, state = { type = "string" }, backend = { type = "string" },
                   where = { type = "string" }, progress = { type = "object" }, cost = { type = "object" } },
    required = { "id", "state", "backend", "where" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true, openWorldHint = true },
  handler = function(args, ctx)
    local ok, err = pcall(jobs.refresh, args.job_id)
    if not ok then vibeml.log("warning", "refreshing %s: %s", args.job_id, tostring(type(err) == "table" and err.message or err)) end
    local st, msg = jobs.status(args.job_id)
    if not st then return nil, msg end
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
      for i, f in ipairs(st.failure.fixes or {}) do text = text .. string.format("\n  fix %d: %s", i, f.title or "") end
    end
    local o = st.outputs
    if o then
      if o.saved then text = text .. " Output: " .. tostring(o.output) .. "."
      elseif o.last_checkpoint then text = text .. " Last checkpoint: " .. tostring(o.last_checkpoint) .. "." end
      if o.hub_repo then text = text .. " Hub repo: " .. o.hub_repo .. "." end
      if o.fetch and (o.saved or o.last_checkpoint) then text = text .. " Fetch: " .. o.fetch end
    end
    return st, text
  end,
}

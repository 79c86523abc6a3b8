-- terminate_job — graceful stop: the training gets SIGTERM (it saves a checkpoint), SIGKILL after
-- the grace period (local) or a SkyPilot cancel/tear-down; answers with the final state and cost.
local kit = require "vibeml.mcp.toolkit"
local jobs = require "vibeml.jobs"

return {
  name = "terminate_job",
  title = "Stop a job",
  description =
    "Stops a job gracefully (it saves a checkpoint; killed after grace s) and returns its "
    .. "final state and cost. A job that already ended is left as is.",
  inputSchema = {
    type = "object",
    properties = {
      job_id = { type = "string", minLength = 1 },
      grace = { type = "number", minimum = 0, maximum = 600, default = 30 },
    },
    required = { "job_id" },
    additionalProperties = false,
  },
  outputSchema = kit.out({ id = "string", state = "string", cost = "object" }, { "id", "state" }),
  annotations = { idempotentHint = true },
  next = function(st)
    return { kit.call("get_job_logs", { job_id = st.id, tail = 20 }) }
  end,
  handler = function(args, ctx)
    if ctx and ctx.progress then ctx:progress(0, 1, "stopping " .. args.job_id) end
    local st, msg = jobs.stop(args.job_id, { reason = "user", grace = args.grace or 30 })
    if not st then return nil, msg end
    if ctx and ctx.progress then ctx:progress(1, 1, st.state) end
    return st, string.format("Job %s is %s (%s). Final cost $%.2f.", st.id, st.state, st.where,
      st.cost.final or st.cost.accrued or 0)
  end,
}

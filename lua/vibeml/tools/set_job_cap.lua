-- set_job_cap — a running job's new cost cap (the dashboard's Raise-cap button calls it). A raise
-- is reserved in the budget first; over the month's budget or the per-job cap the person is asked
-- through elicitation (as at launch), else it is refused with the numbers and the command that
-- raises the budget. Lowering is allowed down to the cost so far. The new cap is the one the
-- job is stopped at, and the re-quote compares against it.
local kit = require "vibeml.mcp.toolkit"
local jobs = require "vibeml.jobs"

return {
  name = "set_job_cap",
  title = "Set a job's cap",
  description = "Raises or lowers a running job's cost cap; a raise is reserved in the budget.",
  inputSchema = {
    type = "object",
    properties = {
      job_id = { type = "string", minLength = 1 },
      max_cost = { type = "number", exclusiveMinimum = 0 },
    },
    required = { "job_id", "max_cost" },
    additionalProperties = false,
  },
  -- kept short: tools/list stays under 12,000 characters (tests/integration/assistant_mcp.test.mjs)
  outputSchema = kit.out({ id = "string", state = "string", cost = "object" }),
  next = function(st)
    return { kit.call("get_job_status", { job_id = st.id }) }
  end,
  handler = function(args, ctx)
    local st, msg = jobs.set_cap(args.job_id, args.max_cost, { ctx = ctx, by = "an MCP client" })
    if not st then return nil, msg end
    return st, string.format("Job %s (%s): cap is now $%.2f; cost so far $%.2f.", st.id, st.state,
      st.cost.cap or args.max_cost, st.cost.accrued or 0)
  end,
}

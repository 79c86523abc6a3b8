-- list_jobs — jobs with filters and pagination, newest first.
local kit = require "vibeml.mcp.toolkit"
local jobs = require "vibeml.jobs"

return {
  name = "list_jobs",
  title = "List jobs",
  description =
    "Jobs, newest first, with state, where, progress and cost; filter by state (active = "
    .. "not ended) and backend.",
  inputSchema = {
    type = "object",
    properties = {
      state = { type = "string", enum = { "active", "pending", "launching", "running", "recovering",
                                          "completed", "failed", "terminated" } },
      backend = { type = "string", enum = { "local", "skypilot" } },
      limit = { type = "integer", minimum = 1, maximum = 200, default = 20 },
      offset = { type = "integer", minimum = 0, default = 0 },
    },
    additionalProperties = false,
  },
  outputSchema = kit.out({ jobs = "array", total = "integer" }, { "jobs", "total" }),
  annotations = kit.READ_LOCAL,
  next = function(r)
    for _, j in ipairs(r.jobs or {}) do
      if j.state ~= "completed" and j.state ~= "failed" and j.state ~= "terminated" then
        return { kit.call("get_job_status", { job_id = j.id, wait_s = 30 }) }
      end
    end
    return {}
  end,
  handler = function(args, ctx)
    pcall(jobs.poll)
    local limit, offset = args.limit or 20, args.offset or 0
    local list, total =
      jobs.list({ state = args.state, backend = args.backend, limit = limit, offset = offset })
    local lines =
      { string.format("%d job(s)%s; showing %d from %d.", total, args.state and (" " .. args.state)
      or "", #list, offset) }
    for _, j in ipairs(list) do
      lines[#lines + 1] = string.format("%s  %-10s %s  %s  $%.2f", j.id, j.state, j.workflow or "-",
        j.where,
        j.cost.final or j.cost.accrued or 0)
    end
    return { jobs = list, total = total, limit = limit, offset = offset }, table.concat(lines, "\n")
  end,
}

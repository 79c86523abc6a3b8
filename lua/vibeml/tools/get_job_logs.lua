-- get_job_logs — a job's stdout, stderr or event trail; the last N lines or everything after a
-- cursor (pass back the cursor of the previous answer to read only what is new). Secrets are
-- redacted.
local jobs = require "vibeml.jobs"

return {
  name = "get_job_logs",
  title = "Get a job's logs",
  description = "Lines of a job's stdout (training output, progress), stderr (errors, tracebacks) "
    .. "or events (state changes, progress samples, checkpoints, attempts, recoveries, as JSON "
    .. "lines). tail = the last N lines; since = the cursor from a previous call to get only new "
    .. "lines. SkyPilot logs are fetched into VibeML's archive first, so they outlive the cluster. "
    .. "Secret values are redacted.",
  inputSchema = {
    type = "object",
    properties = {
      job_id = { type = "string", minLength = 1 },
      stream = { type = "string", enum = { "stdout", "stderr", "events" }, default = "stdout" },
      tail = { type = "integer", minimum = 1, maximum = 5000, default = 100 },
      since = { type = "integer", minimum = 0, description = "cursor from a previous answer" },
    },
    required = { "job_id" },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = { job_id = { type = "string" }, stream = { type = "string" },
                   lines = { type = "array", items = { type = "string" } }, cursor = { type = "integer" },
                   state = { type = "string" } },
    required = { "job_id", "stream", "lines", "cursor" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true, openWorldHint = true },
  handler = function(args, ctx)
    local tail = args.tail
    if args.since == nil and tail == nil then tail = 100 end
    local r, msg = jobs.logs(args.job_id, { stream = args.stream or "stdout", tail = tail, since = args.since })
    if not r then return nil, msg end
    r.cursor = math.tointeger(r.cursor) or 0
    return r, table.concat(r.lines, "\n")
  end,
}

-- get_job_logs — a job's stdout, stderr or event trail; the last N lines or everything after a
-- cursor (pass back the cursor of the previous answer to read only what is new). Secrets are
-- redacted.
local kit = require "vibeml.mcp.toolkit"
local jobs = require "vibeml.jobs"

return {
  name = "get_job_logs",
  title = "Get a job's logs",
  description =
    "A job's stdout, stderr or events (JSON lines), secrets redacted: the last tail lines, "
    .. "or what follows the cursor since.",
  inputSchema = {
    type = "object",
    properties = {
      job_id = { type = "string", minLength = 1 },
      stream = { type = "string", enum = { "stdout", "stderr", "events" }, default = "stdout" },
      tail = { type = "integer", minimum = 1, maximum = 5000, default = 100 },
      since = { type = "integer", minimum = 0 },
    },
    required = { "job_id" },
    additionalProperties = false,
  },
  outputSchema =
    kit.out({ job_id = "string", lines = "array", cursor = "integer", state = "string" },
    { "job_id", "lines", "cursor" }),
  annotations = kit.READ,
  next = function(r)
    if r.state == "completed" or r.state == "failed" or r.state == "terminated" then return {} end
    return { kit.call("get_job_logs", { job_id = r.job_id, since = r.cursor }) }
  end,
  handler = function(args, ctx)
    local tail = args.tail
    if args.since == nil and tail == nil then tail = 100 end
    local r, msg = jobs.logs(args.job_id,
      { stream = args.stream or "stdout", tail = tail, since = args.since })
    if not r then return nil, msg end
    r.cursor = math.tointeger(r.cursor) or 0
    return r, table.concat(r.lines, "\n")
  end,
}

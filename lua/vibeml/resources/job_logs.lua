-- vibeml://jobs/{id}/logs — the last 200 lines of a job's output (stdout, with stderr after it),
-- secrets redacted.
local jobs = require "vibeml.jobs"
local E = vibeml.E

return {
  uriTemplate = "vibeml://jobs/{id}/logs",
  name = "job_logs",
  title = "Training job logs",
  description = "The last lines of a job's stdout and stderr (redacted).",
  mimeType = "text/plain",
  read = function(uri, params)
    local id = params and params.id or uri:match("^vibeml://jobs/([^/]+)/logs$")
    local out, msg, code = jobs.logs(id, { stream = "stdout", tail = 200 })
    if not out then
      error({ code = code or E.EIO,
        message = tostring(msg):gsub("`vibeml jobs list`", "list_jobs or resources/list") }, 0)
    end
    local err = jobs.logs(id, { stream = "stderr", tail = 50, pull = false }) or { lines = {} }
    local text = table.concat(out.lines, "\n")
    if #err.lines > 0 then text = text .. "\n--- stderr ---\n" .. table.concat(err.lines, "\n") end
    return text
  end,
}

-- vibeml://jobs/{id}/report — a finished job's report (JSON): outcome, cost per attempt,
-- recoveries, measured vs planned duration and cost, losses, watchdog events, outputs. Written
-- when the job ends (vibeml.jobs.report); for a job still running, built from what is known now.
local report = require "vibeml.jobs.report"
local E = vibeml.E

return {
  uriTemplate = "vibeml://jobs/{id}/report",
  name = "job_report",
  title = "Training job report",
  description =
    "A job's end-of-job report: outcome, cost, measured vs planned, losses, watchdog events, " ..
    "outputs.",
  mimeType = "application/json",
  read = function(uri, params)
    local id = params and params.id or uri:match("^vibeml://jobs/([^/]+)/report$")
    local text, msg = report.read(id)
    if not text then error({ code = E.ENOENT, message = msg }, 0) end
    return text
  end,
}

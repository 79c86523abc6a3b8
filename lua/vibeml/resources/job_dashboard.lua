-- ui://vibeml/job-dashboard — the job dashboard view (MCP Apps, SEP-1865): one HTML document
-- with its CSS and script inline and an SVG chart, nothing fetched from anywhere. get_job_status
-- links it (_meta.ui.resourceUri) for clients that declare the extension; the view gets the
-- job's status from the host (the tool result) and calls get_job_status / terminate_job /
-- set_job_cap through the host. See vibeml.ui.dashboard.
local dashboard = require "vibeml.ui.dashboard"

return {
  uri = dashboard.URI,
  name = "job_dashboard",
  title = "Training job dashboard",
  description = "Interactive view of one job (loss curve, throughput, progress, cost against "
    .. "plan and cap, recoveries, Stop, Raise cap) for clients that render MCP Apps.",
  mimeType = dashboard.MIME,
  _meta = dashboard.META,
  read = function() return dashboard.html() end,
}

-- vibeml://jobs/{id} — one job's state, where it runs, progress and cost (JSON). Changes are
-- announced with resource_updated by vibeml.jobs (the poll service picks up what other processes,
-- such as a local job's supervisor, wrote).
local jobs = require "vibeml.jobs"
local E = vibeml.E

return {
  uriTemplate = "vibeml://jobs/{id}",
  name = "job",
  title = "Training job",
  description = "State, where it runs, progress (step, loss, tokens/s, ETA), cost and failure "
    .. "advice of one job, as JSON.",
  mimeType = "application/json",
  read = function(uri, params)
    local id = params and params.id or uri:match("^vibeml://jobs/([^/]+)$")
    local st, msg, code = jobs.status(id)
    if not st then
      error({ code = code or E.EIO,
        message = tostring(msg):gsub("`vibeml jobs list`", "list_jobs or resources/list") }, 0)
    end
    return vibeml.json.encode(st, { sort_keys = true })
  end,
}

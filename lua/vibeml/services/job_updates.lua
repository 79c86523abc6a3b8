-- Job updates for every server state, HTTP sessions included: the poller (services/jobs.lua)
-- runs once per process, in a state no HTTP client talks to, so each session looks at the
-- store itself (one indexed query per interval, no backend call) and announces the jobs that
-- changed: a client subscribed to vibeml://jobs/<id> hears of it on its standing GET stream
-- while no request is open. Under stdio the poller's own announcements share the same record of
-- what was seen, so nothing is announced twice.
local jobs = require "vibeml.jobs"

return {
  per_session = true,
  start = function()
    while true do
      local ok, err = pcall(jobs.announce_changes)
      if not ok then
        vibeml.log("warning", "job updates: %s",
          tostring(type(err) == "table" and err.message or err))
      end
      vibeml.sleep(math.max(math.min(jobs.POLL_INTERVAL, 1), 0.2))
    end
  end,
}

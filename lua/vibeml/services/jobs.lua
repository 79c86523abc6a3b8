-- The jobs service of `vibeml serve`: one poll loop per process. Every interval it reads the
-- state of ALL active jobs in one batch per backend (one `sky jobs queue -o json` for every
-- SkyPilot job; liveness checks for local supervisors) and announces what changed — including
-- changes written by other processes (a local job's supervisor, a CLI) — as job_changed and
-- resource_updated events. Jobs started by an earlier server are picked up from the store.
local jobs = require "vibeml.jobs"

return {
  start = function()
    while true do
      local ok, err = pcall(jobs.poll, { force = true })
      if not ok then
        vibeml.log("warning", "job poll: %s", tostring(type(err) == "table" and err.message or err))
      end
      -- a floor: VIBEML_POLL_INTERVAL=0 must not spin
      vibeml.sleep(math.max(jobs.POLL_INTERVAL, 0.2))
    end
  end,
}

-- `jobs logs` reads regular files only (issue 16, Low): a job's stdout.log replaced by a
-- symlink (to a file outside the job) or by a FIFO is neither followed nor blocks the reader.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"

T.case("a symlinked or FIFO log is refused without blocking", function()
  local job = assert(jobs.launch({ task = { name = "logs", envs = { VIBEML_PARAMS = "{}" },
    run = "echo visible-line" } }, { backend = "local" }))
  local st = assert(jobs.wait(job.id, { timeout = 60, interval = 0.1 }))
  T.eq(st.state, "completed")
  local r = assert(jobs.logs(job.id, {}))
  T.ok(table.concat(r.lines, "\n"):find("visible-line", 1, true), "the real log reads")
  local log = st.log_dir .. "/stdout.log"
  local secret = vibeml.fs.paths().state .. "/outside.txt"
  assert(vibeml.fs.write(secret, "outside-the-job\n"))
  assert(vibeml.fs.remove(log))
  T.eq(vibeml.proc.run({ "ln", "-s", secret, log }).code, 0)
  r = assert(jobs.logs(job.id, {}))
  T.ok(not table.concat(r.lines, "\n"):find("outside-the-job", 1, true),
    "the symlink was not followed")
  assert(vibeml.fs.remove(log))
  T.eq(vibeml.proc.run({ "mkfifo", log }).code, 0)
  r = assert(jobs.logs(job.id, {}))
  T.eq(#r.lines, 0)
end)

return T.run()

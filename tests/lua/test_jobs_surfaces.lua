-- The jobs surfaces with the real smoke workflow on the local backend: the MCP tools (handlers
-- called directly with a fake ctx), the vibeml://jobs resources, the Lua API (vibeml.launch,
-- vibeml.job, vibeml.jobs, job:wait/logs/stop) and the CLI.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"

local function ctx()
  local c = { progress_calls = {} }
  function c:progress(done, total, msg)
    self.progress_calls[#self.progress_calls + 1] = { done, total, msg }
  end
  function c:log() end
  function c:supports() return false end
  return c
end

local function tool(name) return require("vibeml.tools." .. name) end

T.case("launch_training returns the handle at once; status, list, logs, terminate", function()
  local c = ctx()
  local t0 = vibeml.monotonic()
  local st, text =
    tool("launch_training").handler({ model = "test/tiny-0.1B", dataset = "test/text",
    workflow = "smoke", backend = "local", offline = true,
    hyperparameters = { max_steps = 400, step_delay_s = 0.02, save_steps = 20 } }, c)
  local dt = vibeml.monotonic() - t0
  T.ok(st, tostring(text))
  print(string.format("bench: launch_training -> handle %.3f s (local)", dt))
  T.ok(st.state == "launching" or st.state == "running", st.state)
  T.eq(st.backend, "local"); T.contains(st.where, "this machine"); T.contains(text, st.id)
  T.ok(#c.progress_calls >= 3, "progress notifications while launching")
  -- running with progress and loss
  local s
  for _ = 1, 200 do
    s = tool("get_job_status").handler({ job_id = st.id }, ctx())
    if s.state == "running" and s.progress.step and s.progress.loss then break end
    vibeml.sleep(0.05)
  end
  T.eq(s.state, "running"); T.ok(s.progress.loss ~= nil, "loss")
  local l = tool("list_jobs").handler({ state = "active" }, ctx())
  T.eq(l.total, 1); T.eq(l.jobs[1].id, st.id)
  local lg = tool("get_job_logs").handler({ job_id = st.id, stream = "stdout", tail = 5 }, ctx())
  T.ok(#lg.lines >= 1, "log lines"); T.ok(lg.cursor > 0, "cursor")
  -- resources
  local R = require "vibeml.resources.job"
  local doc = vibeml.json.decode(R.read("vibeml://jobs/" .. st.id, { id = st.id }))
  T.eq(doc.id, st.id)
  local RL = require "vibeml.resources.job_logs"
  T.contains(RL.read("vibeml://jobs/" .. st.id .. "/logs", { id = st.id }), "@@VIBEML")
  -- stop mid-run: the smoke script checkpoints on SIGTERM
  for _ = 1, 200 do
    if (jobs.status(st.id).progress.step or 0) >= 30 then break end
    vibeml.sleep(0.05)
  end
  local fin, ftext = tool("terminate_job").handler({ job_id = st.id, grace = 10 }, ctx())
  T.eq(fin.state, "terminated"); T.contains(ftext, "Final cost")
  local ck = vibeml.fs.list(fin.log_dir .. "/checkpoints")
  T.ok(#ck >= 1, "checkpoint written")
  local evs = tool("get_job_logs").handler({ job_id = st.id, stream = "events", tail = 500 }, ctx())
  local joined = table.concat(evs.lines, "\n")
  T.contains(joined, '"event":"checkpoint"')
  T.contains(joined, '"to":"terminated"')
end)

T.case("Lua API: vibeml.launch(plan) -> job:wait -> completed; vibeml.job, vibeml.jobs, job:logs",
  function()
  local job =
    assert(vibeml.launch({ model = "test/tiny-0.1B", dataset = "test/text", workflow = "smoke",
    offline = true, hyperparameters = { max_steps = 30 } }, { backend = "local" }))
  local st = assert(job:wait{ timeout = 120 })
  T.eq(st.state, "completed"); T.eq(st.progress.step, 30); T.ok(st.progress.loss > 0, "loss")
  T.ok(st.cost.final ~= nil, "final cost recorded")
  T.eq(vibeml.job(job.id):status().state, "completed")
  local list = vibeml.jobs({ state = "completed" })
  T.ok(#list >= 1, "listed")
  local n = 0
  for line in job:logs{ tail = 3 } do n = n + 1; T.ok(type(line) == "string") end
  T.eq(n, 3)
end)

T.case("CLI: vibeml jobs list/show/logs/stop with --json", function()
  local exe = vibeml.proc.self_exe()
  local r = vibeml.proc.run({ exe, "jobs", "list", "--json" })
  T.eq(r.code, 0)
  local doc = vibeml.json.decode(r.stdout)
  T.ok(doc.total >= 2, "jobs listed")
  local id = doc.jobs[1].id
  r = vibeml.proc.run({ exe, "jobs", "show", id, "--json" })
  T.eq(r.code, 0); T.eq(vibeml.json.decode(r.stdout).id, id)
  r = vibeml.proc.run({ exe, "jobs", "show", id })
  T.contains(r.stdout, "runs on:")
  r = vibeml.proc.run({ exe, "jobs", "logs", id, "--tail", "2" })
  T.eq(r.code, 0); T.contains(r.stdout, "@@VIBEML")
  r = vibeml.proc.run({ exe, "jobs", "show", "nope" })
  T.eq(r.code, 1); T.contains(r.stderr, "no job")
  r = vibeml.proc.run({ exe, "jobs", "frobnicate", "x" })
  T.eq(r.code, 2)
  r =
    vibeml.proc.run({ exe, "launch", "--model", "test/tiny-0.1B", "--dataset", "test/text",
    "--workflow", "smoke",
    "--backend", "local", "--offline", "--param", "max_steps=20", "--json" })
  T.eq(r.code, 0, r.stderr)
  local st = vibeml.json.decode(r.stdout)
  r = vibeml.proc.run({ exe, "jobs", "logs", st.id, "--follow" }, { timeout = 120 })
  T.eq(r.code, 0); T.contains(r.stdout, '"event":"end"')
end)

T.case("GPU workflows refuse on the local backend without a GPU, pointing to skypilot or smoke",
  function()
  local r = vibeml.proc.run({ "nvidia-smi", "-L" })
  if r and r.code == 0 then return end
  local st, msg =
    tool("launch_training").handler({ model = "Qwen/Qwen2.5-0.5B", dataset = "yahma/alpaca-cleaned",
    workflow = "lora", backend = "local", offline = true }, ctx())
  T.eq(st, nil); T.contains(msg, "--backend skypilot"); T.contains(msg, "smoke")
end)

return T.run()

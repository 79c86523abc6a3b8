-- Part of test_cloud_jobs.sh (the VM simulator on PATH as `sky`): a job whose first candidate
-- has no capacity lands on the second one, is billed at THAT candidate's rate, says so, and is
-- stopped when its cost reaches the cap.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"
local wf = require "vibeml.workflows"

local STATE = os.getenv("FAKE_SKY_STATE")
local function set_knob(k, v)
  local st = vibeml.json.decode(vibeml.fs.read(STATE .. "/state.json") or "{}") or {}
  st[k] = v
  assert(vibeml.fs.write(STATE .. "/state.json", vibeml.json.encode(st)))
end

T.case("second candidate: its rate, a note, and the cap enforced against it", function()
  set_knob("preempt", vibeml.object({}))
  set_knob("unavailable", { { infra = "aws" } })
  local cands = {
    { accelerator = "A100", count = 1, cloud = "aws", region = "us-east-1", spot = false, rate_hr = 7200 },
    { accelerator = "L40S", count = 1, cloud = "nebius", region = "eu-north1", spot = false, rate_hr = 3600 },
  }
  local task = assert(wf.build("smoke", { model = "acme/tiny-1B", dataset = "acme/text",
    hyperparameters = { max_steps = 5000, save_steps = 50, step_delay_s = 0.05 } }))
  task.resources.ordered = {
    { infra = "aws/us-east-1", accelerators = "A100:1", use_spot = false },
    { infra = "nebius/eu-north1", accelerators = "L40S:1", use_spot = false },
  }
  local job = assert(jobs.launch({ task = task, workflow = "smoke", model = "acme/tiny-1B",
    dataset = "acme/text", candidates = cands, rate_hr = 7200,
    estimate = { cost = { min = 1, expected = 2, max = 3 } } }, { backend = "skypilot", cap = 2 }))
  local st = assert(jobs.wait(job.id, { timeout = 120, interval = 0.2 }))
  if st.state ~= "terminated" then print(vibeml.json.encode(st)); print(vibeml.fs.read(st.log_dir .. "/stdout.log")) end
  T.eq(st.state, "terminated")
  T.eq(st.stop_reason, "budget")
  T.eq(st.cost.rate_hr, 3600, "billed at the second candidate's rate")
  T.eq(st.offer.gpu == nil or true, true)
  local row = require("vibeml.jobs.db").get(job.id)
  T.eq(row.cloud, "nebius"); T.eq(row.gpu, "L40S")
  T.ok(st.cost.final >= 2, "stopped at the cap, final " .. tostring(st.cost.final))
  T.ok(st.cost.final < 2 + 3600 / 3600 * 30, "not far past it: " .. tostring(st.cost.final))
  local notes = jobs.logs(job.id, { stream = "events" }).lines
  local said = false
  for _, l in ipairs(notes) do
    if l:find("billed at $3600.0000/h instead of $7200.0000/h", 1, true) then said = true end
  end
  T.ok(said, "the change of rate is recorded as an event")
  set_knob("unavailable", {})
end)

return T.run()

-- The local backend end to end with real processes: launch -> running with progress and loss ->
-- completed (logs, events, cost); stop mid-run (checkpoint written, terminated); cost cap stop;
-- failures classified with advice; GPU workflows refused on a machine without a GPU; secrets
-- redacted from the logs; 200 concurrent jobs tracked to the right end.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"

local TRAIN = [[
trap 'echo "step=$i" > "$VIBEML_CHECKPOINT_DIR/checkpoint-$i"; echo "saved checkpoint on SIGTERM"; exit 143' TERM
n=$(printf '%s' "$VIBEML_PARAMS" | sed 's/.*"steps":\([0-9]*\).*/\1/')
for i in $(seq 1 $n); do
  echo "@@VIBEML {\"v\":1,\"event\":\"step\",\"step\":$i,\"total_steps\":$n,\"loss\":$((100-i)).25,\"lr\":0.0002,\"tokens_per_s\":512.5,\"eta_s\":$((n-i))}"
  sleep 0.1
done
echo "@@VIBEML {\"v\":1,\"event\":\"end\",\"status\":\"completed\",\"step\":$n,\"total_steps\":$n,\"train_loss\":1.5}"
]]

local function tiny(steps, extra)
  local t = { name = "tiny", setup = "echo installing", run = TRAIN,
              envs = { VIBEML_PARAMS = vibeml.json.encode({ steps = steps }) } }
  for k, v in pairs(extra or {}) do t[k] = v end
  return { task = t, workflow = "tiny", model = "test/model", dataset = "test/data" }
end

T.case("launch -> running with progress -> completed; logs, events and cost recorded", function()
  local job = assert(jobs.launch(tiny(15), { backend = "local", rate_hr = 36 }))
  T.ok(job.id:match("^j%d+%-"), "job id")
  local st = jobs.status(job.id)
  T.ok(st.state == "launching" or st.state == "running", "launching at once: " .. st.state)
  T.contains(st.where, "this machine")
  -- watch it run
  local saw_running
  for _ = 1, 100 do
    st = jobs.status(job.id)
    if st.state == "running" and st.progress.step then saw_running = st break end
    vibeml.sleep(0.05)
  end
  T.ok(saw_running, "seen running with progress")
  T.ok(saw_running.progress.loss > 80, "loss reported")
  st = assert(job:wait{ timeout = 30 })
  T.eq(st.state, "completed"); T.eq(st.exit_code, 0)
  T.eq(st.progress.step, 15); T.eq(st.progress.total_steps, 15); T.eq(st.progress.percent, 100.0)
  T.eq(st.progress.loss, 1.5)
  T.ok(st.cost.final > 0 and st.cost.final < 0.1, "cost accrued from running time x rate: "
    .. tostring(st.cost.final))
  local lines = {}
  for l in job:logs{ tail = 2 } do lines[#lines + 1] = l end
  T.eq(#lines, 2)
  T.contains(lines[2], '"event":"end"')
  local ev = assert(jobs.logs(job.id, { stream = "events" }))
  local kinds = {}
  for _, l in ipairs(ev.lines) do
    local e = vibeml.json.decode(l)
    kinds[e.kind] = (kinds[e.kind] or 0) + 1
  end
  T.ok(kinds.progress >= 15, "progress events"); T.ok(kinds.state >= 4, "state events");
    T.ok(kinds.phase >= 4, "phase events")
  -- since a cursor: nothing new
  local more = jobs.logs(job.id, { stream = "events", since = ev.cursor })
  T.eq(#more.lines, 0)
  local out = jobs.logs(job.id, { stream = "stdout" })
  T.contains(out.lines[1], "installing")
  local list = jobs.list({ state = "completed" })
  T.eq(list[1].id, job.id)
end)

T.case("stop mid-run: SIGTERM to the group, checkpoint written, terminated", function()
  local job = assert(jobs.launch(tiny(300), { backend = "local", grace = 5 }))
  for _ = 1, 200 do
    local st = jobs.status(job.id)
    if st.progress.step and st.progress.step >= 3 then break end
    vibeml.sleep(0.05)
  end
  local st = assert(job:stop())
  T.eq(st.state, "terminated"); T.eq(st.stop_reason, "user"); T.eq(st.exit_code, 143)
  local ck = vibeml.fs.list(st.log_dir .. "/checkpoints")
  T.eq(#ck, 1); T.contains(ck[1], "checkpoint-")
  T.ok(st.progress.step < 300, "stopped early")
  local out = jobs.logs(job.id, { stream = "stdout", tail = 1 })
  T.contains(out.lines[1], "saved checkpoint")
end)

T.case("a job reaching its cost cap is stopped gracefully (reason budget)", function()
  -- 3600 $/h = 1 $/s; a cap of 0.5 $ stops it after about half a second
  local job =
    assert(jobs.launch(tiny(300), { backend = "local", rate_hr = 3600, cap = 0.5, grace = 5 }))
  local st = assert(job:wait{ timeout = 30 })
  T.eq(st.state, "terminated"); T.eq(st.stop_reason, "budget")
  T.ok(st.cost.final >= 0.5 and st.cost.final < 3, "final cost near the cap: " .. st.cost.final)
end)

T.case("failures carry a category, a plain message and fixes", function()
  local t = tiny(1)
  t.task.run =
    "echo 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB' >&2; exit 1"
  t.hyperparameters = { per_device_batch_size = 8, gradient_accumulation_steps = 2 }
  local job = assert(jobs.launch(t, { backend = "local" }))
  local st = assert(job:wait{ timeout = 30 })
  T.eq(st.state, "failed"); T.eq(st.exit_code, 1)
  T.eq(st.failure.category, "user_code")
  T.contains(st.failure.message, "GPU ran out of memory")
  T.ok(#st.failure.fixes >= 2, "fixes")
  T.contains(st.failure.fixes[1].title, "Halve the batch (8 -> 4)")
  T.eq(st.failure.fixes[1].arguments.hyperparameters.gradient_accumulation_steps, 4)
  -- setup failure
  t = tiny(1); t.task.setup = "echo \"ModuleNotFoundError: No module named 'unsloth'\" >&2; exit 3"
  st = assert(assert(jobs.launch(t, { backend = "local" })):wait{ timeout = 30 })
  T.eq(st.state, "failed"); T.eq(st.failure.category, "setup"); T.eq(st.exit_code, 3)
  T.contains(st.failure.message, "unsloth")
end)

T.case("GPU workflows refuse clearly on a machine without a GPU", function()
  if vibeml.proc.run({ "nvidia-smi", "-L" })
    and vibeml.proc.run({ "nvidia-smi", "-L" }).code == 0 then
    return
  end
  local t = tiny(1); t.task.resources = { accelerators = "A100:1" }
  local job, msg, code = jobs.launch(t, { backend = "local" })
  T.eq(job, nil); T.eq(code, "VML_EUNSUPPORTED")
  T.contains(msg, "--backend skypilot"); T.contains(msg, "smoke")
end)

T.case("user parameters travel only in VIBEML_PARAMS; hostile text is never executed", function()
  local marker = vibeml.fs.paths().state .. "/pwned"
  local t = tiny(1)
  t.task.envs.VIBEML_PARAMS =
    vibeml.json.encode({ steps = 1, model = "x\"; touch " .. marker .. "; echo \"" })
  local st = assert(assert(jobs.launch(t, { backend = "local" })):wait{ timeout = 30 })
  T.eq(st.state, "completed")
  T.eq(vibeml.fs.exists(marker), nil)
end)

T.case("200 concurrent trivial jobs all tracked to the right end state", function()
  local ids, want = {}, {}
  for i = 1, 200 do
    local code = (i % 4 == 0) and 7 or 0
    local job =
      assert(
      jobs.launch({ task = { name = "t" .. i, run = "echo job " .. i .. "; exit " .. code } },
      { backend = "local" }))
    ids[i] = job.id
    want[job.id] = code == 0 and "completed" or "failed"
  end
  local deadline = vibeml.monotonic() + 240
  local done
  repeat
    vibeml.sleep(0.5)
    done = 0
    for _, id in ipairs(ids) do
      local st = jobs.status(id).state
      if st == "completed" or st == "failed" or st == "terminated" then done = done + 1 end
    end
  until done == 200 or vibeml.monotonic() > deadline
  T.eq(done, 200, "all ended")
  local bad = 0
  for i, id in ipairs(ids) do
    local st = jobs.status(id)
    if st.state ~= want[id] then bad = bad + 1 end
    if i % 50 == 0 then T.contains(jobs.logs(id).lines[1], "job " .. i) end
  end
  T.eq(bad, 0, "wrong end states")
  local _, total = jobs.list({})
  T.ok(total >= 200, "listed")
end)

return T.run()

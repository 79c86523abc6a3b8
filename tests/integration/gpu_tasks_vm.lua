-- Part of test_gpu_tasks_vm.sh: the GPU workflows (unsloth, lora, full) cannot train here, but
-- the task each generates is launched through the VM simulator with stand-in pip, python and
-- accelerate first on the VM's PATH (tests/fixtures/fake_vm_bin): setup and run must find every
-- file their commands name on a VM that holds only what the task shipped (one process per node
-- for multi-node plans).
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"
local planner = require "vibeml.planner"
local sky = require "vibeml.jobs.skypilot"

local STATE = os.getenv("FAKE_SKY_STATE")

local function sky_job(name)
  local st = vibeml.json.decode(vibeml.fs.read(STATE .. "/state.json")) or {}
  for _, j in pairs(st.jobs or {}) do if j.job_name == name then return j end end
end

local function run_case(wf, model, extra)
  local req = { model = model, dataset = "yahma/alpaca-cleaned", workflow = wf, offline = true }
  for k, v in pairs(extra or {}) do req[k] = v end
  local plan = assert(planner.plan(req))
  T.ok(plan.task, wf .. ": a task to launch (" .. tostring(plan.task_note) .. ")")
  local job = assert(jobs.launch(plan, { backend = "skypilot" }))
  local row = require("vibeml.jobs.db").get(job.id)
  local j
  for _ = 1, 600 do
    j = sky_job(row.sky_name)
    if j and (j.status == "SUCCEEDED" or j.status:match("^FAILED") or j.status == "CANCELLED") then break end
    vibeml.sleep(0.1)
  end
  local out = sky.sky({ "jobs", "logs", tostring(j.job_id), "--no-follow" })
  local log = out and out.out or ""
  T.eq(j.status, "SUCCEEDED", wf .. " " .. model .. " on the VM:\n" .. log:sub(-3000))
  T.ok(not log:find("file not found on the VM", 1, true), wf .. ": every file was there")
  T.ok(log:find('"status":"checked"', 1, true), wf .. ": the training script was reached")
  local nodes = math.tointeger(plan.task.num_nodes or 1)
  local checked = select(2, log:gsub('"status":"checked"', ""))
  T.eq(checked, nodes, wf .. ": one training process per node")
  print(string.format("# %s %s: %d node(s), %s, setup+run found every file", wf, model, nodes,
    plan.best.gpu and (plan.best.count .. "x" .. plan.best.gpu) or "CPU"))
end

T.case("unsloth 8B: QLoRA on one GPU", function() run_case("unsloth", "meta-llama/Llama-3.1-8B") end)
T.case("lora 8B and 70B: one GPU, then a node's GPUs through accelerate", function()
  run_case("lora", "meta-llama/Llama-3.1-8B")
  run_case("lora", "meta-llama/Llama-3.1-70B")
end)
T.case("full 8B and 70B: ZeRO-3/FSDP across GPUs and nodes", function()
  run_case("full", "meta-llama/Llama-3.1-8B")
  run_case("full", "meta-llama/Llama-3.1-70B")
end)

return T.run()

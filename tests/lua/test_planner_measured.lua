-- The planner learns from finished jobs: a run's measured throughput (from its end-of-job report)
-- is kept per GPU and workflow and used by later plans for the same GPU and a similar model size,
-- named in the plan's assumptions; other GPUs and distant sizes are unaffected. Every plan's
-- estimate carries the set-up before the first step, and a launched job keeps it. The planner
-- reads the live workflow registry: a changed plugin changes what it offers.
local T = require "vibeml.test"
local planner = require "vibeml.planner"
local jdb = require "vibeml.jobs.db"
local report = require "vibeml.jobs.report"
local measured = require "vibeml.plan.measured"
local plugins = require "vibeml.plugins"

local function plan(req)
  req.offline, req.no_task, req.ignore_preferences = true, true, true
  return assert(planner.plan(req))
end

-- One place on the catalog, so before and after compare the same offer.
local H100 = { gpu = "H100", cloud = "nebius", spot = false }
local function lora(size, extra)
  local r = { model = string.format("org/Model-%gB", size), workflow = "lora",
              dataset = "yahma/alpaca-cleaned" }
  for k, v in pairs(H100) do r[k] = v end
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- A job that ran plan p to completion on SkyPilot, whose steps took the planned step time divided
-- by `speedup`: rows and events as the backend writes them, then the report as the end writes it.
local function finished_run(p, speedup, opts)
  opts = opts or {}
  local est = p.estimate
  local id = jdb.insert { name = "measured", workflow = p.workflow, model = p.request.model,
    dataset = p.request.dataset, backend = "skypilot", gpu = opts.gpu or est.gpu,
    gpu_count = opts.count or est.count, nodes = est.nodes, rate_hr = p.best.rate_hr,
    estimate = vibeml.json.encode(opts.estimate or est) }
  jdb.update(id, { dir = jdb.job_dir(id) })
  jdb.update(id, { state = "running" })
  local db, t0 = jdb.db(), vibeml.time()
  local step_s = est.step_s / speedup
  for i = 1, opts.steps or 40 do
    jdb.event(db, id, "progress", { event = "step", step = i, total_steps = est.steps, loss = 1.0,
                                    ts = t0 + i * step_s })
  end
  jdb.update(id, { state = opts.state or "completed", total_steps = est.steps,
                   step = opts.steps or 40 })
  assert(report.write(id))
  return id
end

local function said(p, text)
  for _, a in ipairs(p.assumptions) do if a:find(text, 1, true) then return a end end
  return nil
end

T.case("every plan's estimate carries the set-up before the first training step", function()
  local p = plan(lora(8))
  local e = p.estimate
  -- lora's descriptor: install 180-300 s, warm-up 20-60 s, 150 MB/s download, 1 GB/s load of
  -- 16 GB of bf16 weights; the default VM provisioning of 180 s
  local want = 180 + (180 + 300) / 2 + 16e9 / 150e6 + 16e9 / 1e9 + (20 + 60) / 2
  T.ok(math.abs(e.setup_s - want) <= 1, "setup_s " .. e.setup_s .. " vs " .. want)
  T.ok(e.setup_s_max > e.setup_s, "pessimistic set-up")
  T.eq(p.best.setup_s, e.setup_s)
  T.eq(e.duration_h.expected, p.best.duration_h.expected)
  T.eq(e.cost.expected, p.best.cost.expected)
  T.eq(e.throughput_source, "model")
  T.ok(math.abs(e.step_s - e.tokens_per_step / e.tokens_per_s) < 1e-3,
    "step time from the throughput")
  T.eq(e.gpu, "H100"); T.eq(e.workflow, "lora"); T.eq(e.params_b, 8)
  -- a CPU workflow: its install and warm-up (5-30 s, 0-1 s), no model to download, no VM locally
  local s = assert(planner.plan { model = "x/tiny", workflow = "smoke", offline = true,
                                  no_task = true })
  T.eq(s.estimate.setup_s, 18)
  T.eq(s.best.setup_s, 18)
end)

T.case("a launched job keeps the plan's estimate, set-up included", function()
  local jobs = require "vibeml.jobs"
  local p = assert(planner.plan { model = "x/tiny", workflow = "smoke", offline = true,
                                  hyperparameters = { max_steps = 20 } })
  local job = assert(jobs.launch(p, { backend = "local" }))
  local st = assert(job:wait { timeout = 60 })
  T.eq(st.state, "completed")
  local est = vibeml.json.decode(jdb.get(job.id).estimate)
  T.eq(est.setup_s, p.estimate.setup_s)
  T.eq(est.setup_s_max, p.estimate.setup_s_max)
  -- a CPU run teaches the GPU planner nothing
  T.eq(#measured.list(), 0)
end)

T.case("a finished run's throughput feeds later plans on that GPU; other GPUs are unaffected",
function()
  local before = plan(lora(8))
  local a100 = plan(lora(8, { gpu = "A100-80GB", cloud = "azure" }))
  finished_run(before, 1.25)
  T.eq(#measured.list(), 1)
  local after = plan(lora(8))
  T.eq(after.estimate.throughput_source, "measured")
  T.eq(after.best.instance_type, before.best.instance_type)
  local ratio = after.best.tokens_per_s / before.best.tokens_per_s
  T.ok(math.abs(ratio - 1.25) < 0.01, "throughput × 1.25: " .. ratio)
  T.ok(after.best.duration_h.expected < before.best.duration_h.expected, "shorter")
  T.ok(after.best.cost.expected < before.best.cost.expected, "cheaper")
  -- set-up does not speed up: only the training part shrinks
  local train_before = before.best.duration_h.expected - before.estimate.setup_s / 3600
  local train_after = after.best.duration_h.expected - after.estimate.setup_s / 3600
  T.ok(train_after < train_before and train_after > train_before / 1.3,
    "training time shrank by ~1/1.25")
  T.eq(after.estimate.setup_s, before.estimate.setup_s)
  T.eq(after.estimate.model_tokens_per_s, before.estimate.model_tokens_per_s)
  local line = said(after, "throughput on H100 for lora 8 B from 1 finished run")
  T.ok(line, "the assumption names the source")
  T.contains(line, "instead of the model's")
  T.contains(after.best.reasons[2], "measured in 1 finished run")
  -- another GPU: exactly as before
  local a100_after = plan(lora(8, { gpu = "A100-80GB", cloud = "azure" }))
  T.eq(a100_after.best.cost.expected, a100.best.cost.expected)
  T.eq(a100_after.best.tokens_per_s, a100.best.tokens_per_s)
  T.eq(a100_after.estimate.throughput_source, "model")
  T.eq(said(a100_after, "finished run"), nil)
  -- and the request can ask for the model alone
  T.eq(plan(lora(8, { measured = false })).best.cost.expected, before.best.cost.expected)
end)

T.case("the median of the last runs rules, not one outlier; odd data and unfinished runs are "
  .. "not kept", function()
  local before = plan(lora(8, { measured = false }))
  finished_run(before, 1.25)
  finished_run(before, 4.5) -- an outlier, but within what a real run could do
  local m = assert(measured.lookup("H100", "lora", 8))
  T.eq(m.runs, 3)
  T.ok(math.abs(m.factor - 1.25) < 0.01, "median of 1.25, 1.25, 4.5: " .. m.factor)
  -- a measurement 20× the model is not a throughput, and is dropped
  local n = #measured.list()
  local row = jdb.get(finished_run(before, 20))
  local ok, why = measured.record(row, report.build(row))
  T.eq(ok, nil); T.contains(why, "odd data")
  -- a failed run, or one with too few steps, is not a measurement
  finished_run(before, 2, { state = "failed" })
  finished_run(before, 2, { steps = 5 })
  -- a job planned before estimates carried the facts
  finished_run(before, 2, { estimate = { duration_h = before.estimate.duration_h,
                                          cost = before.estimate.cost,
                                          step_s = before.estimate.step_s } })
  T.eq(#measured.list(), n)
  -- the last LAST_N runs only: five newer runs at 1.5× replace the old ones
  for _ = 1, measured.LAST_N do finished_run(before, 1.5) end
  local m2 = assert(measured.lookup("H100", "lora", 8))
  T.eq(m2.runs, measured.LAST_N)
  T.ok(math.abs(m2.factor - 1.5) < 0.01, "the newest runs: " .. m2.factor)
end)

T.case("similar sizes and other batch shapes benefit; distant sizes and other workflows do not",
function()
  T.ok(measured.lookup("H100", "lora", 7), "7B is like 8B")
  T.ok(measured.lookup("H100", "lora", 11), "11B is like 8B")
  T.eq(measured.lookup("H100", "lora", 3), nil)
  T.eq(measured.lookup("H100", "lora", 70), nil)
  T.eq(measured.lookup("H100", "unsloth", 8), nil)
  T.eq(measured.lookup("H200", "lora", 8), nil)
  -- another batch and sequence length: the factor is per token, so it still applies
  local hp = { per_device_batch_size = 4, max_seq_length = 1024 }
  local model = plan(lora(8, { hyperparameters = hp, measured = false }))
  local p = plan(lora(8, { hyperparameters = hp }))
  T.eq(p.estimate.throughput_source, "measured")
  T.ok(p.best.tokens_per_s > model.best.tokens_per_s * 1.4, "1.5× the model")
  T.eq(plan(lora(70)).estimate.throughput_source, "model")
end)

T.case("the planner reads the live workflow registry: a changed plugin changes what it offers",
function()
  T.ok(planner.workflow("lora").model_sizes.max_b >= 8)
  local function has(list, x)
    for _, v in ipairs(list) do if v == x then return true end end
    return false
  end
  T.ok(has(planner.workflows_for_size(8), "lora"))
  -- the user's copy of the shipped lora workflow, trained only up to 5 B
  local src = assert(os.getenv("VML_SOURCE_DIR"), "VML_SOURCE_DIR") .. "/workflows/lora"
  local dir = vibeml.fs.paths().config .. "/plugins/lora"
  vibeml.fs.mkdirs(dir)
  local init = assert(vibeml.fs.read(src .. "/init.lua"))
  local edited, n = init:gsub("model_sizes = { min_b = 0.1, max_b = %d+ }",
                              "model_sizes = { min_b = 0.1, max_b = 5 }")
  T.eq(n, 1)
  assert(vibeml.fs.write(dir .. "/init.lua", edited))
  assert(vibeml.fs.write(dir .. "/train.py", assert(vibeml.fs.read(src .. "/train.py"))))
  plugins.rescan()
  T.eq(planner.workflow("lora").model_sizes.max_b, 5)
  T.ok(not has(planner.workflows_for_size(8), "lora"), "8 B is outside the new range")
  local p, msg, code = planner.plan { model = "org/Model-8B", workflow = "lora", offline = true,
                                      no_task = true }
  T.eq(p, nil); T.eq(code, "VML_EINVAL")
  T.contains(msg, "workflow 'lora' trains models of 0.1-5 B parameters")
  local any = plan { model = "org/Model-8B" }
  for _, a in ipairs(any.alternatives) do
    if a.workflow == "lora" then T.eq(a.feasible, false) end
  end
  T.ok(any.workflow ~= "lora", "not chosen: " .. any.workflow)
  -- a 3 B model it still plans
  T.eq(plan { model = "org/Model-3B", workflow = "lora" }.workflow, "lora")
  -- removing the user's copy brings the shipped one back
  vibeml.fs.remove(dir .. "/init.lua"); vibeml.fs.remove(dir .. "/train.py")
  pcall(vibeml.fs.remove, dir)
  plugins.rescan()
  T.ok(has(planner.workflows_for_size(8), "lora"))
end)

return T.run()

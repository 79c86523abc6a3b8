-- Workflows run only on hardware they declare (vendor, compute capability): a sweep of the whole
-- catalog for every GPU workflow and a grid of model sizes finds no ranked option on a GPU the
-- workflow cannot run on. The rule is re-stated here from the GPUs' facts, apart from the planner.
local T = require "vibeml.test"
local planner = require "vibeml.planner"
local gpus = require "vibeml.gpus"

-- Independent statement of the rule: CUDA workflows need an NVIDIA GPU; the HF workflows force
-- bf16, which needs compute capability 8.0; Unsloth runs from 7.0 (fp16 on T4/V100).
local NEEDS = { unsloth = 7.0, lora = 8.0, full = 8.0 }
local function can_run(wfname, gpu)
  local s = gpus.get(gpu)
  return s.vendor == "nvidia" and s.cc ~= nil and s.cc >= NEEDS[wfname] and s.cc <= 12.0
end

local function ctx_for(wfname, size)
  local wf = planner.workflow(wfname)
  local hp = {}
  for k, spec in pairs(wf.hyperparameters) do hp[k] = spec.default end
  return { wf = wf, method = wf.method, params_b = size,
           shape = { seq_len = 2048, batch = 2, grad_accum = 4, rank = 16, optimizer = hp.optim,
                     epochs = 1, packing = false, save_steps = hp.save_steps or 100,
                     eval_fraction = hp.eval_fraction or 0, eval_max_rows = hp.eval_max_rows or 0 },
           hp = hp, data = { rows = 20000, mean_tokens = 300 } }
end

T.case(
  "the whole catalog, every GPU workflow, sizes 0.5-72B: no option on hardware it cannot run on",
    function()
  local checked, excluded = 0, 0
  local seen = {}
  for _, wfname in ipairs({ "unsloth", "lora", "full" }) do
    for _, size in ipairs({ 0.5, 1.5, 8, 14, 32, 70, 72 }) do
      local options, rejected = planner.solve(ctx_for(wfname, size), {})
      excluded = excluded + rejected.hardware
      for _, c in ipairs(options) do
        checked = checked + 1
        seen[c.offer.gpu] = true
        T.ok(can_run(wfname, c.offer.gpu), string.format("%s %gB offered %s (%s)", wfname, size,
          c.offer.gpu, c.offer.cloud))
      end
    end
  end
  T.ok(checked > 1000, "options checked: " .. checked)
  T.ok(excluded > 0, "some offers excluded by hardware")
  T.ok(seen.H100 and seen.A10 and seen.T4, "the sweep reached the common GPUs")
end)

T.case("the rule: AMD never for CUDA installs, no T4/V100 for bf16, Unsloth on T4", function()
  local un, lo, fu = planner.workflow("unsloth"), planner.workflow("lora"), planner.workflow("full")
  local ok, why = planner.runs_on(fu, gpus.get("MI300X"))
  T.eq(ok, false); T.contains(why, "MI300X is AMD; workflow 'full' installs CUDA wheels")
  ok, why = planner.runs_on(lo, gpus.get("T4"))
  T.eq(ok, false);
    T.contains(why, "T4 has compute capability 7.5; workflow 'lora' needs 8.0 or newer (bf16)")
  T.eq(planner.runs_on(fu, gpus.get("V100")), false)
  T.eq(planner.runs_on(un, gpus.get("T4")), true)
  T.eq(planner.runs_on(un, gpus.get("MI300X")), false)
  T.eq(planner.runs_on(lo, gpus.get("B300")), true)
  -- a GPU map without the facts is refused for a workflow that asks for them
  T.eq(planner.runs_on(lo, { name = "X1", memory_gb = 80 }), false)
end)

T.case("the rule can fail: without the declarations the old picks (MI300X, T4) come back",
  function()
  -- the issue's finding: full 14B went to 8x MI300X, full 0.5B to a T4
  local c14 = ctx_for("full", 14.8)
  local loose = {}
  for k, v in pairs(c14.wf) do loose[k] = v end
  loose.gpu = { required = true, min_count = 1, max_count = 8, multi_node = true }
  c14.wf = loose
  local any_bad = false
  for _, c in ipairs(planner.solve(c14, {})) do
    if not can_run("full", c.offer.gpu) then any_bad = true break end
  end
  T.ok(any_bad, "an undeclared workflow is offered hardware it cannot run on")
  local p = assert(planner.plan { model = "Qwen/Qwen2.5-14B", params_b = 14.8, workflow = "full",
    offline = true, no_task = true, ignore_preferences = true })
  T.ok(can_run("full", p.best.gpu), p.best.gpu)
  T.ok(p.best.gpu ~= "MI300X")
end)

T.case("sizes outside a workflow's range are refused with the workflow that fits", function()
  local p, msg, code, info = planner.plan { model = "meta-llama/Llama-3.1-405B", params_b = 405,
    workflow = "full", offline = true, no_task = true, ignore_preferences = true }
  T.eq(p, nil); T.eq(code, "VML_EINVAL")
  T.contains(msg, "workflow 'full' trains models of 0.1-72 B parameters")
  T.eq(#info.workflows, 0, "nothing covers 405B")
  p, msg, code, info = planner.plan { model = "org/Model-100B", params_b = 100, workflow = "lora",
    offline = true, no_task = true, ignore_preferences = true }
  T.eq(p, nil); T.eq(code, "VML_EINVAL")
  T.contains(msg, "Use workflow unsloth.")
  T.eq(info.workflows[1], "unsloth")
  -- alternatives mark out-of-range workflows infeasible
  p = assert(planner.plan { model = "org/Model-100B", params_b = 100, workflow = "unsloth",
    offline = true, no_task = true, ignore_preferences = true })
  for _, a in ipairs(p.alternatives) do
    if a.workflow ~= "unsloth" then T.eq(a.feasible, false, a.workflow) end
  end
end)

T.case("offline plans say gating is unknown", function()
  local p = assert(planner.plan { model = "meta-llama/Llama-3.1-8B", workflow = "unsloth",
    offline = true, no_task = true, ignore_preferences = true })
  T.eq(p.model_info.gated, "unknown")
  local said = false
  for _, a in ipairs(p.assumptions) do if a:find("is gated is unknown", 1, true) then
    said = true end end
  T.ok(said, "an assumption says so")
  p = assert(planner.plan { model = "x/y-8B", workflow = "unsloth", offline = true, no_task = true,
    ignore_preferences = true, model_info = { params_b = 8, gated = false } })
  T.eq(p.model_info.gated, false)
end)

T.case("LoRA shards: a 70B LoRA plans on several ordinary GPUs, priced near full's scale",
  function()
  local p =
    assert(planner.plan { model = "meta-llama/Llama-3.1-70B", params_b = 70.6, workflow = "lora",
    dataset_info = { rows = 20000, mean_tokens = 400 }, offline = true, no_task = true,
    ignore_preferences = true })
  T.ok(p.best.count > 1, "several GPUs: " .. p.best.count)
  T.ok(p.best.gpu ~= "B300", p.best.gpu)
  T.ok(p.best.cost.expected < 400, "cost " .. p.best.cost.expected)
end)

return T.run()

-- quickstart.lua — VibeML's main job on its embedded defaults, no cloud account needed:
--   1. plan a real fine-tune (LoRA of a 1B model on Alpaca) across every cloud in the shipped
--      price snapshot: ranked GPU offers with VRAM, duration and whole-job cost;
--   2. launch the CPU-only `smoke` workflow on this machine and watch it train for real:
--      progress, loss, ETA and cost while it runs, then the artifact and the logs.
-- Run it with `vibeml run examples/quickstart.lua` (or `bash .ci/quickstart`).
local vml = require "vibeml"

local function money(x) return string.format("$%.2f", x or 0) end

-- 1. Plan ------------------------------------------------------------------------------------
local request = {
  model = "meta-llama/Llama-3.2-1B",
  dataset = "yahma/alpaca-cleaned",
  workflow = "lora",
  max_cost = 5,
}
print(("VibeML %s — planning %s on %s (%s)"):format(vml.version, request.model, request.dataset,
  request.workflow))
local plan, err = vml.plan(request)
if not plan then
  vml.eprint("planning failed: " .. tostring(err))
  return 1
end
local best = plan.best
print(("Best: %d× %s on %s %s%s — expected %s (%s–%s), %.1f h"):format(best.count, best.gpu,
  best.cloud, best.region, best.spot and " (spot)" or "", money(best.cost.expected),
  money(best.cost.min), money(best.cost.max), best.duration_h.expected))
print("Top offers by total job cost:")
for i = 1, math.min(5, #plan.options) do
  local o = plan.options[i]
  print(("  %d. %d× %-10s %-7s %-20s %s  %s/h  %.2f h  %s"):format(i, o.count, o.gpu, o.cloud,
    o.region:sub(1, 20), o.spot and "spot     " or "on-demand", money(o.rate_hr),
    o.duration_h.expected, money(o.cost.expected)))
end
for _, a in ipairs(plan.assumptions or {}) do print("  assumption: " .. a) end

-- 2. Run the smoke workflow here -------------------------------------------------------------
print("\nLaunching the `smoke` workflow on this machine (CPU, Python standard library only)...")
local job, lerr = vml.launch({
  model = "HuggingFaceTB/SmolLM2-135M",     -- only a label for smoke: it trains a tiny bigram model
  dataset = "karpathy/tiny_shakespeare",
  workflow = "smoke",
  hyperparameters = { max_steps = 150, step_delay_s = 0.02 },
}, { backend = "local" })
if not job then
  vml.eprint("launch failed: " .. tostring(lerr))
  return 1
end
print(("Job %s — %s"):format(job.id, job:status().where or "local"))

local last_step = -1
while true do
  local st = job:status()
  local p = st.progress or {}
  if p.step and p.step ~= last_step then
    last_step = p.step
    print(("  %-9s step %4d/%-4d loss %-7s ETA %5.1f s  cost %s"):format(st.state, p.step,
      p.total_steps or 0, p.loss and string.format("%.3f", p.loss) or "-", p.eta_s or 0,
      money(st.cost and st.cost.accrued)))
  end
  if st.state == "completed" or st.state == "failed" or st.state == "terminated" then break end
  vml.sleep(0.3)
end

local st = job:status()
print(("Job %s %s in %.1f s; final loss %s; cost %s"):format(job.id, st.state, st.runtime_s or 0,
  st.progress and st.progress.loss and string.format("%.3f", st.progress.loss) or "-",
  money(st.cost and (st.cost.final or st.cost.accrued))))
print("Last log lines:")
for line in job:logs{ tail = 3 } do print("  " .. line) end
print(("\nNext: `vibeml serve` for your AI assistant, `vibeml doctor` to check cloud set-up, "
  .. "`vibeml jobs show %s` for this job."):format(job.id))
return st.state == "completed" and 0 or 1

-- examples/plan.lua — what would fine-tuning cost? Run: vibeml run examples/plan.lua [MODEL] [DATASET]
-- Plans a job without launching anything: the cheapest GPU options across clouds by total cost.
local model = arg[1] or "meta-llama/Llama-3.2-1B"
local dataset = arg[2] or "yahma/alpaca-cleaned"

local plan, err = vibeml.plan { model = model, dataset = dataset, max_cost = 20 }
if not plan then
  print("no plan: " .. err)
  return 1
end
local b = plan.best
print(string.format("%s on %s with %s: %d× %s on %s %s (%s)", model, dataset, plan.workflow,
  b.count, b.gpu, b.cloud, b.region, b.spot and "spot" or "on-demand"))
print(string.format("  expected $%.2f (range $%.2f–$%.2f), about %.1f hours",
  b.cost.expected, b.cost.min, b.cost.max, b.duration_h.expected))
for i = 2, math.min(4, #plan.options) do
  local o = plan.options[i]
  print(string.format("  or %d× %s on %s: $%.2f, %.1f h", o.count, o.gpu, o.cloud, o.cost.expected,
    o.duration_h.expected))
end
for _, w in ipairs(plan.warnings) do print("  warning: " .. w) end
for _, a in ipairs(plan.assumptions) do print("  assumed: " .. a) end

-- the same GPUs, priced by the hour
local h100 = vibeml.gpus { gpu = "H100", limit = 3 }
for _, o in ipairs(h100.offers) do
  print(string.format("  H100 ×%d on %s %s: $%.2f/GPU-hour", o.count, o.cloud, o.region, o.best_per_gpu_hr))
end
return 0

-- vibeml.planner, vibeml.gpus, vibeml.catalog (snapshot only, no network: offline plans).
local T = require "vibeml.test"
local planner = require "vibeml.planner"
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local sizing = require "vibeml.sizing"

local function plan(req)
  req.offline = true
  req.no_task = true
  return planner.plan(req)
end

T.case("GPU maps: one per cloud, aliases resolve, unknown GPU wording", function()
  for _, c in ipairs { "aws", "gcp", "azure", "lambda", "nebius", "vast" } do
    T.ok(gpus.cloud_map(c), "map for " .. c)
  end
  T.eq(gpus.resolve("a100-80g"), "A100-80GB")
  T.eq(gpus.resolve("h100_sxm"), "H100")
  T.eq(gpus.resolve("RTX 4090"), "RTX4090")
  T.eq(gpus.get("H200").memory_gb, 141)
  T.eq(gpus.get("L40S").bf16_tflops, 362)
  local neb = gpus.cloud_map("nebius").gpus.H100.instance_types
  T.eq(neb["gpu-h100-sxm_1gpu-16vcpu-200gb"], 1)
  local n, msg = gpus.resolve("RTX9000")
  T.eq(n, nil)
  T.contains(msg, "GPU type 'RTX9000' not supported. Available: ")
  T.contains(msg, "H100")
  T.eq(#gpus.problems(), 0)
end)

T.case("catalog: snapshot parsed once, old accelerators skipped", function()
  local offers = catalog.offers()
  T.ok(#offers > 2000, "offers: " .. #offers)
  T.ok(catalog.info().skipped.K80 > 0)
  T.eq(catalog.info().sources.nebius.kind, "snapshot")
  T.ok(#catalog.by_gpu("H100") > 100)
end)

-- Brute force: price every offer independently and compare with the planner's best. Written apart
-- from the planner: the hardware rule (vendor, compute capability), steps, checkpoints and evals.
local function brute_best(p)
  local wf = planner.workflow(p.workflow)
  local hp = p.hyperparameters
  local P = p.model_info.params_b
  local sh = { seq_len = hp.max_seq_length or 2048, batch = hp.per_device_batch_size or 2,
               rank = hp.lora_r or 16, optimizer = hp.optim, vram = wf.vram }
  local g = wf.gpu
  local best
  for _, o in ipairs(catalog.offers()) do
    local spec = gpus.get(o.gpu)
    local hw_ok = spec.vendor == g.vendor and spec.cc ~= nil and spec.cc >= g.min_compute_capability
      and spec.cc <= g.max_compute_capability
    -- (clouds where SkyPilot cannot mount the job's bucket are not offered: Vast)
    local map = gpus.cloud_map(o.cloud)
    if o.count <= (wf.gpu.max_count or 8) and hw_ok
      and not (map and map.storage_mount == false) then
      if sizing.fits(p.method, P, gpus.usable_gb(spec), o.count, sh) then
        local rows = p.dataset_info.rows
        local held = math.min(math.floor(rows * hp.eval_fraction), hp.eval_max_rows)
        local steps =
          math.ceil((rows - held) * (hp.epochs
          or 1) / (sh.batch * hp.gradient_accumulation_steps * o.count))
        local every = math.max(hp.save_steps, math.ceil(steps / 10))
        local padded = math.min(sh.seq_len, 1.2 * p.dataset_info.mean_tokens)
        local tokens = sizing.tokens { rows = rows, mean_tokens = p.dataset_info.mean_tokens,
                                       epochs = hp.epochs or 1, seq_len = sh.seq_len }
        local tflops, ic = gpus.instance_spec(spec, o.cloud, o.instance_type)
        local d, parts = sizing.duration(p.method, P, spec, o.count, tokens,
          { interconnect = ic, bf16_tflops = tflops, throughput = wf.throughput, vram = wf.vram,
            rank = sh.rank, steps = steps, save_steps = hp.save_steps,
            evals = held > 0 and (steps // every + 1) or 0, eval_tokens = held * padded })
        for _, spot in ipairs { false, true } do
          local rate = spot and o.spot_price or (not spot and o.price)
          if rate then
            local c = sizing.cost(rate, d, { spot = spot, recovery_h = parts.recovery_h })
            if not best or c.expected < best then best = c.expected end
          end
        end
      end
    end
  end
  return best
end

T.case("the best option is the cheapest feasible offer (brute force)", function()
  for _, req in ipairs {
    { model = "org/Model-1B", workflow = "unsloth" },
    { model = "org/Model-8B", workflow = "lora", dataset = "yahma/alpaca-cleaned" },
    { model = "org/Model-3B", workflow = "full" },
  } do
    local p = assert(plan(req))
    local b = brute_best(p)
    T.ok(math.abs(p.best.cost.expected - math.floor(b * 100 + 0.5) / 100) < 0.006,
      string.format("%s: planner %.4f vs brute force %.4f", req.model, p.best.cost.expected, b))
    for i = 2, #p.options do
      T.ok(p.options[i].cost.expected >= p.options[i - 1].cost.expected, "ranked by expected cost")
    end
  end
end)

T.case("ranked by total cost, not $/hour", function()
  local p =
    assert(plan { model = "org/Model-8B", workflow = "lora", dataset = "yahma/alpaca-cleaned",
                          spot = false })
  local cheapest_hr = math.huge
  for _, o in ipairs(catalog.offers()) do
    if o.count == 1 and sizing.fits("lora", 8, gpus.usable_gb(o.spec), 1) then
      cheapest_hr = math.min(cheapest_hr, o.price)
    end
  end
  -- a pricier GPU-hour can finish sooner and cost less in total
  T.ok(p.best.rate_hr >= cheapest_hr)
  for _, o in ipairs(p.options) do T.eq(o.spot, false) end
  T.ok(#p.best.reasons >= 4)
  T.contains(p.best.reasons[1], "fits VRAM")
end)

T.case("constraints: GPU type, count, cloud, region, spot", function()
  local p = assert(plan { model = "org/Model-8B", gpu = "h100", cloud = "nebius", spot = true })
  for _, o in ipairs(p.options) do
    T.eq(o.gpu, "H100"); T.eq(o.cloud, "nebius"); T.eq(o.spot, true)
  end
  T.eq(p.best.instance_type, "gpu-h100-sxm_1gpu-16vcpu-200gb")
  local p2 =
    assert(plan { model = "org/Model-8B", workflow = "lora", gpus = 8, region = "eu-north1" })
  for _, o in ipairs(p2.options) do T.eq(o.count, 8) end
  local bad, msg = plan { model = "org/Model-8B", cloud = "nowhere" }
  T.eq(bad, nil); T.contains(msg, "cloud 'nowhere'")
end)

T.case("unknown GPU: the product's wording", function()
  local p, msg, code = plan { model = "org/Model-8B", gpu = "RTX9000" }
  T.eq(p, nil); T.eq(code, "VML_EINVAL")
  T.contains(msg, "GPU type 'RTX9000' not supported. Available: ")
end)

T.case("70B full fine-tune needs 8 GPUs of the 80 GB class or more", function()
  local p = assert(plan { model = "org/Model-70B", workflow = "full",
                          hyperparameters = { optim = "adamw_8bit" } })
  T.eq(p.best.count, 8)
  T.ok(p.best.vram.usable_gb >= 79, "80 GB class")
  local p2 =
    assert(plan { model = "org/Model-70B", workflow = "full",
    hyperparameters = { optim = "adamw_torch" } })
  -- fp32 Adam: 16 B/p ≈ 1.13 TB → 8 GPUs only of the 192 GB class, else several nodes
  T.ok(p2.best.vram.usable_gb >= 180 or p2.best.nodes >= 2, "fp32 Adam needs more memory")
  local p3 = assert(plan { model = "org/Model-70B", workflow = "full", gpu = "H100",
                           hyperparameters = { optim = "adamw_torch" } })
  T.ok(p3.best.count >= 16 and p3.best.nodes >= 2, "H100s: multi-node")
  local warned = false
  for _, w in ipairs(p3.warnings) do if w:find("multi-node", 1, true) then warned = true end end
  T.ok(warned)
end)

T.case("nothing feasible: says what would work, with its cost", function()
  local p, msg, code, info = plan { model = "org/Model-70B", workflow = "full", gpu = "T4",
    gpus = 1 }
  T.eq(p, nil); T.eq(code, "VML_ELIMIT")
  T.contains(msg, "What would work")
  T.contains(msg, "a bigger or different GPU")
  T.contains(msg, "QLoRA (workflow unsloth) instead of full")
  T.ok(#info.suggestions >= 2)
  T.ok(info.suggestions[1].cost > 0)
  local p2, msg2 = plan { model = "org/Model-8B", workflow = "lora",
    dataset = "yahma/alpaca-cleaned",
                          max_cost = 0.5, epochs = 3 }
  T.eq(p2, nil)
  T.contains(msg2, "max_steps=")
  T.contains(msg2, "fits the budget")
  local p3, msg3 = plan { model = "org/Model-8B", workflow = "full", deadline_h = 0.05 }
  T.eq(p3, nil)
  T.contains(msg3, "later deadline")
end)

T.case("max_cost and deadline filter options", function()
  local p = assert(plan { model = "org/Model-8B", dataset = "yahma/alpaca-cleaned", max_cost = 1.0,
                          deadline_h = 2 })
  for _, o in ipairs(p.options) do
    T.ok(o.cost.expected <= 1.0); T.ok(o.duration_h.expected <= 2)
  end
end)

T.case("workflow chosen when not given; alternatives priced", function()
  local p = assert(plan { model = "org/Model-8B" })
  T.ok(p.workflow == "lora" or p.workflow == "unsloth" or p.workflow == "full", p.workflow)
  T.ok(type(p.workflow_reason) == "string" and #p.workflow_reason > 0)
  local c = assert(plan { model = "org/Model-8B", preference = "cheapest" })
  T.eq(c.workflow, "unsloth")
  T.eq(#p.alternatives, 3)
  T.eq(assert(plan { model = "org/Model-8B", workflow = "qlora" }).workflow, "unsloth")
  local bad, msg = plan { model = "org/Model-8B", workflow = "nope" }
  T.eq(bad, nil); T.contains(msg, "unknown workflow 'nope'")
end)

T.case("offline: size from the name, stated as an assumption", function()
  local p = assert(plan { model = "meta-llama/Llama-3.1-8B" })
  T.eq(p.model_info.params_b, 8)
  T.contains(p.assumptions[1], "assumed 8 B parameters from the model name")
end)

T.case("estimate: GPU × count × hours", function()
  local e = assert(planner.estimate { gpu = "H100", count = 8, hours = 2, cloud = "nebius" })
  local od
  for _, r in ipairs(e.rows) do if not r.spot then od = r end end
  T.eq(od.rate_hr, 23.6); T.eq(od.cost.expected, 47.2)
  local none, msg = planner.estimate { gpu = "RTX9000", hours = 1 }
  T.eq(none, nil); T.contains(msg, "not supported")
end)

T.case("CPU-only workflow (smoke): no GPU options, the task preview still comes", function()
  local p = assert(planner.plan { model = "org/SmolLM2-135M", dataset = "yahma/alpaca-cleaned",
                                  workflow = "smoke", offline = true })
  -- on a cloud it rents a small CPU VM (the local backend bills nothing)
  T.eq(p.best.count, 0); T.eq(p.best.gpu, nil); T.eq(p.best.rate_hr, 0.096)
  T.ok(p.best.cost.expected <= 0.05)
  T.ok(p.task and p.task.resources and not p.task.resources.accelerators, "a CPU task")
end)

T.case("vibeml.plan{} is the planner", function()
  local p =
    assert(vibeml.plan { model = "org/Model-3B", offline = true, no_task = true, max_cost = 5 })
  T.ok(p.best.cost.expected <= 5)
  local none, msg, code = vibeml.plan { model = "org/Model-3B", gpu = "RTX9000", offline = true }
  T.eq(none, nil); T.eq(code, "VML_EINVAL"); T.contains(msg, "RTX9000")
end)

T.case("vibeml.gpus{} filters", function()
  local r = assert(vibeml.gpus { cloud = "nebius", min_memory = 100 })
  T.ok(#r.offers >= 2)
  for _, o in ipairs(r.offers) do T.eq(o.cloud, "nebius"); T.ok(o.memory_gb >= 100) end
  local s = assert(vibeml.gpus { spot = true, limit = 5 })
  T.eq(#s.offers, 5)
  for _, o in ipairs(s.offers) do T.ok(o.spot_price_hr ~= nil) end
end)

T.case(
  "no offer where SkyPilot cannot mount the job's bucket (Vast): results would die with the VM",
    function()
  local p, msg = planner.plan { model = "org/Model-3B", dataset = "yahma/alpaca-cleaned",
    offline = true,
                                workflow = "unsloth", cloud = "vast", no_task = true }
  T.eq(p, nil)
  T.contains(msg, "cannot mount the bucket")
  local any = assert(planner.plan { model = "org/Model-3B", dataset = "yahma/alpaca-cleaned",
                                    offline = true, workflow = "unsloth", no_task = true })
  for _, o in ipairs(any.options) do T.ok(o.cloud ~= "vast", "no Vast option") end
end)

T.case("smoke needs neither a sized model nor a dataset, and says what it trains on", function()
  local p =
    assert(planner.plan { model = "sshleifer/tiny-gpt2", workflow = "smoke", offline = true })
  T.ok(p.task, "a task to launch: " .. tostring(p.task_note))
  local said = false
  for _, a in ipairs(p.assumptions) do if a:find("built-in text", 1, true) then said = true end end
  T.ok(said, "the plan says it trains on the built-in text")
  local f = assert(planner.plan { model = "sshleifer/tiny-gpt2", workflow = "smoke", offline = true,
                                  hyperparameters = { dataset_file = "/tmp/data.jsonl" } })
  said = false
  for _, a in ipairs(f.assumptions) do if a:find("/tmp/data.jsonl", 1, true) then
    said = true end end
  T.ok(said, "or on the local file it was given")
end)

return T.run()

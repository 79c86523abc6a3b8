-- `vibeml plan --model ID [--dataset ID] [options]`: ranked GPU options with VRAM, time and total
-- cost; the task that would be launched.
local planner = require "vibeml.planner"
local E = vibeml.E

local USAGE = [[
usage: vibeml plan --model ID [--dataset ID] [--workflow W|--preference P] [--gpu G] [--gpus N] [--cloud C]
                   [--region R] [--spot|--on-demand] [--max-cost USD] [--deadline HOURS]
                   [--epochs N|--max-steps N] [--param K=V]... [--params-b B] [--offline]
                   [--limit N] [--show-task] [--json]

Ranks every GPU offer in the catalog by the expected TOTAL cost of the job (rate × duration ×
count, plus expected spot recovery), not by $/hour, and shows the best options with the reasons.
  --model ID        Hugging Face model id (size, gating looked up; offline: size from the name)
  --dataset ID      Hugging Face dataset id (rows, format looked up)
  --workflow W      unsloth (QLoRA), lora or full; chosen for you when left out
  --preference P    how to choose it: cheapest, balanced (default) or best_quality
  --gpu G / --gpus N   GPU type (name or alias) / total GPU count
  --cloud C / --region R   restrict to one cloud / region
  --spot | --on-demand     only spot / only on-demand capacity (default: both)
  --max-cost USD    only options whose expected cost fits
  --push-to-hub REPO  push the trained model to this Hugging Face repo (private unless
                    --hub-public; needs HF_TOKEN in the vault: `vibeml secrets set HF_TOKEN`)
  --storage BUCKET  bucket for this job's checkpoints and output (s3://b, gs://b or a name;
                    default: the `storage` preference, else vibeml-<user>-<hash>)
  --deadline HOURS  only options expected to finish in time
  --epochs N | --max-steps N   training length
  --param K=V       workflow hyperparameter (repeatable), e.g. --param lora_r=32
  --params-b B      parameter count in billions (skips the Hub lookup)
  --offline         do not contact Hugging Face
Exit codes: 0 a plan, 1 no plan (the message says what would work), 2 usage.
]]

local A = require "vibeml.cli._args"

local OPTIONS = { "--model", "--dataset", "--workflow", "--preference", "--gpu", "--gpus",
  "--cloud",
  "--region", "--spot", "--on-demand", "--max-cost", "--deadline", "--epochs", "--max-steps",
  "--param", "--params-b", "--offline", "--limit", "--show-task", "--json", "--push-to-hub",
  "--hub-public", "--storage", "--help" }

-- Typed options: the range each accepts (checked here, so a typo is a usage error with the range).
local NUMBERS = {
  ["--gpus"] = { field = "gpus", integer = true, min = 1, max = 4096,
    what = "a whole number of GPUs", example = "8" },
  ["--max-cost"] = { field = "max_cost", min = 0.0001, max = 1e6, what = "an amount in USD",
    example = "25" },
  ["--deadline"] = { field = "deadline_h", min = 0.01, max = 8760, what = "a number of hours",
    example = "12" },
  ["--epochs"] = { field = "epochs", min = 0.01, max = 1000, example = "3" },
  ["--max-steps"] = { field = "max_steps", integer = true, min = 1, max = 10000000,
    example = "1000" },
  ["--params-b"] = { field = "params_b", min = 0.0001, max = 10000,
    what = "a number of billions of parameters", example = "8" },
  ["--limit"] = { field = "limit", integer = true, min = 1, max = 1000, example = "8" },
}

-- extra: option names the calling command adds (for the "did you mean" of `vibeml launch`).
local function parse(args, extra)
  local req, flags, i = { hyperparameters = {} }, {}, 1
  local function val(v)
    if v == "true" then return true elseif v == "false" then return false end
    return math.tointeger(tonumber(v)) or tonumber(v) or v
  end
  while i <= #args do
    local a, v = args[i], args[i + 1]
    local function take(field, conv)
      if v == nil then error({ usage = "option " .. a .. " needs a value" }, 0) end
      local x = conv and conv(v) or v
      if x == nil then error({ usage = "bad value '" .. v .. "' for " .. a }) end
      req[field] = x
      i = i + 1
    end
    if a == "--json" then flags.json = true
    elseif a == "--show-task" then flags.task = true
    elseif a == "--spot" then req.spot = true
    elseif a == "--on-demand" then req.spot = false
    elseif a == "--offline" then req.offline = true
    elseif a == "--model" then take("model")
    elseif a == "--dataset" then take("dataset")
    elseif a == "--workflow" then take("workflow")
    elseif a == "--preference" then take("preference")
    elseif a == "--gpu" then take("gpu")
    elseif NUMBERS[a] then
      req[NUMBERS[a].field] = A.number(a, v, NUMBERS[a])
      i = i + 1
    elseif a == "--cloud" then take("cloud")
    elseif a == "--region" then take("region")
    elseif a == "--push-to-hub" then take("push_to_hub")
    elseif a == "--hub-public" then req.hub_private = false
    elseif a == "--storage" then take("checkpoint_bucket")
    elseif a == "--param" then
      local k, x = (v or ""):match("^([%w_]+)=(.*)$")
      if not k then error({ usage = "--param needs KEY=VALUE" }) end
      req.hyperparameters[k] = val(x)
      i = i + 1
    elseif a == "-h" or a == "--help" then flags.help = true
    else
      local all = { table.unpack(OPTIONS) }
      for _, x in ipairs(extra or {}) do all[#all + 1] = x end
      error({ usage = A.unknown_option(a, all) }, 0)
    end
    i = i + 1
  end
  if next(req.hyperparameters) == nil then req.hyperparameters = nil end
  return req, flags
end

local function money(x) return string.format("$%.2f", x) end

local function human(p, flags)
  local b = p.best
  if b.count == 0 then
    print(
      string.format("Plan: %s on %s with workflow %s — runs on CPU, no GPU: expected %s, %.2f h",
      p.request.model, p.request.dataset or "(no dataset)", p.workflow, money(b.cost.expected),
      b.duration_h.expected))
    print("  - " .. b.reasons[1])
    if flags.task and p.task then print(vibeml.json.encode(p.task)) end
    return
  end
  print(string.format("Plan: %s on %s (%.2f B parameters%s) with workflow %s (%s)", p.request.model,
    p.request.dataset or "(no dataset)", p.model_info.params_b,
    p.model_info.params_source == "name" and ", from the name" or "", p.workflow, p.method))
  print(string.format("Best: %d× %s on %s %s, %s — expected %s (%s–%s), %.1f h (%.1f–%.1f h)",
    b.count, b.gpu, b.cloud, b.region, b.spot and "spot" or "on-demand", money(b.cost.expected),
    money(b.cost.min), money(b.cost.max), b.duration_h.expected, b.duration_h.min,
      b.duration_h.max))
  print(
    string.format(
      "VRAM: %.1f GB per GPU needed (%.1f with margin) of %.1f usable; %d feasible offers",
    b.vram.need_gb, b.vram.with_margin_gb, b.vram.usable_gb, p.feasible_offers))
  print("")
  print(string.format("%-3s %-16s %-8s %-18s %-5s %9s %8s %10s %21s", "#", "GPUs", "cloud",
    "region",
    "spot", "$/h", "hours", "expected", "range"))
  for i, o in ipairs(p.options) do
    local region = o.region .. (#o.regions > 1 and string.format(" +%d", #o.regions - 1) or "")
    print(string.format("%-3d %-16s %-8s %-18s %-5s %9.2f %8.2f %10s %21s", i,
      string.format("%d× %s", o.count, o.gpu), o.cloud, region:sub(1, 18), o.spot and "yes" or "no",
      o.rate_hr, o.duration_h.expected, money(o.cost.expected),
      money(o.cost.min) .. "–" .. money(o.cost.max)))
  end
  print("")
  print("Why #1:")
  for _, r in ipairs(b.reasons) do print("  - " .. r) end
  if #p.alternatives > 0 then
    print("Other workflows (cheapest option each):")
    for _, a in ipairs(p.alternatives) do
      if a.cost then
        print(string.format("  %-8s %d× %-10s %s, %.1f h%s", a.workflow, a.count, a.gpu,
          money(a.cost.expected), a.duration_h.expected, a.chosen and "  (chosen)" or ""))
      else
        print(string.format("  %-8s no feasible option", a.workflow))
      end
    end
  end
  if #p.warnings > 0 then
    print("Warnings:")
    for _, w in ipairs(p.warnings) do print("  ! " .. w) end
  end
  if #p.assumptions > 0 then
    print("Assumptions:")
    for _, a in ipairs(p.assumptions) do print("  * " .. a) end
  end
  if flags.task and p.task then
    print("Task:")
    print(vibeml.json.encode(p.task))
  elseif p.task_note then
    print(p.task_note)
  end
end

local function main(args)
  local ok, req, flags = pcall(parse, args)
  if not ok then
    local msg = type(req) == "table" and req.usage or tostring(req)
    vibeml.eprint("vibeml plan: " .. msg)
    vibeml.eprint(USAGE)
    return 2
  end
  if flags.help then print(USAGE); return 0 end
  if not req.model then
    vibeml.eprint(
      "vibeml plan: --model is required (a Hugging Face id such as meta-llama/Llama-3.1-8B)")
    return 2
  end
  local p, err, code, info = planner.plan(req)
  if not p then
    if flags.json then
      print(vibeml.json.encode { error = { message = err, code = code,
        suggestions = info and info.suggestions or vibeml.array() } })
    end
    vibeml.eprint("vibeml plan: " .. err)
    return code == E.EINVAL and 2 or 1
  end
  if flags.json then
    print(vibeml.json.encode(p))
  else
    human(p, flags)
  end
  return 0
end

-- parse is shared with commands that take the same options (`vibeml launch`): it returns
-- req, flags or raises {usage = message}; human prints a plan for people.
return { summary = "rank GPU options for a fine-tuning job by total cost, with VRAM and time",
         usage = USAGE, main = main, parse = parse, human = human }

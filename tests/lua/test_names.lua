-- vibeml.names: the one name rule (case, aliases, plurals, vendor words) and the suggestions
-- every refusal carries; used by gpus, prefs, the planner's inputs and the workflows lookup.
local T = require "vibeml.test"
local names = require "vibeml.names"
local gpus = require "vibeml.gpus"
local prefs = require "vibeml.prefs"

local function plan(req)
  req.offline, req.no_task = true, true
  return vibeml.plan(req)
end

T.case("distance and suggestions", function()
  T.eq(names.distance("plna", "plan"), 1)  -- a swap of neighbours is one edit
  T.eq(names.distance("lsit", "list"), 1)
  T.eq(names.distance("abc", "abc"), 0)
  T.eq(names.distance("", "abc"), 3)
  T.eq(names.suggest("plna", { "plan", "launch", "jobs", "gpus" })[1], "plan")
  T.eq(names.suggest("--modle", { "--model", "--dataset", "--gpus" })[1], "--model")
  T.eq(#names.suggest("zzzzzz", { "plan", "launch" }), 0)
  T.eq(names.did_you_mean("lsit", { "list", "show", "logs", "stop" }), " (did you mean 'list'?)")
  T.eq(names.did_you_mean("xyz", { "list" }), "")
  local msg, close = names.unknown("thing", "lsit", { "list", "show" })
  T.eq(msg, "unknown thing 'lsit'. Available: list, show; did you mean list?")
  T.eq(close[1], "list")
end)

T.case("match: case, dashes, aliases, plurals, vendor words", function()
  local list = { { name = "A100-80GB", aliases = { "A100-80G" } }, { name = "H100" },
    { name = "L40S" } }
  T.eq(names.match("a100 80gb", list), "A100-80GB")
  T.eq(names.match("A100_80G", list), "A100-80GB")
  T.eq(names.match("a10080gb", list), "A100-80GB")
  T.eq(names.match("H100s", list), "H100")
  T.eq(names.match("nvidia h100", list), "H100")
  T.eq(names.match("l40s", list), "L40S") -- an S that belongs to the name is kept
  local none, close = names.match("H1000", list)
  T.eq(none, nil)
  T.eq(close[1], "H100")
end)

T.case("GPU registry: plurals, vendor names, suggestions in the refusal", function()
  T.eq(gpus.resolve("H100s"), "H100")
  T.eq(gpus.resolve("nvidia h100"), "H100")
  T.eq(gpus.resolve("a100 80gb"), "A100-80GB")
  T.eq(gpus.resolve("NVIDIA A100-80GB"), "A100-80GB")
  T.eq(gpus.resolve("rtx 4090"), "RTX4090")
  T.eq(gpus.resolve("T4s"), "T4")
  local none, msg, code, close = gpus.resolve("H1000")
  T.eq(none, nil)
  T.eq(code, "VML_EINVAL")
  T.contains(msg, "GPU type 'H1000' not supported. Available: ")
  T.contains(msg, "did you mean H100")
  T.eq(close[1], "H100")
end)

T.case("workflows: any case, methods as aliases, suggestions", function()
  local wf = require "vibeml.workflows"
  T.eq(wf.resolve("LoRA"), "lora")
  T.eq(wf.resolve("qlora"), "unsloth")
  T.eq(wf.resolve("Full"), "full")
  local none, msg = wf.resolve("lroa")
  T.eq(none, nil)
  T.contains(msg, "did you mean lora")
  local _, gmsg = wf.get("lroa")
  T.contains(gmsg, "workflow 'lroa' not found; available: ")
  T.contains(gmsg, "did you mean lora")
end)

T.case("planner inputs: cloud, workflow, preference and region names", function()
  local p =
    assert(plan { model = "org/Model-8B", cloud = "GCP", workflow = "LoRA",
    preference = "Cheapest" })
  T.eq(p.best.cloud, "gcp")
  T.eq(p.workflow, "lora")
  local q = assert(plan { model = "org/Model-8B", workflow = "qlora" })
  T.eq(q.workflow, "unsloth")
  local r =
    assert(plan { model = "org/Model-8B", gpu = "H100s", cloud = "gcp", region = "US-Central1" })
  T.eq(r.best.gpu, "H100")
  T.eq(r.best.region, "us-central1")
  local none, msg, code = plan { model = "org/Model-8B", cloud = "gpc" }
  T.eq(none, nil)
  T.eq(code, "VML_EINVAL")
  T.contains(msg, "cloud 'gpc' has no GPU offers in the catalog")
  T.contains(msg, "did you mean gcp")
  local _, rmsg, rcode = plan { model = "org/Model-8B", region = "us-central9" }
  T.eq(rcode, "VML_EINVAL")
  T.contains(rmsg, "region 'us-central9' has no GPU offers in the catalog")
  T.contains(rmsg, "us-central1")
  local _, wmsg, wcode = plan { model = "org/Model-8B", workflow = "lroa" }
  T.eq(wcode, "VML_EINVAL")
  T.contains(wmsg, "did you mean lora")
  local _, pmsg = plan { model = "org/Model-8B", preference = "cheapset" }
  T.contains(pmsg, "unknown preference 'cheapset'")
  T.contains(pmsg, "did you mean cheapest")
end)

T.case("a plan that fails because of a preference says so and how to clear it", function()
  assert(prefs.set { region = "us-central1" })
  local none, msg = plan { model = "org/Model-8B", cloud = "aws" }
  T.eq(none, nil)
  T.contains(msg, "region 'us-central1' has no GPU offers in the catalog for aws")
  T.contains(msg, "your preference region=us-central1")
  T.contains(msg, "`vibeml config set region null`")
  T.contains(msg, 'set_preferences {"region": null}')
  -- the request's own value is not blamed on the preferences
  local _, msg2 = plan { model = "org/Model-8B", cloud = "aws", region = "us-central1" }
  T.ok(not msg2:find("your preference", 1, true), msg2)
  assert(prefs.set { region = vibeml.null })
  -- a hand-edited file is read leniently; the plan then names the preference it came from
  local path = prefs.path()
  vibeml.fs.write(path, '{"gpu": "H1000"}')
  local _, msg3 = plan { model = "org/Model-8B" }
  T.contains(msg3, "GPU type 'H1000' not supported")
  T.contains(msg3, "your preference gpu=H1000")
  T.contains(msg3, "`vibeml config set gpu null`")
  vibeml.fs.remove(path)
end)

return T.run()

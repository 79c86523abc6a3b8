-- vibeml.prefs and the get_preferences / set_preferences tools.
local T = require "vibeml.test"
local prefs = require "vibeml.prefs"
local budget = require "vibeml.budget"

T.case("created with defaults when missing", function()
  T.eq(vibeml.fs.exists(prefs.path()), nil)
  local p = assert(prefs.get())
  -- backend: not chosen by the person = auto (skypilot when set up, else local; jobs.lua)
  T.eq(p.backend, "auto")
  T.eq(p.spot, true)
  T.eq(p.cloud, nil)
  T.eq(vibeml.fs.exists(prefs.path()), "file")
  T.eq(vibeml.fs.stat(prefs.path()).mode, 384) -- 0600
  local text = vibeml.fs.read(prefs.path())
  T.contains(text, '"backend": "auto"')
  T.contains(text, '"_doc"')
end)

T.case("set and get, null clears, all or nothing", function()
  T.ok(prefs.set{ cloud = "nebius", region = "eu-north1", gpu = "H100", spot = false })
  local p = prefs.get()
  T.eq(p.cloud, "nebius")
  T.eq(p.region, "eu-north1")
  T.eq(p.spot, false)
  T.ok(prefs.set{ gpu = vibeml.null })
  T.eq(prefs.get().gpu, nil)
  local before = vibeml.fs.read(prefs.path())
  local ok, msg = prefs.set{ cloud = "aws", backend = "mainframe" }
  T.eq(ok, nil)
  T.contains(msg, "'backend' cannot be 'mainframe' (allowed: auto, skypilot, local)")
  T.eq(vibeml.fs.read(prefs.path()), before)
  T.eq(prefs.get().cloud, "nebius")
  -- no temp files left beside it
  for _, name in ipairs(vibeml.fs.list(vibeml.fs.paths().config)) do
    T.ok(not name:find("tmp", 1, true), "no temp file: " .. name)
  end
end)

T.case("validation lists the allowed values", function()
  local _, m1 = prefs.set{ colour = "blue" }
  T.contains(m1,
    "unknown preference 'colour' (allowed: backend, cloud, region, gpu, spot, storage, workflow)")
  local _, m2 = prefs.set{ spot = "yes" }
  T.contains(m2, "'spot' must be a boolean")
  local _, m3 = prefs.set{ cloud = "mars" }
  T.contains(m3, "allowed: aws")
  local _, m4 = prefs.set{ region = "eu north; rm -rf" }
  T.contains(m4, "expected a region name")
  local _, m5 = prefs.set{ spot = vibeml.null }
  T.contains(m5, "cannot be null")
  local _, m6 = prefs.set{ workflow = "nope" }
  T.contains(m6, "'workflow' cannot be 'nope' (allowed: ")
  T.contains(m6, "lora")
  T.ok(prefs.set{ workflow = "lora" })
  T.ok(prefs.set{ workflow = vibeml.null })
end)

T.case("names: any case, aliases and plurals are stored canonical; refusals suggest", function()
  T.ok(prefs.set{ gpu = "H100s", cloud = "GCP", workflow = "LoRA", backend = "Local" })
  local p = prefs.get()
  T.eq(p.gpu, "H100")
  T.eq(p.cloud, "gcp")
  T.eq(p.workflow, "lora")
  T.eq(p.backend, "local")
  T.ok(prefs.set{ gpu = "nvidia a100 80gb", workflow = "qlora", cloud = "Google" })
  p = prefs.get()
  T.eq(p.gpu, "A100-80GB")
  T.eq(p.workflow, "unsloth") -- qlora is unsloth's method
  T.eq(p.cloud, "gcp")
  local before = vibeml.fs.read(prefs.path())
  local ok, m = prefs.set{ gpu = "H1000" }
  T.eq(ok, nil)
  T.contains(m, "'gpu' cannot be 'H1000'")
  T.contains(m, "did you mean H100")
  local _, m2 = prefs.set{ cloud = "gpc" }
  T.contains(m2, "did you mean gcp")
  local _, m3 = prefs.set{ workflow = "lroa" }
  T.contains(m3, "did you mean lora")
  local _, m4 = prefs.set{ regoin = "x" }
  T.contains(m4, "did you mean region")
  T.eq(vibeml.fs.read(prefs.path()), before) -- refusals change nothing
  T.ok(prefs.set{ gpu = vibeml.null, workflow = vibeml.null, cloud = vibeml.null,
    backend = vibeml.null })
  T.eq(prefs.get().backend, "auto") -- null is auto: the person no longer chooses
end)

T.case("region: checked against the catalog when set, with the closest regions", function()
  local regions = {}
  for _, o in ipairs(require("vibeml.catalog").offers()) do regions[o.region] = true end
  T.ok(regions["us-central1"], "the shipped catalog knows us-central1")
  local ok, m = prefs.set{ region = "us-central9" }
  T.eq(ok, nil)
  T.contains(m, "'region' cannot be 'us-central9'")
  T.contains(m, "did you mean")
  T.contains(m, "us-central1")
  T.ok(prefs.set{ region = "US-Central1" })
  T.eq(prefs.get().region, "us-central1")
  T.ok(prefs.set{ region = vibeml.null })
end)

T.case("a hand-edited file is validated on every load", function()
  local path = prefs.path()
  vibeml.fs.write(path, '{"_note": "mine", "backend": "local", "spot": true, "gpu": "L40S"}')
  local p = assert(prefs.get())
  T.eq(p.backend, "local")
  T.eq(p.gpu, "L40S")
  T.ok(prefs.set{ cloud = "gcp" })
  T.contains(vibeml.fs.read(path), '"_note": "mine"')     -- comments survive a set
  vibeml.fs.write(path, '{"backend": "local", "budget": 5, "cloud": 3}')
  local none, msg = prefs.get()
  T.eq(none, nil)
  T.contains(msg, path)
  T.contains(msg, "'cloud' must be a string")
  T.contains(msg, "money limit")
  vibeml.fs.write(path, '{"backend": ')
  local _, msg2 = prefs.get()
  T.contains(msg2, "not valid JSON")
  vibeml.fs.remove(path)
end)

T.case("money limits: shown, never set through prefs or MCP", function()
  T.ok(budget.set_limits{ per_job = 25, monthly = 300 })
  local p = prefs.get()
  T.eq(p.per_job_cap, 25)
  T.eq(p.monthly_budget, 300)
  local ok, msg = prefs.set{ per_job_cap = 1000 }
  T.eq(ok, nil)
  T.contains(msg, "vibeml budget set")
  local setp = require "vibeml.tools.set_preferences"
  local r, m = setp.handler({ per_job_cap = 1000, cloud = "aws" }, {})
  T.eq(r, nil)
  T.contains(m, "vibeml budget set")
  T.eq(budget.limits().per_job, 25)
  T.eq(prefs.get().cloud, nil)                      -- nothing changed
  local r2, m2 = setp.handler({ monthly_budget = vibeml.null }, {})
  T.eq(r2, nil)
  T.contains(m2, "Money limits cannot be changed by an assistant")
  T.eq(budget.limits().monthly, 300)
end)

T.case("tools: set_preferences then get_preferences", function()
  local setp = require "vibeml.tools.set_preferences"
  local getp = require "vibeml.tools.get_preferences"
  local r = assert(setp.handler({ cloud = "nebius", spot = true }, {}))
  T.eq(r.preferences.cloud, "nebius")
  local g = getp.handler({}, {})
  T.eq(g.preferences.cloud, "nebius")
  T.ok(vibeml.isnull(g.preferences.gpu))
  T.eq(g.money.per_job_cap, 25)
  T.contains(vibeml.json.encode(g), '"gpu":null')
  local bad, msg = setp.handler({ backend = "ssh" }, {})
  T.eq(bad, nil)
  T.contains(msg, "allowed: auto, skypilot, local")
  T.eq(getp.annotations.readOnlyHint, true)
  T.ok(not setp.annotations.readOnlyHint, "not read-only (false is the default when omitted)")
  T.eq(setp.inputSchema.additionalProperties, false)
end)

return T.run()

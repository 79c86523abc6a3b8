-- The planner honours the user's preferences and warns about the money limits.
local T = require "vibeml.test"
local prefs = require "vibeml.prefs"
local budget = require "vibeml.budget"

local function plan(req)
  req.offline, req.no_task = true, true
  return assert(vibeml.plan(req))
end

T.case("defaults change nothing", function()
  local p = plan { model = "org/Model-8B" }
  for _, a in ipairs(p.assumptions) do T.ok(not a:find("preferences", 1, true), a) end
end)

T.case("cloud and spot=false preferences narrow the plan and are stated", function()
  assert(prefs.set { cloud = "nebius", spot = false })
  local p = plan { model = "org/Model-8B" }
  for _, o in ipairs(p.options) do T.eq(o.cloud, "nebius"); T.eq(o.spot, false) end
  local said = false
  for _, a in ipairs(p.assumptions) do
    if a:find("from your preferences: cloud nebius, spot false", 1, true) then said = true end
  end
  T.ok(said, "preferences stated")
end)

T.case("the request wins over preferences; ignore_preferences skips them", function()
  local p = plan { model = "org/Model-8B", cloud = "gcp" }
  T.eq(p.best.cloud, "gcp")
  local q = plan { model = "org/Model-8B", ignore_preferences = true }
  local spot_seen = false
  for _, o in ipairs(q.options) do if o.spot then spot_seen = true end end
  T.ok(spot_seen, "spot allowed again")
  assert(prefs.set { cloud = vibeml.null, spot = true })
end)

T.case("per-job cap and monthly budget produce warnings", function()
  assert(budget.set_limits { per_job = 0.05, monthly = 100 })
  local p = plan { model = "org/Model-8B" }
  local warned = false
  for _, w in ipairs(p.warnings) do
    if w:find("over your per-job cap of $0.05", 1, true) then warned = true end
  end
  T.ok(warned, "per-job cap warning")
end)

return T.run()

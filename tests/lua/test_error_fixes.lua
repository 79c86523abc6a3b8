-- Every failure carries at least one concrete fix: each shipped error rule, with or without the
-- job's details, and the fallback for a failure no rule recognises.
local T = require "vibeml.test"
local errors = require "vibeml.jobs.errors"

local function concrete(f, where)
  T.ok(type(f.title) == "string" and f.title ~= "", where .. ": a title")
  T.ok((type(f.tool) == "string" and type(f.arguments) == "table") or type(f.command) == "string",
    where .. ": a tool call with arguments or a command")
end

T.case("every shipped rule gives at least one concrete fix", function()
  local n = 0
  for _, name in ipairs({ "skypilot", "training" }) do
    local set = errors.rulesets()[name]
    T.ok(set, "ruleset " .. name .. " loaded")
    for _, r in ipairs(set.rules) do
      for _,
        ctx in ipairs({ {},
        { job_id = "j1", model = "org/M-8B", dataset = "org/d", cloud = "aws", spot = true } }) do
        local fixes = errors.fixes_of(r, ctx)
        T.ok(#fixes >= 1, name .. "." .. r.id .. " has a fix"
          .. (ctx.job_id and " (with a job)" or ""))
        for i, f in ipairs(fixes) do concrete(f, name .. "." .. r.id .. " fix " .. i) end
      end
      n = n + 1
    end
  end
  T.ok(n >= 30, "all rules checked: " .. n)
end)

T.case("every category has a fallback fix", function()
  for c in pairs(errors.CATEGORIES) do
    for _, ctx in ipairs({ {}, { job_id = "j1", model = "org/M-8B" } }) do
      local f = errors.fallback(c, ctx)
      T.ok(#f >= 1, c .. " has a fallback")
      for i, x in ipairs(f) do concrete(x, c .. " fallback " .. i) end
    end
  end
end)

T.case("SkyPilot missing, too old, no cloud: classified with a local-backend fix", function()
  local c = errors.classify("SkyPilot's `sky` command was not found (set VIBEML_SKY or install "
    .. "SkyPilot >= 0.12: pip install \"skypilot[nebius]\"), or use the local backend",
      { job_id = "j1" })
  T.eq(c.rule, "sky_missing")
  T.eq(c.fixes[1].tool, "launch_training")
  T.eq(c.fixes[1].arguments.backend, "local")
  T.contains(c.fixes[2].command, "sky check")
  T.eq(errors.classify("SkyPilot 0.11.2 is too old: VibeML needs >= 0.12 (JSON output)", {}).rule,
    "sky_too_old")
  T.eq(errors.classify("no cloud is enabled in SkyPilot. Set one up", {}).rule, "sky_no_cloud")
  -- a rule whose own fixes need details it does not have falls back to its category's
  local r = errors.classify("The user job failed (FAILED) Job 3: FAILED\n", {})
  T.ok(#r.fixes >= 1)
  local s =
    require("vibeml.jobs.skypilot").failure({ err = "something nobody knows", out = "", code = 3 },
    { job_id = "j9" })
  T.ok(#s.fixes >= 1, "an unknown sky failure still has a fix")
  T.eq(s.fixes[1].arguments.job_id, "j9")
end)

return T.run()

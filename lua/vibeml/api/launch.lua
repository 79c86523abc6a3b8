-- vibeml.launch(plan_or_request [, opts]) -> Job | nil, message, code  (see vibeml.jobs.launch)
local jobs = require "vibeml.jobs"
return function(plan, opts)
  if type(plan) == "table" and not plan.task and not plan.best then
    local ok, planner = pcall(require, "vibeml.planner")
    if ok and type(planner) == "table" then
      local p, msg, code = planner.plan(plan)
      if not p then return nil, msg, code end
      plan = p
    end
  end
  return jobs.launch(plan, opts)
end

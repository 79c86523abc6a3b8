-- vibeml.plan{ model=, dataset=, workflow=, gpu=, gpus=, cloud=, region=, spot=, max_cost=,
--              deadline_h=, epochs=, max_steps=, hyperparameters= } -> plan | nil, message, code, info
-- See vibeml.planner (contract 3) for the plan's fields.
local planner = require "vibeml.planner"
return function(req) return planner.plan(req) end

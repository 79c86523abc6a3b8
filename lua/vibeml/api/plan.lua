-- vibeml.plan{ model=, dataset=, workflow=, gpu=, gpus=, cloud=, region=, spot=, max_cost=,
--              deadline_h=, epochs=, max_steps=, hyperparameters= } -> plan | nil, message, code,
--                info
-- The plan's fields are listed at the top of lua/vibeml/planner.lua.
local planner = require "vibeml.planner"
return function(req) return planner.plan(req) end

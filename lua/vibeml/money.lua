-- vibeml.money — the old name of vibeml.budget, kept only while lua/vibeml/planner.lua still
-- requires it; new code requires "vibeml.budget". Delete this file with that require.
return require "vibeml.budget"

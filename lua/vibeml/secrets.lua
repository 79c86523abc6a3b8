-- vibeml.secrets — the old name of vibeml.vault, kept only while lua/vibeml/planner.lua still
-- requires it; new code requires "vibeml.vault". Delete this file with that require.
return require "vibeml.vault"

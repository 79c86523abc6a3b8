-- quickstart.lua — the first script to run: `vibeml run examples/quickstart.lua`.
-- Shows the vibeml Lua API on embedded defaults; no cloud account is needed.
local vml = require "vibeml"

print(("VibeML %s"):format(vml.version))
local paths = vml.fs.paths()
print("state folder:  " .. paths.state)
print("config folder: " .. paths.config)

-- vibeml.jobs{state=, backend=, limit=, offset=} -> { status, ... }, total
return function(filter) return require("vibeml.jobs").list(filter) end

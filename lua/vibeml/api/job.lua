-- vibeml.job(id) -> Job | nil, message, code (job:status(), job:wait{timeout=}, job:logs{tail=},
-- job:stop())
return require("vibeml.jobs").get

-- HF_TOKEN from the environment: used for a private repo and a gated file check.
local T = require "vibeml.test"
local hf = require "vibeml.hf"
T.case("HF_TOKEN is honoured", function()
  local m = assert(hf.model_info("private-org/secret-model-3B", { no_cache = true }))
  T.eq(m.private, true)
  local g = assert(hf.model_info("meta-llama/Llama-3.1-8B", { no_cache = true }))
  T.eq(g.access, "granted")
  print(vibeml.json.encode(g))
end)
return T.run()

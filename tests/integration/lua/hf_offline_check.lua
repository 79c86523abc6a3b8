-- The Hub cannot be reached (HF_ENDPOINT points at a closed port): sizes come from the name.
local T = require "vibeml.test"
local planner = require "vibeml.planner"
T.case("plan falls back to the size in the name and says so", function()
  local p = assert(planner.plan { model = "meta-llama/Llama-3.1-70B", dataset = "yahma/alpaca-cleaned",
                                  no_task = true })
  T.eq(p.model_info.params_b, 70)
  T.eq(p.model_info.params_source, "name")
  T.contains(p.assumptions[1], "Hugging Face not reachable")
  T.contains(p.assumptions[1], "assumed 70 B parameters from the model name")
  T.eq(p.dataset_info.rows, 51760) -- a known dataset's size
end)
T.case("no size in the name: a clear error", function()
  local p, msg = planner.plan { model = "openai-community/gpt2" }
  T.eq(p, nil)
  T.contains(msg, "cannot tell the size of 'openai-community/gpt2'")
  T.contains(msg, "params_b")
end)
return T.run()

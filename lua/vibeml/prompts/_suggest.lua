-- Shared argument completions for the prompts: workflow names from the workflow plugins when
-- they are loaded (issue 4), plus widely used open models and instruction datasets as starting
-- points (the person may type any Hugging Face id).
local M = {}

M.models = {
  "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.1-8B",
  "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.3-70B-Instruct",
  "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B-Instruct",
  "Qwen/Qwen2.5-14B", "Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-72B",
  "mistralai/Mistral-7B-v0.3", "mistralai/Mistral-Nemo-Base-2407",
  "google/gemma-2-2b", "google/gemma-2-9b", "google/gemma-2-27b",
  "microsoft/Phi-3.5-mini-instruct", "HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-1.7B",
}

M.datasets = {
  "yahma/alpaca-cleaned", "tatsu-lab/alpaca", "databricks/databricks-dolly-15k",
  "OpenAssistant/oasst1", "HuggingFaceH4/ultrachat_200k", "HuggingFaceH4/no_robots",
  "teknium/OpenHermes-2.5", "Open-Orca/SlimOrca", "timdettmers/openassistant-guanaco",
  "mlabonne/FineTome-100k",
}

function M.workflows()
  local names = {}
  local ok, wf = pcall(require, "vibeml.workflows")
  if ok and type(wf) == "table" and type(wf.list) == "function" then
    local okl, list = pcall(wf.list)
    if okl and type(list) == "table" then
      for _, w in ipairs(list) do
        if type(w.name) == "string" then names[#names + 1] = w.name end
      end
    end
  end
  if #names == 0 then names = { "qlora", "lora", "full", "smoke" } end
  table.sort(names)
  return names
end

return M

-- fine_tune — guides the assistant from a goal to a checked, priced plan and a launch.
local suggest = require "vibeml.prompts._suggest"
local E = vibeml.E

return {
  name = "fine_tune",
  title = "Fine-tune a model",
  description = "Walk from a fine-tuning goal to a checked set-up, a priced plan the person "
    .. "approves, a launch and status polling.",
  -- listed only while these tools exist (they land with the planner and jobs issues)
  requires_tools = { "check_setup", "plan_training", "launch_training", "get_job_status" },
  arguments = {
    { name = "model", description = "base model, a Hugging Face id (e.g. meta-llama/Llama-3.2-1B)",
      required = true, complete = function() return suggest.models end },
    { name = "dataset", description = "training data, a Hugging Face dataset id",
      required = true, complete = function() return suggest.datasets end },
    { name = "goal", description = "what the fine-tuned model should do better (optional)" },
    { name = "workflow", description = "method: one of the workflows (optional; the planner picks)",
      complete = function() return suggest.workflows() end },
    { name = "max_cost",
      description = "most the person wants to spend on this run, in USD (optional)" },
  },
  get = function(a)
    if a.max_cost and a.max_cost ~= "" then
      local n = tonumber((a.max_cost:gsub("^%s*%$", ""):gsub("%s*$", "")))
      if not n or n <= 0 or n ~= n or n == math.huge then
        error({ code = E.EINVAL, message = "params.arguments.max_cost: '" .. a.max_cost
          .. "' is not an amount in USD; give a number such as 5 or 12.50" }, 0)
      end
      a.max_cost = string.format("%.2f", n)
    end
    local lines = {
      string.format("I want to fine-tune %s on the dataset %s.", a.model, a.dataset),
    }
    if a.goal and a.goal ~= "" then lines[#lines + 1] = "Goal: " .. a.goal .. "." end
    if a.workflow and a.workflow ~= "" then
      lines[#lines + 1] = "Use the " .. a.workflow .. " workflow."
    end
    if a.max_cost and a.max_cost ~= "" then
      lines[#lines + 1] = "Do not spend more than $" .. a.max_cost .. " on this run."
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Please:"
    lines[#lines + 1] = "1. Call check_setup and tell me about anything missing, with the fix. "
      .. "If a secret is missing, tell me to run `vibeml secrets set NAME` in a terminal; do not "
      .. "ask me for its value."
    lines[#lines + 1] = "2. Call plan_training with the model and dataset"
      .. ((a.workflow and a.workflow ~= "") and (", workflow " .. a.workflow) or "")
      .. ((a.max_cost and a.max_cost ~= "") and (" and max_cost " .. a.max_cost) or "")
      .. ". Show me the best option and two alternatives: GPU type and count, cloud, spot or "
      .. "on-demand, expected duration and the cost range, plus every warning."
    lines[#lines + 1] =
      "3. Wait for my approval, then call launch_training with the plan_id of the plan I chose."
    lines[#lines + 1] =
      "4. Follow the job with get_job_status (wait_s 60 answers when it changes) and report "
      .. "progress, loss and cost so far; show get_job_logs when something goes wrong."
    return table.concat(lines, "\n"), "Fine-tune " .. a.model .. " on " .. a.dataset
  end,
}

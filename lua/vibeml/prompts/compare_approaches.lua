-- compare_approaches — asks the assistant to price and compare fine-tuning methods for one
-- model and dataset before choosing.
local suggest = require "vibeml.prompts._suggest"

return {
  name = "compare_approaches",
  title = "Compare fine-tuning approaches",
  description = "Compare methods (QLoRA, LoRA, full fine-tuning) and GPU choices for one model "
    .. "and dataset by VRAM, time and cost, then recommend one.",
  requires_tools = { "plan_training" },
  arguments = {
    { name = "model", description = "base model, a Hugging Face id", required = true,
      complete = function() return suggest.models end },
    { name = "dataset", description = "training data, a Hugging Face dataset id", required = true,
      complete = function() return suggest.datasets end },
    { name = "priority", description = "what matters most: cost, speed or quality (optional)",
      complete = function() return { "cost", "quality", "speed" } end },
  },
  get = function(a)
    return table.concat({
      string.format("Compare ways to fine-tune %s on %s.", a.model, a.dataset),
      "Call plan_training once with the model and dataset: its answer has the best option for "
        .. "the chosen workflow and, in alternatives, the cheapest plan of each other workflow "
        .. "that fits. Call plan_training again only for a GPU-trained workflow you want priced "
        .. "differently (a gpu, spot or deadline). Collect VRAM needed, the best GPU option, "
        .. "expected duration and the cost range; get_workflow says what each method trades off.",
      "Put the results in one table, then recommend one approach"
        .. ((a.priority and a.priority ~= "") and (", optimising for " .. a.priority) or "")
        .. ", and say why. Do not launch anything; I will decide (launch_training takes the "
        .. "plan_id of the plan I choose).",
    }, "\n"), "Compare approaches for " .. a.model
  end,
}

-- vibeml://workflows — the workflows as JSON (the descriptors, data only). Updated (with a
-- resource_updated event from vibeml.plugins) whenever a workflow plugin is added, changed or
-- removed.
local wf = require "vibeml.workflows"

return {
  uri = "vibeml://workflows",
  name = "workflows",
  title = "Training workflows",
  description = "Every workflow VibeML can launch with its method, model sizes, GPU needs, "
    .. "hyperparameters (defaults and ranges), secrets, typical time and cost.",
  mimeType = "application/json",
  read = function(uri, params)
    local list = vibeml.array({})
    for _, d in ipairs(wf.list()) do
      d.path = nil
      list[#list + 1] = d
    end
    return vibeml.json.encode({ workflows = list }, { sort_keys = true })
  end,
}

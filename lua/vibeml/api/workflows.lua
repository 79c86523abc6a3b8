-- vibeml.workflows — in scripts: vibeml.workflows() lists the workflows (descriptors, data only);
-- vibeml.workflows.get(name), .validate(name, params), .build(name, p), .select(req),
-- .encode_task(task) are those of require "vibeml.workflows".
local wf = require "vibeml.workflows"

return setmetatable({}, {
  __index = wf,
  __call = function(_, filter)
    local out = {}
    for _, d in ipairs(wf.list()) do
      if not filter or not filter.method or filter.method == d.method then out[#out + 1] = d end
    end
    return out
  end,
})

-- vibeml.mcp.toolkit — definitions the built-in tools share, so that tools/list stays short
-- (every character of it is in every conversation) and plan_training / launch_training take
-- exactly the same planning inputs.
local M = {}

local function s(t, d, extra)
  local x = { type = t, description = d }
  for k, v in pairs(extra or {}) do x[k] = v end
  return x
end

-- The planning inputs (plan_training; launch_training takes them too).
function M.plan_inputs()
  return {
    model = s("string", "Hugging Face model id", { minLength = 1, maxLength = 200 }),
    dataset = s("string", "Hugging Face dataset id", { minLength = 1, maxLength = 200 }),
    workflow = s("string", "see list_workflows; chosen when absent",
      { minLength = 1, maxLength = 64 }),
    preference = { type = "string", enum = { "cheapest", "balanced", "best_quality" } },
    gpu = s("string", "e.g. H100, A100-80GB", { maxLength = 64 }),
    gpus = { type = "integer", minimum = 1, maximum = 512 },
    cloud = { type = "string", maxLength = 32 },
    region = { type = "string", maxLength = 64 },
    spot = { type = "boolean" },
    max_cost = s("number", "USD; also the job's cap", { exclusiveMinimum = 0 }),
    deadline_h = { type = "number", exclusiveMinimum = 0 },
    epochs = { type = "number", exclusiveMinimum = 0, maximum = 100 },
    max_steps = { type = "integer", minimum = 1 },
    hyperparameters = s("object", "see get_workflow"),
    params_b = s("number", "model size, billions",
      { exclusiveMinimum = 0, maximum = 10000 }),
    offline = s("boolean", "no Hugging Face lookups"),
    limit = { type = "integer", minimum = 1, maximum = 50, default = 8 },
  }
end

M.PLAN_FIELDS = { "model", "dataset", "workflow", "preference", "gpu", "gpus", "cloud", "region",
  "spot", "max_cost", "deadline_h", "epochs", "max_steps", "hyperparameters", "params_b",
  "offline", "limit" }

-- A short output schema: the fields every answer has (summary and next always). The fields'
-- types are in the tools' handlers; a full schema per tool would double tools/list, so the
-- fields table each tool passes is for its reader only.
function M.out(_fields, required)
  local req = { "summary", "next" }
  for _, k in ipairs(required or {}) do req[#req + 1] = k end
  return { type = "object", required = req }
end

-- Annotations with only the values that differ from the spec's defaults.
M.READ = { readOnlyHint = true }
M.READ_LOCAL = { readOnlyHint = true, openWorldHint = false }

-- Texts shared with the CLI name commands; over MCP they name the tool that does the same.
local TOOL_SPEAK = {
  { "list them with `vibeml jobs list`", "list them with list_jobs" },
  { "`vibeml config set storage s3://BUCKET`", "storage: \"s3://BUCKET\" in launch_training, or "
    .. "the person's `vibeml config set storage s3://BUCKET`" },
  { "`vibeml config set KEY VALUE`", "set_preferences" },
}
function M.tool_speak(text)
  if type(text) ~= "string" then return text end
  for _, r in ipairs(TOOL_SPEAK) do
    local a, b = text:find(r[1], 1, true)
    while a do
      text = text:sub(1, a - 1) .. r[2] .. text:sub(b + 1)
      a, b = text:find(r[1], a + #r[2], true)
    end
  end
  -- "no job 'x'" alone leaves a model guessing: say where the ids are
  if text:match("^no job '[^']*'$") then text = text .. " (list_jobs shows the job ids)" end
  -- a NUL byte would end the text in C: show it
  return (text:gsub("\0", "\\0"))
end

function M.call(tool, arguments)
  return { tool = tool, arguments = arguments or vibeml.object{} }
end

return M

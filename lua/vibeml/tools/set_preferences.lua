-- MCP tool set_preferences: change the person's defaults. Money limits are refused here on
-- purpose: spending beyond the limit needs the person, not the model.
local prefs = require "vibeml.prefs"

local str_or_null = function(desc) return { type = { "string", "null" }, description = desc } end
local money_field = { type = { "number", "string", "null" } } -- refused with the reason

return {
  name = "set_preferences",
  title = "Set preferences",
  description =
    "Changes the person's defaults (given fields; null clears). Only when the person asks. "
    .. "Money limits are the person's: `vibeml budget set` in a terminal.",
  inputSchema = {
    type = "object",
    properties = {
      backend = { type = "string", enum = { "skypilot", "local" } },
      cloud = str_or_null(), region = str_or_null(), gpu = str_or_null(),
      spot = { type = "boolean" }, workflow = str_or_null(),
      storage = str_or_null(), -- a bucket: s3://b, gs://b or a name
      per_job_cap = money_field,
      monthly_budget = money_field,
    },
    additionalProperties = false,
  },
  outputSchema = require("vibeml.tools.get_preferences").outputSchema,
  annotations = { readOnlyHint = false, idempotentHint = true, openWorldHint = false,
    destructiveHint = false },
  handler = function(args, ctx)
    args = args or {}
    for k in pairs(args) do
      if prefs.MONEY_KEYS[k] then
        return nil, "Money limits cannot be changed by an assistant: spending limits need the "
          .. "person. Ask them to run `vibeml budget set --per-job USD` or `vibeml budget set "
          .. "--monthly USD` in a terminal. Nothing was changed."
      end
    end
    if next(args) == nil then return nil, "give at least one preference to change" end
    local ok, msg = prefs.set(args)
    if not ok then return nil, msg .. ". Nothing was changed." end
    return require("vibeml.tools.get_preferences").snapshot()
  end,
}

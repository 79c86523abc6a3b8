-- MCP tool set_preferences: change the person's defaults. Money limits are refused here on
-- purpose: spending beyond the limit needs the person, not the model.
local prefs = require "vibeml.prefs"

local str_or_null = function(desc) return { type = { "string", "null" }, description = desc } end
local money_field = { type = { "number", "string", "null" },
  description = "Not settable here: money limits are changed only by the person with "
    .. "`vibeml budget set`." }

return {
  name = "set_preferences",
  title = "Set preferences",
  description = "Change the person's default choices (only the fields given; null clears one): "
    .. "backend (skypilot|local), cloud, region, gpu, spot, workflow. Only do this when the "
    .. "person asks. Money limits (per_job_cap, monthly_budget) cannot be set by an assistant; "
    .. "tell the person to run `vibeml budget set --monthly USD --per-job USD`.",
  inputSchema = {
    type = "object",
    properties = {
      backend = { type = "string", enum = { "skypilot", "local" },
        description = "skypilot (cloud GPUs) or local (this machine)" },
      cloud = str_or_null("a SkyPilot cloud name, e.g. nebius, aws, gcp; null = any"),
      region = str_or_null("e.g. eu-north1; null = any"),
      gpu = str_or_null("e.g. H100, A100-80GB, L40S; null = the planner chooses"),
      spot = { type = "boolean", description = "prefer spot instances" },
      workflow = str_or_null("e.g. lora, qlora, unsloth; null = the planner chooses"),
      storage = str_or_null("bucket for cloud jobs' checkpoints and outputs, e.g. s3://my-bucket; null = one named after the SkyPilot user"),
      per_job_cap = money_field,
      monthly_budget = money_field,
    },
    additionalProperties = false,
  },
  outputSchema = require("vibeml.tools.get_preferences").outputSchema,
  annotations = { readOnlyHint = false, destructiveHint = false, idempotentHint = true,
    openWorldHint = false },
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

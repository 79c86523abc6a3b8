-- MCP tool get_budget: this month's limits, spent, reserved, remaining, per-job breakdown and
-- warnings. Read-only; money limits are changed only by a person with `vibeml budget set`.
local kit = require "vibeml.mcp.toolkit"
local budget = require "vibeml.budget"
local function usd_text(v)
  if v == nil or vibeml.isnull(v) then return "none" end
  return budget.format(v)
end

return {
  name = "get_budget",
  title = "Get budget",
  description = "This month's budget, spent, reserved, remaining, per-job cap, each job's cost and "
    .. "warnings (USD). Only the person changes limits, in a terminal.",
  inputSchema = {
    type = "object",
    properties = {
      month = { type = "string", pattern = "^[0-9]{4}-[0-9]{2}$", description = "default: now" },
    },
    additionalProperties = false,
  },
  outputSchema = kit.out({ month = "string", remaining = { type = { "number", "null" } },
    per_job_cap = { type = { "number", "null" } }, warnings = "array" }, { "month", "warnings" }),
  annotations = kit.READ_LOCAL,
  handler = function(args, ctx)
    local m = args and args.month
    if m and not (tonumber(m:sub(6, 7)) >= 1 and tonumber(m:sub(6, 7)) <= 12) then
      return nil, "month: '" .. m
        .. "' is not a month; give YYYY-MM with MM 01-12, or leave it out "
        .. "for the current month"
    end
    local st, msg = budget.status_json(m or nil)
    if not st then return nil, msg end
    local lines = {
      string.format("Budget for %s: limit %s, spent %s, reserved %s, remaining %s; per-job cap %s.",
        st.month, usd_text(st.monthly_limit), usd_text(st.spent), usd_text(st.reserved),
        usd_text(st.remaining), usd_text(st.per_job_cap)),
    }
    for _, w in ipairs(st.warnings) do lines[#lines + 1] = "Warning: " .. w end
    return st, table.concat(lines, "\n")
  end,
}

-- MCP tool get_budget: this month's limits, spent, reserved, remaining, per-job breakdown and
-- warnings. Read-only; money limits are changed only by a person with `vibeml budget set`.
local function money_fmt(v)
  if v == nil or vibeml.isnull(v) then return "none" end
  return vibeml.ledger.format_usd(v)
end

local usd = { type = { "number", "null" } }

return {
  name = "get_budget",
  title = "Get budget",
  description = "This month's spending limits and ledger: the monthly budget (calendar month, "
    .. "UTC), what finished jobs cost (spent), what running or launching jobs hold (reserved), "
    .. "what remains, the per-job cap, each job's reservation/accrued/final cost, and warnings "
    .. "(80% reached, over budget, no budget set). Amounts are USD. Call this before launching "
    .. "to check that a plan's maximum cost fits. Limits can only be changed by the person, "
    .. "with `vibeml budget set --monthly USD --per-job USD` in a terminal.",
  inputSchema = {
    type = "object",
    properties = {
      month = { type = "string", pattern = "^[0-9]{4}-[0-9]{2}$",
        description = "YYYY-MM (UTC); default the current month" },
    },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      month = { type = "string" },
      monthly_limit = usd, spent = { type = "number" }, reserved = { type = "number" },
      remaining = usd, used_percent = usd, per_job_cap = usd,
      jobs = { type = "array", items = { type = "object" } },
      warnings = { type = "array", items = { type = "string" } },
    },
    required = { "month", "spent", "reserved", "jobs", "warnings" },
  },
  annotations = { readOnlyHint = true, destructiveHint = false, idempotentHint = true,
    openWorldHint = false },
  handler = function(args, ctx)
    local st, msg = vibeml.ledger.status(args and args.month or nil)
    if not st then return nil, msg end
    local lines = {
      string.format("Budget for %s: limit %s, spent %s, reserved %s, remaining %s; per-job cap %s.",
        st.month, money_fmt(st.monthly_limit), money_fmt(st.spent), money_fmt(st.reserved),
        money_fmt(st.remaining), money_fmt(st.per_job_cap)),
    }
    for _, w in ipairs(st.warnings) do lines[#lines + 1] = "Warning: " .. w end
    return st, table.concat(lines, "\n")
  end,
}

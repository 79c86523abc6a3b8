-- vibeml.budget — budgets that no assistant can overspend.
-- The ledger itself is C (core/budget.c, exact micro-dollars in SQLite, bound as vibeml.budget);
-- it returns numbers and codes. This module is the policy around it: who may go over the limit
-- (a person, through MCP elicitation or the CLI), the warning threshold (M.WARN_PERCENT of the
-- month's budget), and every word a person reads (refusals, warnings).
--
--   local budget = require "vibeml.budget"
--   budget.reserve{ job_id=, amount=, cap= }  -> true, info | nil, message, "VML_EMONEY", info
--        amount: the plan's max estimate (USD); cap: the job's own cap. The reservation is the
--        effective cap (min of the job's cap and the per-job cap) when there is one, else amount.
--   budget.authorize{ job_id=, amount=, cap=, ctx=, confirm= } -> true, info | nil, msg, code, info
--        reserve, and when that is over budget: ask the person — ctx:elicit (MCP clients that
--        support elicitation) or confirm(question) -> bool (a terminal prompt from the CLI) —
--        and reserve anyway only on an explicit yes, recorded as an override in the ledger.
--        Without a way to ask, refused with the numbers and the command that raises the budget.
--   budget.set_cap{ job_id=, cap=, ctx=, confirm= } -> true, info | nil, message, code, info
--        a running job's new cap, reserved in the ledger (lower: not below its cost so far).
--        A raise over the month's budget or the per-job cap is asked like authorize (a yes is
--        recorded as an override), else refused with the numbers and the fix.
--   budget.accrue(job_id, cost_so_far) -> over_cap, cap      (cost in USD, monotonic)
--   budget.over_cap(job_id, accrued) -> bool, cap            (accrue + "has it reached its cap?")
--   budget.settle(job_id, final_cost) -> true                (idempotent; never drops a charge)
--   budget.release(job_id) -> true                           (launch failed: charge what accrued)
--   budget.status([month]) -> { month=, monthly_limit=, spent=, reserved=, remaining=,
--        used_percent=, per_job_cap=, jobs={...}, warnings={...} }   (absent limits are nil)
--   budget.status_json([month]) -> the same with absent values as vibeml.null (for JSON output)
--   budget.set_limits{ monthly=USD|false, per_job=USD|false }   (CLI only: not exposed over MCP)
--   budget.format(usd) -> "$12.50"
--   budget.effective_cap(own_cap) -> USD | nil       (min of the job's cap and the per-job cap)
--   budget.confirm_cap{cap=, expected=, ctx=, confirm=} -> true | nil, msg, "VML_EMONEY", info
--        a cap below the expected cost: asked (elicitation / confirm) or refused with numbers
local E = vibeml.E
local M = {}
local L = vibeml.budget

-- A warning goes out when a month's spending and reservations reach this share of its budget.
M.WARN_PERCENT = 80
local events = require "vibeml.events"

local function nulls_to_nil(t)
  if type(t) ~= "table" then return t end
  for k, v in pairs(t) do
    if vibeml.isnull(v) then t[k] = nil
    elseif type(v) == "table" then nulls_to_nil(v) end
  end
  return t
end

M.format = L.format_usd
M.month = L.month

-- Amounts from the ledger are USD numbers exact to the micro-dollar: compare them as integers.
local function micros(usd) return math.floor(usd * 1e6 + 0.5) end

-- The whole percent of limit that used has reached (100 for a limit of 0).
local function percent(used, limit)
  local l = micros(limit)
  return l > 0 and micros(used) * 100 // l or 100
end

local function reached_warning(used, limit)
  return limit ~= nil and micros(used) * 100 >= micros(limit) * M.WARN_PERCENT
end

local function warn(info)
  if not (info and info.warn and info.limit) then return end
  local pct = percent(info.used + info.needed, info.limit)
  local msg = string.format("Budget warning: %s of this month's %s budget is now spent or "
    .. "reserved (%d%%).", M.format(info.used + info.needed), M.format(info.limit), pct)
  events.emit("log", "warning", msg)
  events.emit("budget_warning", { month = info.month, limit = info.limit,
    used = info.used + info.needed, percent = pct, message = msg })
end

local function check_args(a, fname)
  if type(a) ~= "table" then error(fname .. "{job_id=, amount=, cap=}: expected a table", 3) end
  if type(a.job_id) ~= "string" or a.job_id == "" then
    error(fname .. ": job_id (a string) is required", 3)
  end
  if a.amount == nil and a.cap == nil then
    error(fname .. ": amount (the plan's max estimate in USD) or cap is required", 3)
  end
end

-- The refusal of a reservation over the month's budget: the numbers and what to do.
local function refusal(info)
  local remaining = math.max(info.remaining or 0, 0)
  -- the limit that would have let it through, rounded up to whole dollars
  local suggest = (micros(info.used + info.needed) + 999999) // 1000000
  return string.format("Estimated %s exceeds the remaining %s of this month's budget (%s for %s; "
    .. "%s already spent or reserved). Raise it with `vibeml budget set --monthly %d`, or choose "
    .. "a cheaper plan (spot instances, a smaller GPU, fewer steps).", M.format(info.needed),
    M.format(remaining), M.format(info.limit), info.month, M.format(info.used), suggest)
end

-- The ledger's reserve with this module's words: the refusal's message, and info.warn when the
-- month reaches M.WARN_PERCENT of its budget.
local function ledger_reserve(a, approved_by)
  local ok, info_or_msg, code, info = L.reserve(a.job_id, a.amount or a.cap, a.cap, approved_by)
  if not ok then
    if code == E.EMONEY and info then return nil, refusal(info), code, info end
    return nil, info_or_msg, code, info
  end
  local i = info_or_msg
  i.warn = not i.existing and reached_warning(i.used + i.needed, i.limit)
  return true, i
end

function M.reserve(a)
  check_args(a, "budget.reserve")
  local ok, info_or_msg, code, info = ledger_reserve(a, a.override_by)
  if not ok then return nil, info_or_msg, code, info end
  warn(info_or_msg)
  return true, info_or_msg
end

local CONFIRM_SCHEMA = {
  type = "object",
  properties = {
    launch = { type = "boolean", title = "Launch anyway",
      description = "Go over this month's budget for this job", default = false },
  },
  required = { "launch" },
}

local function question(info)
  return string.format("Estimated %s exceeds the remaining %s of this month's budget. "
    .. "Launch anyway?", M.format(info.needed), M.format(math.max(info.remaining or 0, 0)))
end

function M.authorize(a)
  check_args(a, "budget.authorize")
  local ok, msg, code, info = M.reserve(a)
  if ok then return true, msg end
  if code ~= E.EMONEY then return nil, msg, code, info end
  local q = question(info)
  local approved_by
  local ctx = a.ctx
  if ctx and ctx.supports and ctx:supports("elicitation") then
    local res, why = ctx:elicit(q, CONFIRM_SCHEMA)
    if not res then
      return nil, msg .. " (could not ask: " .. tostring(why) .. ")", E.EMONEY, info
    end
    if res.action == "accept" and type(res.content) == "table" and res.content.launch == true then
      approved_by = "elicitation"
    else
      local what = res.action == "accept" and "declined" or (res.action or "declined")
      return nil, "The person " .. (what == "cancel" and "cancelled" or "declined")
        .. " launching over budget. " .. msg, E.EMONEY, info
    end
  elseif type(a.confirm) == "function" then
    if a.confirm(q) == true then approved_by = "cli"
    else return nil, "Launch over budget declined. " .. msg, E.EMONEY, info end
  else
    return nil, msg, E.EMONEY, info
  end
  local ok2, info2_or_msg, code2, info2 = ledger_reserve(a, approved_by)
  if not ok2 then return nil, info2_or_msg, code2, info2 end
  events.emit("log", "warning", string.format("Job %s was approved over budget (%s) by the "
    .. "person (%s).", a.job_id, M.format(info2_or_msg.needed), approved_by))
  return true, info2_or_msg
end

-- The job's cap (its own max_cost and the per-job cap, whichever is lower; nil when neither).
function M.effective_cap(own)
  local lim = M.limits() or {}
  local per_job = lim.per_job
  if per_job ~= nil and vibeml.isnull(per_job) then per_job = nil end
  if own and (not per_job or own < per_job) then return own end
  return per_job
end

local CAP_SCHEMA = {
  type = "object",
  properties = {
    launch = { type = "boolean", title = "Launch anyway",
      description = "Launch; the job is stopped when it reaches the cap", default = false },
  },
  required = { "launch" },
}

-- A cap below the expected cost stops the job before it finishes: say so before any money is
-- spent. confirm_cap{ cap=, expected=, ctx=, confirm= } -> true | nil, message, "VML_EMONEY", info
-- asks the person (elicitation, or confirm(question) at a terminal); without a way to ask, it
-- refuses with the numbers and how to go on.
function M.confirm_cap(a)
  local cap, expected = a.cap, a.expected
  if not cap or not expected or cap >= expected then return true end
  local pct = math.floor(100 * cap / expected)
  local info = { cap = cap, expected = expected, stops_at_percent = pct }
  local q = string.format("The cap of %s is below this job's expected cost of %s: it would be "
    .. "stopped at about %d%% of its training. Launch anyway?", M.format(cap), M.format(expected),
      pct)
  local ctx = a.ctx
  if ctx and ctx.supports and ctx:supports("elicitation") then
    local res, why = ctx:elicit(q, CAP_SCHEMA)
    if res and res.action == "accept" and type(res.content) == "table"
      and res.content.launch == true then
      return true, info
    end
    local what = not res and ("could not ask: " .. tostring(why))
      or (res.action == "cancel" and "the person cancelled" or "the person declined")
    return nil, string.format("Not launched (%s): the cap of %s is below the expected cost of %s.",
      what, M.format(cap), M.format(expected)), E.EMONEY, info
  elseif type(a.confirm) == "function" then
    if a.confirm(q) == true then return true, info end
    return nil, "Not launched: the cap is below the expected cost.", E.EMONEY, info
  end
  return nil, string.format("Not launched: the cap of %s is below the expected cost of %s, so the "
    .. "job would be stopped at about %d%% of its training. To go on: plan a shorter run "
    .. "(max_steps) that fits the cap, or ask the person to raise the per-job cap in a terminal "
    .. "with `vibeml budget set --per-job USD` (this client cannot ask them for you).",
    M.format(cap), M.format(expected), pct), E.EMONEY, info
end

local RAISE_SCHEMA = {
  type = "object",
  properties = {
    raise = { type = "boolean", title = "Raise anyway",
      description = "Go over the budget for this job's new cap", default = false },
  },
  required = { "raise" },
}

-- Why a raise does not fit, with the numbers and what to do; nil when it is not about money.
local function cap_refusal(a, info)
  local over_per_job = info.per_job_cap and a.cap > info.per_job_cap
  if over_per_job then
    return string.format("A cap of %s is above the per-job cap of %s. Raise that with `vibeml "
      .. "budget set --per-job %d`, or choose a cap of at most %s.", M.format(a.cap),
      M.format(info.per_job_cap), math.ceil(a.cap), M.format(info.per_job_cap))
  end
  local remaining = math.max(info.remaining or 0, 0)
  local suggest = (micros(info.used + info.needed) + 999999) // 1000000
  return string.format("Raising the cap to %s needs %s more, but only %s remains of this month's "
    .. "budget (%s for %s; %s already spent or reserved). Raise the budget with `vibeml budget "
    .. "set --monthly %d`, or choose a cap of at most %s.", M.format(a.cap), M.format(info.needed),
    M.format(remaining), M.format(info.limit), info.month, M.format(info.used), suggest,
    M.format(a.cap - info.needed + remaining))
end

function M.set_cap(a)
  if type(a) ~= "table" or type(a.job_id) ~= "string" or a.job_id == "" then
    error("budget.set_cap{job_id=, cap=}: job_id (a string) is required", 2)
  end
  if type(a.cap) ~= "number" or a.cap <= 0 then
    error("budget.set_cap: cap (USD, more than 0) is required", 2)
  end
  local ok, info, code, i2 = L.set_cap(a.job_id, a.cap)
  if ok then return true, info end
  local msg
  msg, info = info, i2
  if code == E.EINVAL and info and info.accrued and a.cap < info.accrued then
    return nil, string.format("A cap of %s is below what job %s has already cost (%s); choose "
      .. "%s or more.", M.format(a.cap), a.job_id, M.format(info.accrued), M.format(info.accrued)),
      code, info
  end
  if code ~= E.EMONEY or not info then return nil, msg, code, info end
  msg = cap_refusal(a, info)
  local q = msg:gsub("Raise the budget with.*$", ""):gsub("Raise that with.*$", "")
    .. "Raise the cap anyway?"
  local approved_by
  local ctx = a.ctx
  if ctx and ctx.supports and ctx:supports("elicitation") then
    local res, why = ctx:elicit(q, RAISE_SCHEMA)
    if not res then return nil, msg .. " (could not ask: " .. tostring(why) .. ")", code, info end
    if res.action == "accept" and type(res.content) == "table" and res.content.raise == true then
      approved_by = "elicitation"
    else
      return nil, "The person " .. (res.action == "cancel" and "cancelled" or "declined")
        .. " raising the cap over budget. " .. msg, code, info
    end
  elseif type(a.confirm) == "function" then
    if a.confirm(q) ~= true then
      return nil, "Raising the cap over budget declined. " .. msg, code, info
    end
    approved_by = "cli"
  else
    return nil, msg, code, info
  end
  local ok2, info2, code2, i3 = L.set_cap(a.job_id, a.cap, approved_by)
  if not ok2 then return nil, info2, code2, i3 end
  events.emit("log", "warning", string.format("Job %s's cap was raised over budget to %s with the "
    .. "person's approval (%s).", a.job_id, M.format(a.cap), approved_by))
  return true, info2
end

function M.accrue(job_id, cost)
  return L.accrue(job_id, cost)
end

function M.over_cap(job_id, accrued)
  local over, cap = L.accrue(job_id, accrued)
  if over == nil then return false end
  return over, cap
end

function M.settle(job_id, final) return L.settle(job_id, final) end

function M.release(job_id) return L.release(job_id) end

-- What a person should know about the month's numbers, one sentence each.
local function warnings(st)
  local limit = not vibeml.isnull(st.monthly_limit) and st.monthly_limit or nil
  local used = st.spent + st.reserved
  local spending = M.format(st.spent) .. " spent + " .. M.format(st.reserved) .. " reserved"
  if not limit then
    return { "No monthly budget is set, so launches are not limited; set one with `vibeml budget "
      .. "set --monthly USD`." }
  elseif micros(used) > micros(limit) then
    return { string.format("This month's spending (%s) is over the %s budget.", spending,
      M.format(limit)) }
  elseif reached_warning(used, limit) then
    return { string.format("This month's spending (%s) has reached %d%% of the %s budget.",
      spending, percent(used, limit), M.format(limit)) }
  end
  return {}
end

function M.status_json(month)
  local st, msg, code = L.status(month)
  if not st then return nil, msg, code end
  st.warnings = vibeml.array(warnings(st))
  return st
end

function M.status(month)
  local st, msg, code = M.status_json(month)
  if not st then return nil, msg, code end
  return nulls_to_nil(st)
end

function M.warnings()
  local st = M.status()
  return st and st.warnings or {}
end

function M.set_limits(t) return L.set_limits(t) end

function M.limits() return L.limits() end

function M.reconcile(grace) return L.reconcile(grace) end

return M

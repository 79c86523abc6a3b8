-- `vibeml budget [show] [--json] [--month YYYY-MM]` · `vibeml budget set --monthly USD
-- [--per-job USD]` · `vibeml budget reconcile`. Money limits are set here (a person at a
-- terminal), never over MCP.
local budget = require "vibeml.budget"

local usage = [[
usage: vibeml budget [show] [--json] [--month YYYY-MM]
       vibeml budget set [--monthly USD|none] [--per-job USD|none]
       vibeml budget reconcile

The monthly budget covers a calendar month (UTC). A launch reserves the job's cap (or the plan's
maximum cost estimate); the job accrues cost while it runs and is settled at its final cost.
Launches that would pass the monthly budget are refused unless a person approves them (MCP
elicitation, or the terminal). A running job that reaches its cap is stopped. At 80% of the
budget a warning goes out. Amounts are exact to a millionth of a dollar: 50, 12.50, $1,200.
  vibeml budget set --monthly 200 --per-job 25
  vibeml budget set --per-job none]]

local function io_err(s) vibeml.log("error", "%s", s) end

local function fmt(v) return v and budget.format(v) or "none" end

local function show(args)
  local json, month = false, nil
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--json" then json = true
    elseif a == "--month" then month = args[i + 1]; i = i + 1
      if not (month and month:match("^%d%d%d%d%-%d%d$")) then
        io_err("vibeml budget: --month needs YYYY-MM\n" .. usage) return 2
      end
    else
      io_err("vibeml budget show: "
        .. require("vibeml.cli._args").unknown_option(a, { "--json", "--month" })
        .. "\n" .. usage) return 2
    end
    i = i + 1
  end
  local st, msg = budget.status_json(month)
  if not st then io_err("vibeml budget: " .. msg) return 1 end
  if json then print(vibeml.json.encode(st)) return 0 end
  local n = function(v) return not vibeml.isnull(v) and v or nil end
  print(string.format("month          %s (UTC)", st.month))
  print(string.format("monthly budget %s", fmt(n(st.monthly_limit))))
  print(string.format("spent          %s", fmt(st.spent)))
  print(string.format("reserved       %s", fmt(st.reserved)))
  if n(st.remaining) then
    print(string.format("remaining      %s (%.1f%% used)", fmt(st.remaining), st.used_percent))
  end
  print(string.format("per-job cap    %s", fmt(n(st.per_job_cap))))
  if #st.jobs > 0 then
    print("")
    print(string.format("%-24s %-9s %12s %12s %12s %12s  %s", "JOB", "STATE", "RESERVED",
      "ACCRUED", "FINAL", "CAP", "NOTE"))
    for _, j in ipairs(st.jobs) do
      print(string.format("%-24s %-9s %12s %12s %12s %12s  %s", j.job_id, j.state,
        fmt(j.reserved), fmt(j.accrued), fmt(n(j.final)), fmt(n(j.cap)),
        (j.override and ("approved over budget (" .. tostring(n(j.override_by)) .. ") ") or "")
          .. (n(j.note) or "")))
    end
  end
  for _, w in ipairs(st.warnings) do print("warning: " .. w) end
  return 0
end

local function set(args)
  local t, i = {}, 1
  while i <= #args do
    local a, v = args[i], args[i + 1]
    if a == "--monthly" or a == "--per-job" then
      if not v then io_err("vibeml budget set: " .. a .. " needs an amount\n" .. usage) return 2 end
      local val
      if v == "none" or v == "off" then val = false
      else
        local parsed, msg = vibeml.budget.parse_usd(v)
        if not parsed then io_err("vibeml budget set: " .. msg) return 2 end
        val = v
      end
      t[a == "--monthly" and "monthly" or "per_job"] = val
      i = i + 2
    else
      io_err("vibeml budget set: "
        .. require("vibeml.cli._args").unknown_option(a, { "--monthly", "--per-job" })
        .. "\n" .. usage) return 2
    end
  end
  if next(t) == nil then
    io_err("vibeml budget set: give --monthly and/or --per-job\n" .. usage) return 2
  end
  local ok, msg = budget.set_limits(t)
  if not ok then io_err("vibeml budget set: " .. msg) return 1 end
  local l = budget.limits()
  print(string.format("monthly budget %s, per-job cap %s", fmt(l.monthly), fmt(l.per_job)))
  return 0
end

return {
  summary = "spending limits and the ledger: show, set --monthly USD [--per-job USD]",
  usage = usage,
  main = function(args)
    local sub = args[1]
    if sub == "-h" or sub == "--help" or sub == "help" then print(usage) return 0 end
    if sub == nil or sub == "show" or (sub and sub:sub(1, 2) == "--") then
      local rest = {}
      for k = (sub == "show" and 2 or 1), #args do rest[#rest + 1] = args[k] end
      return show(rest)
    elseif sub == "set" then
      local rest = {}
      for k = 2, #args do rest[#rest + 1] = args[k] end
      return set(rest)
    elseif sub == "reconcile" then
      local n = budget.reconcile()
      print(string.format("%d open reservation(s) resolved", n))
      return 0
    end
    io_err("vibeml budget: "
      .. require("vibeml.cli._args").unknown_sub(tostring(sub), { "show", "set", "reconcile" })
      .. "\n" .. usage)
    return 2
  end,
}

-- vibeml.budget: reservations, exact sums, caps, refusals, authorization by a person
-- (elicitation accept / decline / cancel, no elicitation, CLI confirm), warnings, get_budget.
local T = require "vibeml.test"
local budget = require "vibeml.budget"
local events = require "vibeml.events"
local db = require("vibeml.store").db()

local function fake_ctx(answer, supports)
  local ctx = { asked = {} }
  function ctx:supports(what) return supports ~= false and what == "elicitation" end
  function ctx:elicit(message, schema)
    self.asked[#self.asked + 1] = { message = message, schema = schema }
    if supports == false then return nil, "client does not support elicitation" end
    return answer
  end
  return ctx
end

local function sum(sql) return db:first(sql) end

T.case("no budget: reserve always works, status warns", function()
  local ok, info = budget.reserve{ job_id = "free-1", amount = 1000 }
  T.ok(ok)
  T.eq(info.limit, nil)
  local st = budget.status()
  T.eq(st.monthly_limit, nil)
  T.contains(st.warnings[1], "vibeml budget set --monthly")
  T.ok(budget.release("free-1"))
  T.eq(budget.status().reserved, 0)
end)

T.case("limits, exact sums over many small amounts", function()
  T.ok(budget.set_limits{ monthly = "100", per_job = false })
  for i = 1, 10 do
    T.ok(budget.reserve{ job_id = "small-" .. i, amount = 0.1 })
  end
  local st = budget.status()
  T.eq(st.reserved, 1)               -- exactly 1, not 0.9999999
  T.eq(math.type(st.reserved), "integer")
  for i = 1, 10 do T.ok(budget.settle("small-" .. i, "0.033333")) end
  st = budget.status()
  T.eq(st.spent, 0.33333)
  local row = sum("SELECT SUM(final) AS s FROM money_ledger WHERE job_id LIKE 'small-%'")
  T.eq(row.s, 333330)                -- micro-dollars, exact
  T.eq(st.remaining, 99.66667)
end)

T.case("over budget is refused with the numbers and the command", function()
  T.ok(budget.set_limits{ monthly = 100 })
  T.ok(budget.reserve{ job_id = "big-1", amount = 69.66667 })   -- leaves exactly 30
  local ok, msg, code, info = budget.reserve{ job_id = "big-2", amount = 50 }
  T.eq(ok, nil)
  T.eq(code, "VML_EMONEY")
  T.contains(msg, "Estimated $50.00 exceeds the remaining $30.00 of this month's budget")
  T.contains(msg, "vibeml budget set --monthly 120")
  T.eq(info.remaining, 30)
  T.eq(info.needed, 50)
  T.eq(db:first("SELECT COUNT(*) AS n FROM money_ledger WHERE job_id = 'big-2'").n, 0)
  -- exactly the remaining amount fits
  T.ok(budget.reserve{ job_id = "big-3", amount = 30 })
  T.ok(budget.release("big-3"))
end)

T.case("elicitation accept: asked once, launched, override recorded", function()
  local ctx = fake_ctx({ action = "accept", content = { launch = true } })
  local ok, info = budget.authorize{ job_id = "el-acc", amount = 50, ctx = ctx }
  T.ok(ok)
  T.eq(#ctx.asked, 1)
  T.eq(ctx.asked[1].message,
    "Estimated $50.00 exceeds the remaining $30.00 of this month's budget. Launch anyway?")
  T.eq(ctx.asked[1].schema.properties.launch.type, "boolean")
  T.ok(info.override)
  local row = db:first("SELECT override, override_by, reserved FROM money_ledger WHERE job_id = ?",
    "el-acc")
  T.eq(row.override, 1)
  T.eq(row.override_by, "elicitation")
  T.eq(row.reserved, 50000000)
  local ev = db:first("SELECT kind, detail FROM money_events WHERE job_id = ?", "el-acc")
  T.eq(ev.kind, "override")
  T.ok(budget.release("el-acc"))
end)

T.case("elicitation decline, cancel, accept without yes: refused, nothing reserved", function()
  for _, answer in ipairs({ { action = "decline" }, { action = "cancel" },
      { action = "accept", content = { launch = false } }, { action = "accept" } }) do
    local ctx = fake_ctx(answer)
    local ok, msg, code = budget.authorize{ job_id = "el-no", amount = 50, ctx = ctx }
    T.eq(ok, nil)
    T.eq(code, "VML_EMONEY")
    T.eq(#ctx.asked, 1)
    T.contains(msg, "vibeml budget set --monthly")
    T.eq(db:first("SELECT COUNT(*) AS n FROM money_ledger WHERE job_id = 'el-no'").n, 0)
  end
end)

T.case("a client without elicitation is refused without being asked", function()
  local ctx = fake_ctx(nil, false)
  local ok, msg, code, info = budget.authorize{ job_id = "el-none", amount = 50, ctx = ctx }
  T.eq(ok, nil)
  T.eq(code, "VML_EMONEY")
  T.eq(#ctx.asked, 0)
  T.contains(msg, "Estimated $50.00 exceeds the remaining $30.00")
  T.eq(info.remaining, 30)
  -- no ctx at all (a script): refused the same way
  T.eq((budget.authorize{ job_id = "el-none", amount = 50 }), nil)
end)

T.case("CLI confirm path", function()
  local q
  local ok = budget.authorize{ job_id = "cli-yes", amount = 40,
    confirm = function(question) q = question return true end }
  T.ok(ok)
  T.contains(q, "Launch anyway?")
  T.eq(db:first("SELECT override_by FROM money_ledger WHERE job_id = 'cli-yes'").override_by, "cli")
  T.ok(budget.release("cli-yes"))
  T.eq((budget.authorize{ job_id = "cli-no", amount = 40, confirm = function() return false end }),
    nil)
end)

T.case("within budget: authorize does not ask", function()
  local ctx = fake_ctx({ action = "accept", content = { launch = true } })
  T.ok(budget.authorize{ job_id = "fits", amount = 5, ctx = ctx })
  T.eq(#ctx.asked, 0)
  T.ok(budget.release("fits"))
end)

T.case("80% warning goes out as a log event and in status", function()
  local logs = {}
  local off = events.on("log", function(level, msg) logs[#logs + 1] = { level, msg } end)
  local ok, info = budget.reserve{ job_id = "warn-1", amount = 15 }   -- 70 + 15 = 85%
  off()
  T.ok(ok)
  T.ok(info.warn)
  T.eq(#logs, 1)
  T.eq(logs[1][1], "warning")
  T.contains(logs[1][2], "85%")
  T.contains(budget.status().warnings[1], "85%")
  T.ok(budget.release("warn-1"))
end)

T.case("per-job cap: reservation is the cap, over_cap at the cap", function()
  T.ok(budget.set_limits{ per_job = 10 })
  local ok, info = budget.reserve{ job_id = "cap-1", amount = 25 }
  T.ok(ok)
  T.eq(info.needed, 10)
  T.eq(info.cap, 10)
  T.ok(info.capped)
  -- a job's own smaller cap wins
  local ok2, info2 = budget.reserve{ job_id = "cap-2", amount = 25, cap = 4 }
  T.ok(ok2)
  T.eq(info2.needed, 4)
  T.eq(budget.over_cap("cap-1", 9.99), false)
  local over, cap = budget.over_cap("cap-1", 10)
  T.eq(over, true)
  T.eq(cap, 10)
  -- accrual is monotonic
  T.eq(budget.over_cap("cap-1", 1), true)
  T.ok(budget.settle("cap-1", 10.01))
  T.ok(budget.settle("cap-1", 99))       -- idempotent: the first final stands
  T.eq(db:first("SELECT final FROM money_ledger WHERE job_id = 'cap-1'").final, 10010000)
  T.eq(budget.over_cap("no-such-job", 5), false)
  T.ok(budget.release("cap-2"))
  T.ok(budget.set_limits{ per_job = false })
end)

T.case("reserve is idempotent per job; settle without a reservation still charges", function()
  T.ok(budget.reserve{ job_id = "idem", amount = 2 })
  local ok, info = budget.reserve{ job_id = "idem", amount = 2 }
  T.ok(ok)
  T.ok(info.existing)
  T.eq(db:first("SELECT COUNT(*) AS n FROM money_ledger WHERE job_id = 'idem'").n, 1)
  T.ok(budget.release("idem"))
  T.ok(budget.settle("orphan", 1.5))
  T.eq(db:first("SELECT state, final FROM money_ledger WHERE job_id = 'orphan'").final, 1500000)
end)

T.case("misuse raises", function()
  T.raises("job_id", budget.reserve, { amount = 5 })
  T.raises("amount", budget.reserve, { job_id = "x" })
  T.raises("not an amount", budget.reserve, { job_id = "x", amount = "five" })
end)

T.case("get_budget tool and the ledger's own status (numbers, no words)", function()
  local tool = require "vibeml.tools.get_budget"
  local st, text = tool.handler({}, {})
  T.eq(st.monthly_limit, 100)
  T.ok(type(st.jobs) == "table" and #st.jobs > 0)
  T.contains(text, "limit $100.00")
  local enc = vibeml.json.encode(st)
  T.contains(enc, '"month"')
  T.eq(vibeml.budget.status().monthly_limit, 100)
  T.eq(vibeml.budget.status().warnings, nil)   -- the words are this module's, not the ledger's
  local none = tool.handler({ month = "1999-01" }, {})
  T.eq(#none.jobs, 0)
  T.eq(vibeml.json.encode(none.jobs), "[]")
end)

T.case("a reservation whose launcher died is settled from the jobs component's view", function()
  local jdb = require "vibeml.jobs.db"
  T.ok(budget.set_limits{ monthly = false, per_job = false })
  local id = jdb.insert{ name = "view-1", backend = "local", mode = "process" }
  T.ok(budget.reserve{ job_id = id, amount = 7 })
  T.eq(budget.accrue(id, 1.25), false)   -- not over a cap (there is none)
  -- a running job keeps its reservation, whatever the grace period
  T.eq(budget.reconcile(0), 0)
  local row = db:first("SELECT ended, cost_usd FROM job_outcomes WHERE id = ?", id)
  T.eq(row.ended, 0)
  jdb.update(id, { state = "running" })
  jdb.update(id, { state = "failed", cost_final = 2.5 })
  row = db:first("SELECT ended, cost_usd FROM job_outcomes WHERE id = ?", id)
  T.eq(row.ended, 1)
  T.eq(row.cost_usd, 2.5)
  -- ended: settled at the larger of the job's cost and what had accrued
  T.eq(budget.reconcile(0), 1)
  T.eq(db:first("SELECT state, final FROM money_ledger WHERE job_id = ?", id).final, 2500000)
  T.ok(budget.set_limits{ monthly = 100 })
end)

T.case("an amount with a NUL byte is refused, not cut to its first digits", function()
  T.raises("must not contain a NUL byte", vibeml.budget.parse_usd, "5\0000")
  T.raises("must not contain a NUL byte", vibeml.budget.set_limits, { monthly = "5\0000" })
end)

return T.run()

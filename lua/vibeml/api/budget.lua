-- vibeml.budget() — this month's budget: limits, spent, reserved, remaining, per-job breakdown
-- and warnings (see vibeml.money.status). vibeml.budget("2026-10") reads another month.
return function(month)
  return require("vibeml.money").status(month)
end

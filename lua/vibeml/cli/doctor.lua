-- `vibeml doctor [--json]`: checks the set-up — dependencies, state folder and database,
-- plugins, SkyPilot and cloud credentials, secrets, budget — and says how to fix each problem.
-- The core of it is the check_setup MCP tool, so the CLI and the assistant see the same answer.
local check = require "vibeml.tools.check_setup"
local E = vibeml.E

local usage = [[
usage: vibeml doctor [--json]

Checks VibeML's set-up and prints each problem once, with its fix: backends (local; SkyPilot
when `sky` is installed), plugins, the state folder and database, cloud credentials SkyPilot
reads, secrets (by name only), and the budget. Ready (exit code 0) when jobs can run on some
backend (the local one counts) and the state database works; 1 otherwise.
]]

-- A ctx for calling the tool handler outside the MCP server.
local ctx = { progress = function() end, log = function() end,
              supports = function() return false end,
              elicit = function() return nil, "not interactive" end }

local function extra_checks(result, lines)
  local problems = result.problems
  -- the state database opens and answers
  local ok, store = pcall(require, "vibeml.store")
  if ok and type(store) == "table" and store.db then
    local okdb, db = pcall(store.db)
    local row, why
    if okdb then row, why = db:first("SELECT 1 AS one") else why = type(db) == "table"
      and db.message or db end
    local okq = row ~= nil
    result.database = okq and "ok" or tostring(why)
    lines[#lines + 1] = "state database: " .. (okq and "ok" or ("cannot open: " .. tostring(why)))
    if not okq then
      problems[#problems + 1] = "the state database in " .. result.state_dir
        .. " cannot be opened: check the folder's permissions and free disk space"
    end
  end
  -- cloud credentials SkyPilot reads from files (never copied, only checked)
  local oks, secrets = pcall(require, "vibeml.vault")
  if oks and type(secrets) == "table" and secrets.cloud_credentials then
    local creds = secrets.cloud_credentials()
    result.cloud_credentials = creds
    local present = {}
    for _, c in ipairs(creds) do if c.present then present[#present + 1] = c.cloud end end
    lines[#lines + 1] = "cloud credentials found: "
      .. (#present > 0 and table.concat(present, ", ") or "none")
    if #present == 0 then
      lines[#lines + 1] = "  (only needed for the skypilot backend; e.g. "
        .. tostring(creds[1] and creds[1].fix or "see `sky check`") .. ")"
    end
  end
  -- the budget is in check_setup's report already (its summary and warnings): not repeated
end

return {
  summary = "check the set-up and say how to fix each problem",
  usage = usage,
  main = function(args)
    local json = false
    for i = 1, #args do
      if args[i] == "--json" then json = true
      elseif args[i] == "-h" or args[i] == "--help" then print(usage) return 0
      else
        error({ code = E.EUSAGE, message = "vibeml doctor: "
          .. require("vibeml.cli._args").unknown_option(args[i], { "--json", "--help" }) .. "\n"
            .. usage })
      end
    end
    local result, text = check.handler({ skip_backends = false }, ctx)
    -- check_setup's closing verdict ("Ready." / "To fix:" and its list) is replaced by ours
    local lines = {}
    for l in (text .. "\n"):gmatch("([^\n]*)\n") do
      if l == "Ready." or l == "To fix:" then break end
      lines[#lines + 1] = l
    end
    extra_checks(result, lines)
    -- each problem once
    local seen, problems = {}, vibeml.array{}
    for _, p in ipairs(result.problems) do
      if not seen[p] then seen[p] = true; problems[#problems + 1] = p end
    end
    result.problems = problems
    local can_run = {}
    for _, b in ipairs(result.backends or {}) do
      if b.available then can_run[#can_run + 1] = b.name end
    end
    result.ready = #can_run > 0 and (result.database == nil or result.database == "ok")
    if #problems > 0 then
      lines[#lines + 1] = "To fix:"
      for _, p in ipairs(problems) do lines[#lines + 1] = "- " .. p end
    end
    lines[#lines + 1] = result.ready
      and ("ready: jobs can run on " .. table.concat(can_run, ", ")
        .. (#problems > 0 and " (the fixes above add more)" or ""))
      or "not ready: "
        .. (#can_run == 0 and "no backend can run jobs" or "the state database does not work")
    if json then print(vibeml.json.encode(result, { indent = 2 }))
    else print(table.concat(lines, "\n")) end
    return result.ready and 0 or 1
  end,
}

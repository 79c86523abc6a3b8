-- vibeml.mcp.testing_budget — test tools for the money and secrets integration tests, installed
-- with the other test tools (VIBEML_TEST_TOOLS=1 vibeml serve; see vibeml.mcp.testing). Never
-- loaded in normal use.
--   test_authorize{job_id, amount}  runs money.authorize with the call's ctx: over budget, a
--        client with elicitation is asked; the result says what happened.
--   test_secret_echo{}              runs a child with HF_TOKEN in its environment that prints the
--        value, and returns the child's raw output: the server must mask it on the way out.
local registry = require "vibeml.mcp.registry"

local M = {}

local tools = {
  {
    name = "test_authorize", title = "Authorize spending (test)",
    description = "money.authorize with this call's ctx (test only).",
    inputSchema = { type = "object", properties = {
      job_id = { type = "string" }, amount = { type = "number" } },
      required = { "job_id", "amount" }, additionalProperties = false },
    handler = function(args, ctx)
      local budget = require "vibeml.budget"
      local ok, msg, code, info = budget.authorize{ job_id = args.job_id, amount = args.amount,
        ctx = ctx }
      if ok then
        return { approved = true, override = msg.override, needed = msg.needed }
      end
      return { approved = false, message = msg, code = code,
               remaining = info and info.remaining or vibeml.null }
    end,
  },
  {
    name = "test_secret_echo", title = "Secret echo (test)",
    description = "A child process prints HF_TOKEN; its raw output is returned (test only).",
    inputSchema = { type = "object", properties = vibeml.object{}, additionalProperties = false },
    handler = function(args, ctx)
      local h, msg = require("vibeml.vault").env_for({ "HF_TOKEN" })
      if not h then return nil, msg end
      local r, err = vibeml.proc.run({ "/bin/sh", "-c",
        'echo "token=$HF_TOKEN"; printf %s "$HF_TOKEN" | base64' }, { secrets = h })
      h:close()
      if not r then return nil, err end
      ctx:log("info", "child said: " .. r.stdout)
      return { stdout = r.stdout, code = r.code }, "child output: " .. r.stdout
    end,
  },
}

function M.install(_server)
  for _, t in ipairs(tools) do assert(registry.register(t, { quiet = true })) end
end

return M

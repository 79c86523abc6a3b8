-- SPDX-License-Identifier: MIT
--
-- vibeml.store — the process's shared handle on the state database (state folder, vibeml.db).
--   local db = require("vibeml.store").db()   -- opened once per Lua state, then reused
--   db:exec / db:query / db:first / db:tx / db:migrate  (see core/lapi_store.c): each returns
--     nil, message, code when the database fails (code vibeml.E.EDB or vibeml.E.EBUSY)
--   require("vibeml.store").check(db:exec(...))  -- the results, or raises the failure as
--     {code =, message =}: for code that cannot go on without the database, and inside db:tx,
--     where raising is what rolls the transaction back
--   require("vibeml.store").open(path)        -- a separate connection (tests, other files)
--   require("vibeml.store").reset()           -- closes the shared handle (tests)
-- Every component keeps its own tables through db:migrate("<component>", {steps}); nobody edits
-- a shared schema list. Several processes share the file safely (WAL, busy timeout, BEGIN
-- IMMEDIATE in db:tx).
local M = {}
local E = vibeml.E

local shared, shared_home

local function home_key()
  return os.getenv and os.getenv("VIBEML_HOME") or ""
end

function M.db()
  -- a test that swaps VIBEML_HOME in a child process gets a fresh state, so this is enough
  if shared and shared_home == home_key() then return shared end
  local db, msg, code = vibeml.store.open()
  if not db then
    error({ code = code or E.EDB,
            message = "cannot open the state database: " .. tostring(msg),
            -- a lost database (VML_ESTATE) carries its own fix in the message
            hint = code ~= E.ESTATE
              and "check that the state folder is writable (VIBEML_HOME or XDG_STATE_HOME)"
                or nil }, 2)
  end
  shared, shared_home = db, home_key()
  return db
end

-- check(...) -> its arguments, when they are a call's results; raises {code, message} when
-- they are a failure (nil, message, code). db:first's "no row" (a lone nil) passes through.
function M.check(v, msg, code, ...)
  if v == nil and msg ~= nil then
    error({ code = code or E.EDB, message = tostring(msg) }, 2)
  end
  return v, msg, code, ...
end

function M.open(path)
  return vibeml.store.open(path)
end

function M.reset()
  if shared then shared:close() end
  shared = nil
end

return M

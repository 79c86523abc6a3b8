-- SPDX-License-Identifier: MIT
--
-- vibeml.store — the process's shared handle on the state database (state folder, vibeml.db).
--   local db = require("vibeml.store").db()   -- opened once per Lua state, then reused
--   db:exec / db:query / db:first / db:tx / db:migrate  (see core/lapi_store.c)
--   require("vibeml.store").open(path)        -- a separate connection (tests, other files)
--   require("vibeml.store").reset()           -- closes the shared handle (tests)
-- Every component keeps its own tables through db:migrate("<component>", {steps}); nobody edits
-- a shared schema list. Several processes share the file safely (WAL, busy timeout, BEGIN
-- IMMEDIATE in db:tx).
local M = {}

local shared, shared_home

local function home_key()
  return os.getenv and os.getenv("VIBEML_HOME") or ""
end

function M.db()
  -- a test that swaps VIBEML_HOME in a child process gets a fresh state, so this is enough
  if shared and shared_home == home_key() then return shared end
  local db, msg, code = vibeml.store.open()
  if not db then
    error({ code = code or "VML_EDB",
            message = "cannot open the state database: " .. tostring(msg),
            -- a lost database (VML_ESTATE) carries its own fix in the message
            hint = code ~= "VML_ESTATE"
              and "check that the state folder is writable (VIBEML_HOME or XDG_STATE_HOME)" or nil }, 2)
  end
  shared, shared_home = db, home_key()
  return db
end

function M.open(path)
  return vibeml.store.open(path)
end

function M.reset()
  if shared then shared:close() end
  shared = nil
end

return M

-- vibeml.test — the small test harness for tests/lua/*.lua (run by `vibeml run`).
--   local T = require "vibeml.test"
--   T.case("name", function() T.eq(1 + 1, 2) end)
--   T.raises("text", fn, ...) / T.fails(vibeml.E.X, "text", call(...)) / T.contains(s, "text")
--   return T.run()      -- prints each failure and "N passed, N failed"; exit code 1 on failure
local T = { cases = {} }

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function T.case(name, fn) T.cases[#T.cases + 1] = { name = name, fn = fn } end

function T.eq(got, want, what)
  if got ~= want then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", show(want),
      show(got)), 2)
  end
end

function T.ok(cond, what)
  if not cond then error("expected true: " .. (what or "condition"), 2) end
  return cond
end

-- Asserts that fn(...) raises an error whose text contains `needle` (plain match).
function T.raises(needle, fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then error("expected an error containing '" .. needle .. "', got none", 2) end
  local text = type(e) == "table" and tostring(e.message) or tostring(e)
  if not text:find(needle, 1, true) then
    error("expected an error containing '" .. needle .. "', got: " .. text, 2)
  end
  return e
end

-- Asserts that a call's results are the runtime-failure shape nil, message, code, with code
-- (vibeml.E.X) and a message containing needle: T.fails(vibeml.E.EDB, "no such", db:query(q)).
-- Returns the message.
function T.fails(code, needle, v, msg, got)
  if v ~= nil or type(msg) ~= "string" then
    error(string.format("expected nil, message, %s; got %s, %s", code, show(v), show(msg)), 2)
  end
  if got ~= code then
    error(string.format("expected code %s, got %s (%s)", code, show(got), msg), 2)
  end
  if not msg:find(needle, 1, true) then
    error("expected a message containing '" .. needle .. "', got: " .. msg, 2)
  end
  return msg
end

-- Asserts that the value contains needle (plain).
function T.contains(hay, needle, what)
  if type(hay) ~= "string" or not hay:find(needle, 1, true) then
    error(string.format("%sexpected %s to contain %s", what and (what .. ": ") or "", show(hay),
      show(needle)), 2)
  end
end

function T.run()
  local passed, failed = 0, 0
  for _, c in ipairs(T.cases) do
    local ok, e = xpcall(c.fn, function(m)
      local text = type(m) == "table"
        and (tostring(m.message) .. (m.traceback and ("\n" .. m.traceback) or "")) or tostring(m)
      return text
    end)
    if ok then
      passed = passed + 1
      print("ok   " .. c.name)
    else
      failed = failed + 1
      print("FAIL " .. c.name .. "\n     " .. tostring(e):gsub("\n", "\n     "))
    end
  end
  print(string.format("%d passed, %d failed", passed, failed))
  return failed == 0 and 0 or 1
end

return T

-- Shared by the CLI commands (a leading "_" keeps it out of `vibeml help` and the command list):
-- refusals for mistyped subcommands and options with the closest valid ones ("did you mean"),
-- and typed option values checked against their allowed range. Raise {usage = message}; the
-- commands print it with their usage and exit 2.
local names = require "vibeml.names"

local M = {}

-- "unknown option '--modle' (did you mean '--model'?)"
function M.unknown_option(a, options)
  return "unknown option '" .. require("vibeml.tty").safe(a) .. "'"
    .. names.did_you_mean(a, options)
end

-- "unknown subcommand 'lsit'; did you mean 'list'? (one of list, show, logs, stop)"
function M.unknown_sub(sub, subs)
  local near = names.suggest(sub, subs, 1)[1]
  return "unknown subcommand '" .. require("vibeml.tty").safe(sub) .. "'"
    .. (near and ("; did you mean '" .. near .. "'?") or "") .. " (one of "
      .. table.concat(subs, ", ") .. ")"
end

-- A number for option `opt` from text `v`, within spec = {min=, max=, integer=true, what="a
-- number of GB", example="80", note="0 = all"}; raises {usage=} with the range otherwise.
function M.number(opt, v, spec)
  spec = spec or {}
  local what = spec.what or (spec.integer and "a whole number" or "a number")
  local function g(x)
    return math.tointeger(x) and tostring(math.tointeger(x)) or string.format("%g", x)
  end
  local range
  if spec.min and spec.max then range = string.format(" from %s to %s", g(spec.min), g(spec.max))
  elseif spec.min then range = string.format(" of at least %s", g(spec.min))
  elseif spec.max then range = string.format(" of at most %s", g(spec.max)) end
  local function refuse(why)
    error({ usage = string.format("%s needs %s%s%s, e.g. %s%s", opt, what, range or "",
      spec.note and (" (" .. spec.note .. ")") or "", spec.example or tostring(spec.min or 1),
      why and ("; " .. why) or "") }, 0)
  end
  if v == nil then refuse() end
  local n = tonumber(v)
  if not n or n ~= n or n == math.huge or n == -math.huge then
    refuse("'" .. require("vibeml.tty").safe(v) .. "' is not a number")
  end
  if spec.integer then
    n = math.tointeger(n)
    if not n then refuse("'" .. v .. "' is not a whole number") end
  end
  if (spec.min and n < spec.min) or (spec.max and n > spec.max) then
    refuse("'" .. v .. "' is out of range")
  end
  return n
end

return M

-- tty: text that came from users, plugins or jobs (job names, model ids, failure messages, log
-- lines) made safe to print on a terminal. Control characters (C0, DEL, and C1 as UTF-8 or as
-- raw bytes) would otherwise be interpreted: ESC starts escape sequences that can rewrite the
-- screen, set the window title or the clipboard, CR overwrites what was printed, NUL hides the
-- rest. Each becomes a visible escape (\e, \r, \0, \x07, \u{009b}); other text is unchanged.
-- The CLI's human-readable output goes through here; --json output is JSON-escaped anyway.
local M = {}

local named = { ["\0"] = "\\0", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\27"] = "\\e" }

local function hex(c) return string.format("\\x%02x", c:byte()) end

-- safe(v [, keep_tab]) -> string: tostring(v) with control characters escaped; keep_tab leaves
-- tabs alone (log lines keep their columns).
function M.safe(v, keep_tab)
  local s = tostring(v)
  if not s:find("[%c\128-\255]") then return s end
  local valid = utf8.len(s) ~= nil
  s = s:gsub("[\0-\31\127]", function(c)
    if keep_tab and c == "\t" then return c end
    return named[c] or hex(c)
  end)
  if valid then -- C1 controls U+0080..U+009F, encoded C2 80..C2 9F
    s = s:gsub("\194([\128-\159])", function(c) return string.format("\\u{%04x}", c:byte()) end)
  else -- not UTF-8: a byte 0x80..0x9F alone is a C1 control to 8-bit terminals
    s = s:gsub("[\128-\255]", hex)
  end
  return s
end

return M

-- vibeml.csv — RFC 4180 CSV reading: quoted fields ("" inside quotes), CRLF or LF, a header row.
--   csv.parse(text) -> header (list of names), rows (list of lists) | nil, message
--   csv.records(text) -> list of {column = value} tables | nil, message
-- A row whose field count differs from the header's is an error (a cut-off download shows up
-- this way), as is an unterminated quote.
local M = {}

local find, sub, gsub = string.find, string.sub, string.gsub

-- Splits one logical record starting at pos; returns fields, next position (or nil, message).
local function record(text, pos, len, line)
  local fields, n = {}, 0
  while true do
    local c = sub(text, pos, pos)
    local value
    if c == '"' then
      local i, buf = pos + 1, {}
      while true do
        local q = find(text, '"', i, true)
        if not q then return nil, string.format("line %d: unterminated quoted field", line) end
        buf[#buf + 1] = sub(text, i, q - 1)
        if sub(text, q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'
          i = q + 2
        else
          pos = q + 1
          break
        end
      end
      value = table.concat(buf)
      c = sub(text, pos, pos)
      if c ~= "," and c ~= "\n" and c ~= "\r" and c ~= "" then
        return nil, string.format("line %d: text after a closing quote", line)
      end
    else
      local e = find(text, "[,\r\n]", pos)
      if not e then e = len + 1 end
      value = sub(text, pos, e - 1)
      pos = e
      c = sub(text, pos, pos)
    end
    n = n + 1
    fields[n] = value
    if c == "," then
      pos = pos + 1
    else
      if c == "\r" then pos = pos + 1 end
      if sub(text, pos, pos) == "\n" then pos = pos + 1 end
      return fields, pos
    end
  end
end

function M.parse(text)
  if type(text) ~= "string" then return nil, "CSV text must be a string" end
  local len, pos, line = #text, 1, 1
  if sub(text, 1, 3) == "\239\187\191" then pos = 4 end -- UTF-8 byte order mark
  local header, err = record(text, pos, len, line)
  if not header then return nil, err end
  pos = err
  local width, rows = #header, {}
  while pos <= len do
    line = line + 1
    local f, nxt = record(text, pos, len, line)
    if not f then return nil, nxt end
    pos = nxt
    if not (#f == 1 and f[1] == "") then -- blank line
      if #f ~= width then
        return nil, string.format("line %d: %d fields where the header has %d (file cut off?)",
          line, #f, width)
      end
      rows[#rows + 1] = f
    end
  end
  return header, rows
end

function M.records(text)
  local header, rows = M.parse(text)
  if not header then return nil, rows end
  local out = {}
  for i, r in ipairs(rows) do
    local t = {}
    for j, name in ipairs(header) do t[name] = r[j] end
    out[i] = t
  end
  return out, header
end

-- Quotes a value for writing when needed.
function M.quote(v)
  v = v == nil and "" or tostring(v)
  if find(v, '[,"\r\n]') then return '"' .. gsub(v, '"', '""') .. '"' end
  return v
end

return M

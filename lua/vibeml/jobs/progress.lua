-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.progress — reads training output (protocol: workflows/README.md):
--   * `@@VIBEML {json}` lines (the protocol our training scripts speak), anywhere in the line;
--   * as a fallback, Hugging Face Trainer log dicts in both float styles
--     ({'loss': 1.2345, ...} and {'loss': '1.234', ...}) and tqdm bars, including '\r'-joined
--     updates (the last one wins);
--   * behind launcher prefixes such as SkyPilot's `(task, pid=17499) ` (never anchored at ^).
-- parse_line(line) -> kind ("vibeml" | "hf_log" | "tqdm"), table  | nil
-- to_progress(kind, t) -> {step=, total_steps=, loss=, lr=, tokens_per_s=, eta_s=, epoch=,
--                          event=} with only the fields the line carried, or nil
-- Lines splitter: M.splitter() -> feed(chunk) returning complete lines (a partial tail is kept).
local M = {}

local MARK = "@@VIBEML "

-- A tiny reader for Python dict literals: {'k': 1.5, 'k2': '0.1', 'k3': True, 'k4': None}
local function py_dict(s)
  local i, n, out = 1, #s, {}
  local function ws() i = s:find("[^%s]", i) or n + 1 end
  ws()
  if s:sub(i, i) ~= "{" then return nil end
  i = i + 1
  while true do
    ws()
    local c = s:sub(i, i)
    if c == "}" then return out end
    if c ~= "'" and c ~= '"' then return nil end
    local close = s:find(c, i + 1, true)
    if not close then return nil end
    local key = s:sub(i + 1, close - 1)
    i = close + 1
    ws()
    if s:sub(i, i) ~= ":" then return nil end
    i = i + 1
    ws()
    c = s:sub(i, i)
    local val
    if c == "'" or c == '"' then
      local e = s:find(c, i + 1, true)
      if not e then return nil end
      val = s:sub(i + 1, e - 1)
      i = e + 1
    else
      local tok = s:match("^[^,}]+", i)
      if not tok then return nil end
      i = i + #tok
      tok = tok:gsub("%s+$", "")
      if tok == "True" then val = true
      elseif tok == "False" then val = false
      elseif tok == "None" then val = nil
      else val = tonumber(tok) or tok end
    end
    if type(val) == "string" and tonumber(val) then val = tonumber(val) end
    out[key] = val
    ws()
    c = s:sub(i, i)
    if c == "," then i = i + 1 elseif c == "}" then return out else return nil end
  end
end

local function secs(t)
  if not t or t == "?" then return nil end
  local total = 0
  for part in t:gmatch("%d+") do total = total * 60 + tonumber(part) end
  return total
end

function M.parse_line(line)
  local i = line:find(MARK, 1, true)
  if i then
    local doc = vibeml.json.decode(line:sub(i + #MARK))
    if type(doc) == "table" then return "vibeml", doc end
    return nil
  end
  local d = line:find("{'[%a_/]+': ")
  if d then
    local t = py_dict(line:sub(d))
    if t then return "hf_log", t end
    return nil
  end
  local last
  for pct, n, total, el,
    rem in line:gmatch("(%d+)%%|[^|]*|%s*(%d+)/(%d+)%s*%[([%d:]+)<([%d:?]+)") do
    last = { step = tonumber(n), total_steps = tonumber(total), elapsed_s = secs(el),
      eta_s = secs(rem),
             percent = tonumber(pct) }
  end
  if last then return "tqdm", last end
  return nil
end

local function num(v)
  v = tonumber(v)
  if v and v == v and v ~= math.huge and v ~= -math.huge then return v end
  return nil
end

function M.to_progress(kind, t)
  if kind == "vibeml" then
    local ev = t.event
    if ev == "step" or ev == "start" or ev == "end" then
      return { event = ev, step = math.tointeger(num(t.step)),
        total_steps = math.tointeger(num(t.total_steps)),
               loss = num(t.loss or t.train_loss), lr = num(t.lr),
                 tokens_per_s = num(t.tokens_per_s),
               eta_s = num(t.eta_s), epoch = num(t.epoch), elapsed_s = num(t.elapsed_s),
               progress = num(t.progress) }
    end
    return { event = ev }
  elseif kind == "hf_log" then
    if t.train_runtime then
      return { event = "end", loss = num(t.train_loss), epoch = num(t.epoch) }
    end
    for k in pairs(t) do if k:sub(1, 5) == "eval_" then return { event = "eval" } end end
    return { event = "step", loss = num(t.loss), lr = num(t.learning_rate), epoch = num(t.epoch) }
  elseif kind == "tqdm" then
    -- a 30-digit count reads as a float: steps are integers or absent, never 1e125
    return { event = "step", step = math.tointeger(num(t.step)),
      total_steps = math.tointeger(num(t.total_steps)),
             eta_s = num(t.eta_s) }
  end
end

-- Splits a byte stream into lines ('\n'; a '\r'-joined tqdm line stays one line).
function M.splitter(max_line)
  max_line = max_line or 65536
  local buf = ""
  return function(chunk)
    if not chunk then
      local rest = buf
      buf = ""
      return rest ~= "" and { rest } or {}
    end
    buf = buf .. chunk
    local lines, start = {}, 1
    while true do
      local nl = buf:find("\n", start, true)
      if not nl then break end
      lines[#lines + 1] = buf:sub(start, nl - 1)
      start = nl + 1
    end
    buf = buf:sub(start)
    if #buf > max_line then
      lines[#lines + 1] = buf
      buf = ""
    end
    return lines
  end
end

-- Removes ANSI colour and cursor sequences.
function M.strip_ansi(s)
  return (s:gsub("\27%[[%d;?]*[%a]", ""))
end

return M

-- vibeml.ids — the grammars of the names users hand VibeML: Hugging Face repository ids, job
-- names, bucket names, free-text hyperparameter values. Anything outside them is refused with
-- what was wrong and what is allowed, so quotes, $(), backticks, ;, spaces or newlines can never
-- reach a task. Pure; usable in plugins too.
local M = {}

local function show(s)
  return string.format("%q", s):gsub("\\\n", "\\n")
end

-- The first character of s outside the allowed class, described for people.
local function bad_char(s, class)
  local pos = s:find("[^" .. class .. "]")
  if not pos then return nil end
  local c = s:sub(pos, pos)
  local names = { ["\n"] = "a newline", ["\r"] = "a carriage return", ["\t"] = "a tab",
                  [" "] = "a space", ["'"] = "a quote (')", ['"'] = 'a quote (")',
                  ["`"] = "a backtick", [";"] = "';'", ["$"] = "'$'", ["("] = "'('",
                  [")"] = "')'", ["|"] = "'|'", ["&"] = "'&'", ["\\"] = "a backslash" }
  return names[c] or (c:byte() < 32 and string.format("control character 0x%02x", c:byte()))
    or ("'" .. c .. "'"), pos
end

local PART = "A-Za-z0-9_.%-"
local PART_RULE = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit, "
  .. "no '--' or '..', at most 96 characters"

local function check_part(part, what, whole)
  if #part == 0 then return nil, string.format("%s %s has an empty part", what, show(whole)) end
  if #part > 96 then
    return nil, string.format("%s %s: '%s' is longer than 96 characters", what, show(whole), part)
  end
  local c = bad_char(part, PART)
  if c then
    return nil, string.format("%s %s contains %s; allowed: %s", what, show(whole), c, PART_RULE)
  end
  if not part:match("^[A-Za-z0-9]") or not part:match("[A-Za-z0-9]$") then
    return nil, string.format("%s %s: each part must start and end with a letter or digit", what,
      show(whole))
  end
  if part:find("--", 1, true) or part:find("..", 1, true) then
    return nil, string.format("%s %s must not contain '--' or '..'", what, show(whole))
  end
  return true
end

-- A Hugging Face repository id: "owner/name" (or a bare "name" unless opts.owner_required).
-- Returns true or nil, message.
function M.check_repo(id, what, opts)
  what = what or "repository id"
  opts = opts or {}
  if type(id) ~= "string" then
    return nil, string.format("%s must be a string like \"owner/name\", got %s", what, type(id))
  end
  if #id == 0 then return nil, what .. " is empty; expected \"owner/name\"" end
  if #id > 200 then
    return nil, string.format("%s is %d characters long; at most 200", what, #id)
  end
  local c = bad_char(id, PART .. "/")
  if c then
    return nil, string.format("%s %s contains %s; a Hugging Face id is \"owner/name\" with %s",
      what, show(id), c, PART_RULE)
  end
  local owner, name = id:match("^([^/]*)/([^/]*)$")
  if not owner then
    if id:find("/", 1, true) then
      return nil,
        string.format("%s %s has more than one '/'; expected \"owner/name\"", what, show(id))
    end
    if opts.owner_required then
      return nil, string.format("%s %s needs an owner: \"owner/%s\"", what, show(id), id)
    end
    name = id
  else
    local ok, e = check_part(owner, what, id)
    if not ok then return nil, e end
  end
  local ok, e = check_part(name, what, id)
  if not ok then return nil, e end
  if name:sub(-4) == ".git" then
    return nil, string.format("%s %s must not end in .git", what, show(id))
  end
  return true
end

-- A job name: lowercase letters, digits and '-', 1..63, starting with a letter or digit.
function M.check_job_name(s)
  if type(s) ~= "string" or not s:match("^[a-z0-9][a-z0-9%-]*$") or #s > 63 then
    return nil, string.format("job name %s is not valid; allowed: lowercase letters, digits and "
      .. "'-', starting with a letter or digit, at most 63 characters",
      type(s) == "string" and show(s) or type(s))
  end
  return true
end

-- A bucket name: lowercase letters, digits, '-' and '.', 3..63.
function M.check_bucket(s)
  if type(s) ~= "string" or #s < 3 or #s > 63 or not s:match("^[a-z0-9][a-z0-9.%-]*[a-z0-9]$")
    or s:find("..", 1, true) then
    return nil, string.format("bucket name %s is not valid; allowed: 3-63 lowercase letters, "
      .. "digits, '-' and '.', starting and ending with a letter or digit",
      type(s) == "string" and show(s) or type(s))
  end
  return true
end

-- A free-text value (dataset split, config name, file path): no shell or quoting characters.
local VALUE = "A-Za-z0-9_.:%%+/%[%]%-"
function M.check_value(s, what)
  if type(s) ~= "string" then return nil, what .. " must be a string" end
  if #s == 0 or #s > 256 then
    return nil, string.format("%s must be 1-256 characters", what)
  end
  local c = bad_char(s, VALUE)
  if c then
    return nil, string.format("%s %s contains %s; allowed: letters, digits and _ . : %% + / [ ] -",
      what, show(s), c)
  end
  return true
end

-- A cloud, region, accelerator or instance-type name from the catalog.
function M.check_token(s, what)
  if type(s) ~= "string" or #s == 0 or #s > 128
    or not s:match("^[A-Za-z0-9][A-Za-z0-9_.:%-]*$") then
    return nil, string.format("%s %s is not valid (letters, digits, '_', '.', ':', '-')", what,
      type(s) == "string" and show(s) or type(s))
  end
  return true
end

return M

-- vibeml.names — the one rule for matching names people and assistants type (GPU types, clouds,
-- regions, workflows, preference values, CLI commands and options) against the valid ones, and
-- for suggesting the closest valid ones when nothing matches.
--
-- The rule: compare case-insensitively, with spaces and underscores read as "-"; then without
-- the dashes ("a100 80gb" = "A100-80GB" = "a10080gb"); then without a vendor word in front
-- ("nvidia h100") and without a plural "s" at the end ("H100s"). Aliases count like names.
-- Suggestions are the valid names within a small edit distance (Damerau-Levenshtein: a swap of
-- two neighbours counts once, so "lsit" is one step from "list"), closest first.
--
--   local names = require "vibeml.names"
--   names.match("H100s", entries)  -> canonical | nil, {closest...}
--       entries: { "lora", "full", ... } or { {name=, aliases={...}}, ... }
--   names.suggest("plna", { "plan", "launch" }) -> { "plan" }
--   names.did_you_mean("plna", {...})           -> " (did you mean 'plan'?)" | ""
--   names.unknown("GPU type", "H1000", all)    -> "unknown GPU type 'H1000'. Available: ...; did
--                                                  you mean H100?"
--   names.key(s), names.distance(a, b)
local M = {}

local VENDORS = { "nvidia", "amd", "geforce" }

-- The comparison key: lower case, runs of spaces/underscores/dashes as one "-", trimmed.
function M.key(s)
  s = tostring(s):lower():gsub("[%s_%-]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  return s
end

local function compact(k) return (k:gsub("%-", "")) end

-- The keys a typed name is tried under, most exact first.
local function variants(s)
  local k = M.key(s)
  local out, seen = {}, {}
  local function add(x)
    if x ~= "" and not seen[x] then seen[x] = true; out[#out + 1] = x end
  end
  local function with_plural(x)
    add(x); add(compact(x))
    -- "H100s", "loras", "a100s": a plural of a name that ends in a letter or digit
    if #x > 2 and x:sub(-1) == "s" then
      local y = x:sub(1, -2)
      add(y); add(compact(y))
      if x:sub(-2) == "es" and #x > 3 then add(x:sub(1, -3)) end
    end
  end
  with_plural(k)
  for _, v in ipairs(VENDORS) do
    if k:sub(1, #v + 1) == v .. "-" then with_plural(k:sub(#v + 2)) end
  end
  return out
end

local function entries_of(list)
  local out = {}
  for _, e in ipairs(list or {}) do
    if type(e) == "table" then
      out[#out + 1] = { name = e.name, aliases = e.aliases or {} }
    else
      out[#out + 1] = { name = tostring(e), aliases = {} }
    end
  end
  return out
end

-- An index of valid names for repeated lookups (names win over aliases, exact keys over keys
-- without dashes): names.lookup(names.index(list), typed) is names.match(typed, list).
function M.index(list)
  local ents = entries_of(list)
  local exact, loose = {}, {}
  for _, aliases in ipairs({ false, true }) do
    for _, e in ipairs(ents) do
      for _, w in ipairs(aliases and e.aliases or { e.name }) do
        local k = M.key(w)
        exact[k] = exact[k] or e.name
        loose[compact(k)] = loose[compact(k)] or e.name
      end
    end
  end
  return { exact = exact, loose = loose, entries = ents }
end

function M.lookup(idx, typed)
  if typed == nil then return nil, {} end
  local vs = variants(typed)
  for _, v in ipairs(vs) do
    if idx.exact[v] then return idx.exact[v] end
  end
  for _, v in ipairs(vs) do
    if idx.loose[compact(v)] then return idx.loose[compact(v)] end
  end
  return nil, M.suggest(typed, idx.entries)
end

-- Returns the canonical name for `typed`, or nil and the closest valid names.
function M.match(typed, list)
  return M.lookup(M.index(list), typed)
end

-- Damerau-Levenshtein distance (optimal string alignment) between two strings.
function M.distance(a, b)
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = ca == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

-- The valid names closest to `typed` (at most n, default 3): within a third of the
-- typed name's length (at least 1, at most 3 edits), or names that start with what was typed.
function M.suggest(typed, list, n)
  n = n or 3
  if typed == nil then return {} end
  local t = compact(M.key(typed))
  local best = {}
  local limit = math.max(1, math.min(3, #t // 3))
  for _, e in ipairs(entries_of(list)) do
    local d
    for _, w in ipairs({ e.name, table.unpack(e.aliases) }) do
      local k = compact(M.key(w))
      local x = M.distance(t, k)
      if #t >= 2 and k:sub(1, #t) == t then x = math.min(x, 1) end
      if not d or x < d then d = x end
    end
    if d <= limit then best[#best + 1] = { name = e.name, d = d } end
  end
  table.sort(best, function(a, b)
    if a.d ~= b.d then return a.d < b.d end
    return a.name < b.name
  end)
  local out = {}
  for i = 1, math.min(n, #best) do out[i] = best[i].name end
  return out
end

function M.did_you_mean(typed, list)
  local s = M.suggest(typed, list)
  if #s == 0 then return "" end
  return " (did you mean '" .. table.concat(s, "' or '") .. "'?)"
end

-- "unknown WHAT 'typed'. Available: a, b, c; did you mean A or B?" — the refusal every lookup
-- uses (the suggestion last, where the eye lands after a long list). opts.max_listed caps the
-- list of valid names (default 40). Returns the message and the suggestions.
function M.unknown(what, typed, list, opts)
  opts = opts or {}
  local s = M.suggest(typed, list)
  local all = {}
  for _, e in ipairs(entries_of(list)) do all[#all + 1] = e.name end
  local max = opts.max_listed or 40
  local shown = {}
  for i = 1, math.min(max, #all) do shown[i] = all[i] end
  local valid = table.concat(shown, ", ")
    .. (#all > max and string.format(", ... (%d in all)", #all) or "")
  return string.format("unknown %s '%s'. Available: %s%s", what, tostring(typed), valid,
    M.suggestion_text(s)), s
end

-- "; did you mean A, B or C?" for a list of suggestions, "" for none.
function M.suggestion_text(s)
  if #s == 0 then return "" end
  if #s == 1 then return "; did you mean " .. s[1] .. "?" end
  return "; did you mean " .. table.concat(s, ", ", 1, #s - 1) .. " or " .. s[#s] .. "?"
end

-- Cloud names and what people call them.
M.CLOUD_ALIASES = {
  gcp = { "google", "google-cloud", "gce" }, aws = { "amazon", "ec2" },
  azure = { "microsoft" }, lambda = { "lambda-labs", "lambdalabs" }, kubernetes = { "k8s" },
}

function M.cloud_entries(clouds)
  local out = {}
  for _, c in ipairs(clouds) do out[#out + 1] = { name = c, aliases = M.CLOUD_ALIASES[c] or {} } end
  return out
end

return M

-- vibeml.hf — Hugging Face Hub lookups for planning, over vibeml.http (the calling task waits on
-- the event loop).
--   hf.model_info(id, opts)   -> {id=, params_b=, params_source=, gated=, private=, quantized=,
--                                 base_model=, access=, model_type=, cached=} | nil, message, code
--   hf.dataset_info(id, opts) -> {id=, rows=, columns={...}, format=, mean_tokens=, bytes=,
--                                 gated=, private=, split=, cached=} | nil, message, code
--   hf.valid_id(id)           -> true | nil, message
-- opts: timeout (s, default 10), offline (skip the network), no_cache, token (else HF_TOKEN).
-- HF_ENDPOINT sets the Hub's base URL (as huggingface_hub does); HF_DATASETS_SERVER the dataset
-- viewer's (default: HF_ENDPOINT when that is set, else the public viewer). The token travels
-- only in the Authorization header and is never logged or cached. Answers are cached in
-- <data>/hf-cache/ for a day (misses for ten minutes). When the Hub cannot be reached, the
-- failure code is VML_EHTTP/VML_ETIMEOUT and the caller falls back (see planner) — except for a
-- definite 404, which is "Model 'x' not found on Hugging Face".
local E = vibeml.E
local M = {}

M.DEFAULT_ENDPOINT = "https://huggingface.co"
M.DEFAULT_VIEWER = "https://datasets-server.huggingface.co"
M.TTL = 24 * 3600
M.TTL_MISS = 600

local function endpoint()
  local e = os.getenv("HF_ENDPOINT")
  if e and e ~= "" then return (e:gsub("/+$", "")) end
  return M.DEFAULT_ENDPOINT
end

local function viewer()
  local v = os.getenv("HF_DATASETS_SERVER")
  if v and v ~= "" then return (v:gsub("/+$", "")) end
  local e = os.getenv("HF_ENDPOINT")
  if e and e ~= "" then return (e:gsub("/+$", "")) end
  return M.DEFAULT_VIEWER
end

local function token(opts)
  local t = opts and opts.token
  if t == nil then t = os.getenv("HF_TOKEN") or os.getenv("HUGGING_FACE_HUB_TOKEN") end
  if t == "" then t = nil end
  return t
end

-- Hub repo ids: "name" or "owner/name"; letters, digits, '-', '_', '.'; no "--" or "..";
-- at most 96 characters per part (huggingface_hub validate_repo_id).
function M.valid_id(id)
  if type(id) ~= "string" or id == "" then return nil, "a Hugging Face id is required" end
  local owner, name = id:match("^([^/]+)/([^/]+)$")
  local parts = owner and { owner, name } or { id }
  if not owner and id:find("/", 1, true) then
    return nil, string.format("'%s' is not a Hugging Face id (use owner/name)", id)
  end
  for _, p in ipairs(parts) do
    if #p > 96 or not p:match("^[%w][%w._%-]*$") or p:find("--", 1, true)
       or p:find("..", 1, true) or p:match("[.%-]$") then
      return nil, string.format("'%s' is not a valid Hugging Face id (letters, digits, '-', '_', "
        .. "'.'; owner/name)", id)
    end
  end
  return true
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~/]", function(c) return string.format("%%%02X", c:byte()) end))
end

---------------------------------------------------------------------------------------------
-- cache

local function cache_path(kind, id)
  local safe = (kind .. "__" .. id):gsub("[^%w%-%._]", "_")
  return vibeml.fs.paths().data .. "/hf-cache/" .. safe .. ".json"
end

local function cache_get(kind, id, opts)
  if opts.no_cache then return nil end
  local p = cache_path(kind, id)
  if vibeml.fs.exists(p) ~= "file" then return nil end
  local ok, v = pcall(vibeml.json.decode, vibeml.fs.read(p) or "")
  if not ok or type(v) ~= "table" or type(v.at) ~= "number" then return nil end
  local ttl = v.miss and M.TTL_MISS or M.TTL
  if vibeml.time() - v.at > ttl then return nil end
  return v
end

local function cache_put(kind, id, value)
  local p = cache_path(kind, id)
  vibeml.fs.mkdirs(p:match("^(.*)/"))
  value.at = vibeml.time()
  pcall(vibeml.fs.write, p, vibeml.json.encode(value), { atomic = true })
end

---------------------------------------------------------------------------------------------
-- requests

local function get(url, opts, method)
  local headers = { Accept = "application/json" }
  local tok = token(opts)
  if tok then headers.Authorization = "Bearer " .. tok end
  return vibeml.http.request { method = method or "GET", url = url, headers = headers,
                               timeout = opts.timeout or 10, max_bytes = 16 * 1024 * 1024,
                               max_redirects = 5 }
end

local function decode(body)
  local ok, v = pcall(vibeml.json.decode, body or "")
  if ok and type(v) == "table" then return v end
  return nil
end

-- Close matches for a missing id through the Hub's search (best effort, never fails): the name
-- as typed, then shorter prefixes of it ("Llama-3.1-8X" → "Llama-3.1" → "Llama"), as the Hub
-- matches substrings of repo ids.
local function close_matches(kind, id, opts)
  local name = id:match("[^/]+$") or id
  local tries, seen = {}, {}
  local cur = name
  while cur and #cur >= 3 and #tries < 3 do
    if not seen[cur] then tries[#tries + 1] = cur; seen[cur] = true end
    cur = cur:match("^(.+)[%-_.][^%-_.]*$")
  end
  local out = {}
  for _, q in ipairs(tries) do
    if #out > 0 then break end
    local r = get(("%s/api/%s?search=%s&limit=5"):format(endpoint(), kind, urlencode(q)),
                  { timeout = math.min(opts.timeout or 10, 5), token = opts.token })
    local list = r and r.status == 200 and decode(r.body)
    if type(list) == "table" then
      for _, m in ipairs(list) do
        local mid = type(m) == "table" and (m.id or m.modelId)
        if type(mid) == "string" and mid ~= id then out[#out + 1] = mid end
        if #out >= 5 then break end
      end
    end
  end
  return out
end

local function not_found(what, kind, id, opts)
  local msg = string.format("%s '%s' not found on Hugging Face", what, id)
  local matches = opts.offline and {} or close_matches(kind, id, opts)
  if #matches > 0 then msg = msg .. ". Did you mean: " .. table.concat(matches, ", ") .. "?" end
  if not token(opts) then
    msg = msg .. " (if it is private, store a token: vibeml secrets set HF_TOKEN)"
  end
  return nil, msg, E.ENOENT, matches
end

local function unreachable(r, msg)
  return nil, "cannot reach the Hugging Face Hub at " .. endpoint() .. ": " .. tostring(msg),
    r == nil and E.EHTTP or E.EHTTP
end

---------------------------------------------------------------------------------------------
-- models

-- Parameter count in billions from the model API's answer, correcting 4-bit repos:
-- bitsandbytes stores two 4-bit weights per U8 element (and its quantization statistics as F32
-- beside 16-bit layers), GPTQ/AWQ eight per I32. Returns params_b, "4bit"|nil.
function M.count_params(info)
  local st = info.safetensors
  if type(st) ~= "table" then return nil end
  local total = tonumber(st.total)
  local per = type(st.parameters) == "table" and st.parameters or {}
  local cfg = type(info.config) == "table" and info.config or {}
  local q = type(cfg.quantization_config) == "table" and cfg.quantization_config or {}
  local tags = {}
  for _, t in ipairs(type(info.tags) == "table" and info.tags or {}) do tags[t] = true end
  local qm = q.quant_method
  local bnb4 = (qm == "bitsandbytes" and (q.load_in_4bit or q.bits == 4))
    or (qm == nil and tags["4-bit"] and tags["bitsandbytes"])
  local packed8 = (qm == "gptq" or qm == "awq") and (q.bits == nil or q.bits == 4)
  if (bnb4 and per.U8) or (packed8 and per.I32) then
    local sum = 0
    local has16 = per.BF16 or per.F16
    for dtype, n in pairs(per) do
      n = tonumber(n) or 0
      if bnb4 and dtype == "U8" then sum = sum + 2 * n
      elseif packed8 and dtype == "I32" then sum = sum + 8 * n
      -- F32 beside 16-bit tensors in a bnb 4-bit file: absmax/quant-map statistics, not weights
      elseif not (bnb4 and dtype == "F32" and has16) then sum = sum + n end
    end
    if sum > 0 then return sum / 1e9, "4bit" end
  end
  if not total or total <= 0 then return nil end
  return total / 1e9, nil
end

function M.model_info(id, opts)
  opts = opts or {}
  local ok, why = M.valid_id(id)
  if not ok then return nil, why, E.EINVAL end
  local c = cache_get("model", id, opts)
  if c then
    -- a miss recorded without a token says nothing once a token is there (private repos)
    if c.miss and (c.with_token or not token(opts)) then
      return not_found("Model", "models", id, { offline = true, token = opts.token })
    end
    if not c.miss then
      c.info.cached = true
      return c.info
    end
  end
  if opts.offline then return nil, "offline: Hugging Face not consulted", E.EHTTP end
  local fields = { "safetensors", "gated", "private", "disabled", "config", "cardData", "tags",
                   "usedStorage", "pipeline_tag" }
  local q = {}
  for i, f in ipairs(fields) do q[i] = "expand%5B%5D=" .. f end
  local url = ("%s/api/models/%s?%s"):format(endpoint(), urlencode(id), table.concat(q, "&"))
  local r, msg = get(url, opts)
  if not r then return unreachable(r, msg) end
  if r.status == 404 then
    cache_put("model", id, { miss = true, with_token = token(opts) ~= nil })
    return not_found("Model", "models", id, opts)
  end
  if r.status == 401 or r.status == 403 then
    -- the Hub answers 401 for a private repo without a (valid) token, as for a missing one
    if token(opts) then
      return nil, string.format("Model '%s' is private or not found, and your HF_TOKEN cannot "
        .. "see it: check the id, or use a token with access", id), E.EAUTH
    end
    return not_found("Model", "models", id, opts)
  end
  if r.status ~= 200 then
    return nil, string.format("the Hugging Face Hub answered HTTP %d for model '%s'", r.status, id),
      E.EHTTP
  end
  local info = decode(r.body)
  if not info then
    return nil, "the Hugging Face Hub sent an unreadable answer for " .. id, E.EPROTO
  end
  local params_b, quantized = M.count_params(info)
  local card = type(info.cardData) == "table" and info.cardData or {}
  local cfg = type(info.config) == "table" and info.config or {}
  local base = card.base_model
  if type(base) == "table" then base = base[1] end
  local out = {
    id = info.id or info.modelId or id,
    params_b = params_b,
    params_source = params_b and "safetensors" or nil,
    gated = info.gated ~= nil and info.gated ~= false and info.gated or false,
    private = info.private == true,
    disabled = info.disabled == true,
    quantized = quantized,
    base_model = type(base) == "string" and base or nil,
    model_type = cfg.model_type,
    used_storage = tonumber(info.usedStorage),
    pipeline_tag = info.pipeline_tag,
  }
  if out.gated then
    -- metadata is public for gated repos; downloads need a token whose user accepted the terms
    if token(opts) then
      local rr = get(("%s/%s/resolve/main/config.json"):format(endpoint(), urlencode(id)), opts,
                     "HEAD")
      if rr then
        out.access = (rr.status >= 200 and rr.status < 400) and "granted"
          or ((rr.status == 401 or rr.status == 403) and "denied" or "unknown")
      else
        out.access = "unknown"
      end
    else
      out.access = "no_token"
    end
  end
  local cached = {}
  for k, v in pairs(out) do if k ~= "access" then cached[k] = v end end
  cache_put("model", id, { info = cached })
  return out
end

---------------------------------------------------------------------------------------------
-- datasets

-- Format from column names and the inner keys of list-of-struct columns.
function M.detect_format(features)
  local has, inner = {}, {}
  for name, f in pairs(features or {}) do
    has[name] = true
    local item = type(f) == "table" and (f.feature or (f[1] ~= nil and f[1]) or nil)
    if type(item) == "table" then
      for k in pairs(item) do inner[k] = true end
    end
  end
  if has.chosen and has.rejected then return "preference" end
  if has.messages then return "messages" end
  if has.conversations then
    if inner.role and inner.content then return "messages" end
    return "sharegpt"
  end
  if has.prompt and has.completion then return "prompt_completion" end
  if has.instruction and has.output then return "alpaca" end
  if has.instruction and has.response then return "dolly" end
  if has.text then return "text" end
  return nil
end

function M.dataset_info(id, opts)
  opts = opts or {}
  local ok, why = M.valid_id(id)
  if not ok then return nil, why, E.EINVAL end
  local c = cache_get("dataset", id, opts)
  if c then
    if c.miss and (c.with_token or not token(opts)) then
      return not_found("Dataset", "datasets", id, { offline = true, token = opts.token })
    end
    if not c.miss then
      c.info.cached = true
      return c.info
    end
  end
  if opts.offline then return nil, "offline: Hugging Face not consulted", E.EHTTP end
  local r, msg = get(("%s/api/datasets/%s"):format(endpoint(), urlencode(id)), opts)
  if not r then return unreachable(r, msg) end
  if r.status == 404 then
    cache_put("dataset", id, { miss = true, with_token = token(opts) ~= nil })
    return not_found("Dataset", "datasets", id, opts)
  end
  if r.status == 401 or r.status == 403 then
    if token(opts) then
      return nil, string.format("Dataset '%s' is private or not found, and your HF_TOKEN cannot "
        .. "see it", id), E.EAUTH
    end
    return not_found("Dataset", "datasets", id, opts)
  end
  if r.status ~= 200 then
    return nil,
      string.format("the Hugging Face Hub answered HTTP %d for dataset '%s'", r.status, id),
      E.EHTTP
  end
  local meta = decode(r.body) or {}
  local out = { id = meta.id or id, gated = meta.gated ~= nil and meta.gated ~= false and meta.gated
    or false,
                private = meta.private == true }
  -- the dataset viewer: /info for columns and split sizes (bytes → mean tokens)
  local vr = get(("%s/info?dataset=%s"):format(viewer(), urlencode(id)), opts)
  local vi = vr and vr.status == 200 and decode(vr.body)
  if vi and type(vi.dataset_info) == "table" then
    local di = vi.dataset_info
    if di.features == nil then -- without config: keyed by config name; take "default" or first
      local pick = di.default
      if not pick then
        local names = {}
        for k in pairs(di) do names[#names + 1] = k end
        table.sort(names)
        pick = di[names[1]]
      end
      di = type(pick) == "table" and pick or {}
    end
    local cols = {}
    for name in pairs(type(di.features) == "table" and di.features or {}) do
      cols[#cols + 1] = name
    end
    table.sort(cols)
    out.columns = cols
    out.format = M.detect_format(di.features)
    local splits = type(di.splits) == "table" and di.splits or {}
    local sp = splits.train and "train" or nil
    if not sp then for k in pairs(splits) do sp = sp or k end end
    local s = sp and splits[sp]
    if type(s) == "table" and tonumber(s.num_examples) then
      out.split = sp
      out.rows = math.tointeger(tonumber(s.num_examples)) or tonumber(s.num_examples)
      out.bytes = tonumber(s.num_bytes)
      if out.bytes and out.rows > 0 then
        -- ~4 characters per token for English text, plus chat-template overhead (an assumption)
        out.mean_tokens = math.floor(out.bytes / out.rows / 4 + 16)
      end
    end
  elseif vr and vr.status ~= 200 then
    out.viewer_error = ("dataset viewer answered HTTP %d"):format(vr.status)
  end
  if not out.rows then
    local sr = get(("%s/size?dataset=%s"):format(viewer(), urlencode(id)), opts)
    local sz = sr and sr.status == 200 and decode(sr.body)
    local ds = sz and type(sz.size) == "table" and sz.size.dataset
    if type(ds) == "table" and tonumber(ds.num_rows) then
      out.rows = math.tointeger(tonumber(ds.num_rows))
      local b = tonumber(ds.num_bytes_original_files) or tonumber(ds.num_bytes_memory)
      if b and out.rows > 0 then out.mean_tokens = math.floor(b / out.rows / 4 + 16) end
    end
  end
  cache_put("dataset", id, { info = out })
  return out
end

return M

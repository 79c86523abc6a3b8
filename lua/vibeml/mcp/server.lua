-- vibeml.mcp.server — the Lua half of `vibeml serve` (the C half is core/mcp*.c, mcp.h).
-- C calls: init(opts, hooks) once; tool_list() when the tool set changed; call(name, args,
-- serial) as a task per tools/call; dispatch(method, params, serial, version) as a task for
-- resources/*, prompts/* and completion/complete; services() once; and reads `instructions`
-- (the text for the initialize result, vibeml.mcp.instructions).
-- hooks (C functions, core/mcp_hooks.c): progress(serial, done, total, message),
-- log(level, data, logger), notify(method, params), tools_changed(), supports(capability),
-- cancelled(serial), elicit(serial, message, schema) and sample(serial, params) -> result |
-- nil, message, code.
--
-- Resources: lua/vibeml/resources/<name>.lua returns
--   { uri = "vibeml://x" | uriTemplate = "vibeml://jobs/{id}", name=, title=, description=,
--     mimeType=, read = function(uri, params) return text [, mimeType] end,
--     list = function() return { {uri=, name=, ...}, ... } end  -- optional, templates only }
--   _meta = {...} -- optional: sent with the contents (a ui:// view's csp, prefersBorder)
--   read may return a table { text = } or { blob = base64 } instead of text; it raises
--   { code = "VML_ENOENT", message = } for a resource that does not exist (-32002).
-- Prompts: lua/vibeml/prompts/<name>.lua returns
--   { name=, title=, description=, arguments = { { name=, description=, required=,
--     complete = function(value, context_arguments) return { values... } end }, ... },
--     get = function(args) return messages_or_text [, description] end }
-- Services: lua/vibeml/services/<name>.lua returns { start = function() ... end } (a task).
-- Built-in tools' structured results get `summary` (the first line of the handler's text) and
-- `next` (the tool's optional next(result, args) -> { {tool=, arguments=}, ... }); their texts
-- and errors name tools, not CLI commands (vibeml.mcp.toolkit.tool_speak).
local registry = require "vibeml.mcp.registry"
local events = require "vibeml.events"
local E = vibeml.E

local M = { options = {}, load_errors = {}, instructions = require "vibeml.mcp.instructions" }
local hooks
local static_resources, templates, resource_order = {}, {}, {}
local prompts, prompt_order = {}, {}
local subscriptions = {}
local service_list = {}
local page_size = 100

local available_prompt, prompt_signature -- defined with the dispatch methods
local function fail(code, message) error({ code = code, message = message }, 0) end

local function note_error(what, err)
  M.load_errors[#M.load_errors + 1] = { source = what, message = tostring(err) }
  vibeml.log("error", "%s: %s", what, tostring(err))
end

-- {=================================================================== context for handlers
local Ctx = {}
local function ctx_index(self, k)
  if k == "cancelled" then return hooks.cancelled(rawget(self, "_serial")) end
  return Ctx[k]
end

function Ctx:progress(done, total, message)
  assert(type(done) == "number", "ctx:progress(done, total, message): done must be a number")
  return hooks.progress(self._serial, done, total, message)
end

function Ctx:log(level, message)
  return hooks.log(level, message, self.tool and ("vibeml." .. self.tool) or "vibeml")
end

function Ctx:elicit(message, requested_schema)
  assert(type(message) == "string", "ctx:elicit(message, requested_schema)")
  if type(requested_schema) == "table" then registry.normalize_schema(requested_schema) end
  local res, err, code = hooks.elicit(self._serial, message, requested_schema or vibeml.object{})
  if res == nil then return nil, err, code end
  if type(res.action) ~= "string" then return nil, "the client's answer had no action" end
  return res
end

-- Asks the client's model for a completion (sampling/createMessage): params as the spec's
-- CreateMessageRequest params ({messages=, maxTokens=, ...}) -> result table | nil, message.
function Ctx:sample(params)
  assert(type(params) == "table", "ctx:sample(params)")
  return hooks.sample(self._serial, params)
end

function Ctx:supports(capability) return hooks.supports(capability) end

local ctx_mt = { __index = ctx_index } -- one for every call: a call makes only its own table
local function new_ctx(serial, tool)
  return setmetatable({ _serial = serial, tool = tool }, ctx_mt)
end
M.new_ctx = new_ctx

-- }===================================================================

-- {=================================================================== registration
function M.add_resource(def)
  assert(type(def) == "table", "resource must be a table")
  assert(type(def.read) == "function", "resource needs read(uri, params)")
  assert(type(def.name) == "string", "resource needs a name")
  if def.uri then
    assert(type(def.uri) == "string", "resource uri must be a string")
    if not static_resources[def.uri] then resource_order[#resource_order + 1] = def.uri end
    static_resources[def.uri] = def
  else
    assert(type(def.uriTemplate) == "string", "resource needs uri or uriTemplate")
    local names = {}
    local pat = def.uriTemplate:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
    pat = pat:gsub("{(%w+)}", function(n) names[#names + 1] = n; return "([^/]+)" end)
    def._pattern = "^" .. pat .. "$"
    def._names = names
    for i, t in ipairs(templates) do
      if t.uriTemplate == def.uriTemplate then table.remove(templates, i) break end
    end
    templates[#templates + 1] = def
  end
  events.emit("resources_changed")
end

function M.add_prompt(def)
  assert(type(def) == "table" and type(def.name) == "string", "prompt needs a name")
  assert(type(def.get) == "function", "prompt needs get(args)")
  if not prompts[def.name] then prompt_order[#prompt_order + 1] = def.name end
  prompts[def.name] = def
end

local function load_list(mods, _what, fn)
  for _, mod in ipairs(mods or {}) do
    local ok, res = pcall(require, mod)
    if not ok then note_error(mod, res)
    else
      local ok2, err = pcall(fn, res, mod)
      if not ok2 then note_error(mod, err) end
    end
  end
end

function M.init(opts, h)
  hooks = h
  M.options = opts
  page_size = opts.page_size or 100
  load_list(opts.tools, "tool", function(t)
    local ok, err = registry.register(t, { builtin = true, quiet = true })
    if not ok then error(err, 0) end
  end)
  load_list(opts.resources, "resource", M.add_resource)
  load_list(opts.prompts, "prompt", M.add_prompt)
  load_list(opts.services, "service", function(s, mod)
    assert(type(s) == "table" and type(s.start) == "function", "a service returns {start=fn}")
    -- an HTTP session (opts.session) runs only the per-session services: the others (job
    -- poller, plugin watcher) run once for the whole process
    if not opts.session or s.per_session then
      service_list[#service_list + 1] = { name = mod, start = s.start }
    end
  end)
  if opts.test then
    local ok, err = pcall(function() require("vibeml.mcp.testing").install(M) end)
    if not ok then note_error("vibeml.mcp.testing", err) end
  end
  if opts.conformance then
    local ok, err = pcall(function() require("vibeml.mcp.conformance").install(M) end)
    if not ok then note_error("vibeml.mcp.conformance", err) end
  end
  -- the plugin system (issue 4) may not be built yet
  local okp, plugins = pcall(require, "vibeml.plugins")
  if okp and type(plugins) == "table" and type(plugins.start) == "function" then
    local ok, err = pcall(plugins.start, { dirs = opts.plugin_dirs, server = M })
    if not ok then note_error("vibeml.plugins", err) end
  end
  local prompts_seen = prompt_signature()
  events.on("tools_changed", function()
    hooks.tools_changed()
    local sig = prompt_signature()
    if sig ~= prompts_seen then
      prompts_seen = sig
      hooks.notify("notifications/prompts/list_changed", nil)
    end
  end)
  events.on("resource_updated", function(uri)
    if subscriptions[uri] then hooks.notify("notifications/resources/updated", { uri = uri }) end
  end)
  events.on("resources_changed", function()
    hooks.notify("notifications/resources/list_changed", nil)
  end)
  events.on("prompts_changed", function()
    hooks.notify("notifications/prompts/list_changed", nil)
  end)
  events.on("log", function(level, message) hooks.log(level, message, "vibeml") end)
end

function M.services() return service_list end

-- }===================================================================

-- {=================================================================== tools
-- The MCP Apps extension (SEP-1865): a client that renders ui:// views declares it.
M.UI_EXTENSION = "io.modelcontextprotocol/ui"
function M.supports_ui() return hooks ~= nil and hooks.supports("extensions/" .. M.UI_EXTENSION) end

-- A tool's _meta as listed: its `ui` link (MCP Apps) only for clients that render views, so
-- the others see the tool exactly as before.
local function tool_meta(t)
  if type(t._meta) ~= "table" then return nil end
  local meta, n = {}, 0
  for k, v in pairs(t._meta) do
    if k ~= "ui" or M.supports_ui() then meta[k] = v; n = n + 1 end
  end
  return n > 0 and meta or nil
end

local cached_gen, cached_list
function M.tool_list()
  if cached_gen == registry.generation() then return cached_list end
  local out = vibeml.array{}
  for _, t in ipairs(registry.list()) do
    out[#out + 1] = {
      name = t.name, title = t.title, description = t.description,
      inputSchema = t.inputSchema, outputSchema = t.outputSchema, annotations = t.annotations,
      _meta = tool_meta(t),
    }
  end
  cached_gen, cached_list = registry.generation(), out
  return out
end

local tool_speak = require("vibeml.mcp.toolkit").tool_speak
M.tool_speak = tool_speak

local function first_line(s)
  s = tostring(s or ""):match("^[^\n]*")
  if #s > 240 then s = s:sub(1, 237) .. "..." end
  return s
end

-- Every structured result carries `summary` (one line) and `next` (suggested calls,
-- {tool=, arguments=}): some clients show the model only the structured part. A tool gives
-- them with its handler's text and an optional next(result, args) -> { {tool=, arguments=} }.
local function finish(t, args, res, text, extra)
  if type(res) == "table" and extra == nil and res[1] == nil then
    if getmetatable(res) ~= nil then
      -- a proxy or object: answer with a plain copy of its fields
      local copy = {}
      for k, v in pairs(res) do copy[k] = v end
      res = copy
    end
    if type(text) == "string" then text = tool_speak(text) end
    if res.summary == nil then res.summary = first_line(text or t.title or t.name) end
    if res.next == nil then
      local list = {}
      if type(t.next) == "function" then
        local ok, l = pcall(t.next, res, args)
        if ok and type(l) == "table" then list = l end
      end
      for _, n in ipairs(list) do
        if n.arguments == nil then n.arguments = vibeml.object{} end
      end
      res.next = vibeml.array(list)
    end
  end
  return res, text, extra
end

function M.call(name, args, serial)
  local t = registry.get(name)
  if not t then
    return nil, "tool '" .. name .. "' was removed while the call was starting; call tools/list"
  end
  local res, text, extra = t.handler(args, new_ctx(serial, name))
  if res == nil then return nil, tool_speak(text) end
  -- plugins' tools answer as they declare; the built-in ones add summary and next
  if not registry.is_builtin(name) then return res, text, extra end
  return finish(t, args, res, text, extra)
end

-- }===================================================================

-- {=================================================================== dispatch (Lua methods)
local function page(list, params)
  local off = 0
  local c = params.cursor
  if c ~= nil and c ~= vibeml.null then
    local n = type(c) == "string" and c:match("^o:(%d+)$")
    off = n and tonumber(n) or nil
    if not off or off > #list then
      fail(E.EINVAL, "params.cursor: not a cursor this server gave out; omit it to start "
        .. "from the first page")
    end
  end
  local out = vibeml.array{}
  for i = off + 1, math.min(#list, off + page_size) do out[#out + 1] = list[i] end
  local nextc = (off + page_size < #list) and ("o:" .. (off + page_size)) or nil
  return out, nextc
end

local function describe(def, uri_key)
  return { [uri_key] = def[uri_key], name = def.name, title = def.title,
           description = def.description, mimeType = def.mimeType }
end

local function find_resource(uri)
  local def = static_resources[uri]
  if def then return def, {} end
  for _, t in ipairs(templates) do
    local caps = { uri:match(t._pattern) }
    if caps[1] then
      local params = {}
      for i, n in ipairs(t._names) do params[n] = caps[i] end
      return t, params
    end
  end
end

local function need_string(params, key, what)
  local v = params[key]
  if type(v) ~= "string" or v == "" then
    fail(E.EINVAL, "params." .. key .. ": required, " .. what)
  end
  return v
end

-- A prompt that names tools (requires_tools) is offered only while those tools exist.
available_prompt = function(name)
  local p = prompts[name]
  if not p then return nil end
  for _, t in ipairs(p.requires_tools or {}) do
    if not registry.get(t) then return nil end
  end
  return p
end

prompt_signature = function()
  local names = {}
  for _, n in ipairs(prompt_order) do
    if available_prompt(n) then names[#names + 1] = n end
  end
  return table.concat(names, ",")
end

local methods = {}

methods["resources/list"] = function(params)
  local all = {}
  for _, uri in ipairs(resource_order) do
    -- a ui:// view is listed only for clients that render MCP Apps (the spec allows leaving it
    -- out; for the others it is an HTML page they cannot use)
    if uri:sub(1, 5) ~= "ui://" or M.supports_ui() then
      all[#all + 1] = describe(static_resources[uri], "uri")
    end
  end
  for _, t in ipairs(templates) do
    if t.list then
      local ok, items = pcall(t.list)
      if ok and type(items) == "table" then
        for _, it in ipairs(items) do
          all[#all + 1] = { uri = it.uri, name = it.name or it.uri, title = it.title,
                            description = it.description or t.description,
                            mimeType = it.mimeType or t.mimeType }
        end
      elseif not ok then
        vibeml.log("warning", "listing %s failed: %s", t.uriTemplate, tostring(items))
      end
    end
  end
  local items, nextc = page(all, params)
  return { resources = items, nextCursor = nextc }
end

methods["resources/templates/list"] = function(params)
  local all = {}
  for _, t in ipairs(templates) do all[#all + 1] = describe(t, "uriTemplate") end
  local items, nextc = page(all, params)
  return { resourceTemplates = items, nextCursor = nextc }
end

methods["resources/read"] = function(params)
  local uri = need_string(params, "uri", "the URI of a resource from resources/list")
  local def, p = find_resource(uri)
  if not def then fail(E.ENOENT, "resource not found: " .. uri) end
  local res, mime = def.read(uri, p)
  if res == nil then fail(E.ENOENT, mime or ("resource not found: " .. uri)) end
  local content = { uri = uri, mimeType = def.mimeType, _meta = def._meta }
  if type(res) == "table" then
    content.text, content.blob = res.text, res.blob
    content.mimeType = res.mimeType or content.mimeType
    content._meta = res._meta or content._meta
  else
    content.text = tostring(res)
    content.mimeType = mime or content.mimeType
  end
  return { contents = { content } }
end

methods["resources/subscribe"] = function(params)
  local uri = need_string(params, "uri", "the URI to watch")
  local def, p = find_resource(uri)
  if not def then fail(E.ENOENT, "resource not found: " .. uri) end
  -- a template matches any id: watch only what exists (a typo would wait forever)
  if def.uriTemplate then
    local ok, err = pcall(def.read, uri, p)
    if not ok and type(err) == "table" and err.code == E.ENOENT then
      fail(E.ENOENT, "resource not found: " .. uri .. " (" .. tostring(err.message) .. ")")
    end
  end
  subscriptions[uri] = true
  return {}
end

methods["resources/unsubscribe"] = function(params)
  local uri = need_string(params, "uri", "a URI you subscribed to")
  subscriptions[uri] = nil
  return {}
end

methods["prompts/list"] = function(params)
  local all = {}
  for _, name in ipairs(prompt_order) do
    local p = available_prompt(name)
    if p then
    local args = vibeml.array{}
    for _, a in ipairs(p.arguments or {}) do
      args[#args + 1] = { name = a.name, title = a.title, description = a.description,
                          required = a.required and true or false }
    end
    all[#all + 1] = { name = p.name, title = p.title, description = p.description,
                      arguments = args }
    end
  end
  local items, nextc = page(all, params)
  return { prompts = items, nextCursor = nextc }
end

methods["prompts/get"] = function(params)
  local name = need_string(params, "name", "the name of a prompt from prompts/list")
  local p = available_prompt(name)
  if not p then
    fail(E.EINVAL, "params.name: unknown prompt '" .. name .. "' (see prompts/list)")
  end
  local args = params.arguments
  if args ~= nil and type(args) ~= "table" then
    fail(E.EINVAL, "params.arguments: must be an object of strings")
  end
  args = args or {}
  local known = {}
  for _, a in ipairs(p.arguments or {}) do
    known[a.name] = true
    local v = args[a.name]
    if a.required and (v == nil or v == "") then
      fail(E.EINVAL, "params.arguments." .. a.name .. ": required (" .. (a.description or "")
        .. ")")
    end
    if v ~= nil and type(v) ~= "string" then
      fail(E.EINVAL, "params.arguments." .. a.name .. ": must be a string")
    end
  end
  for k in pairs(args) do
    if not known[k] then
      fail(E.EINVAL, "params.arguments: unknown argument '" .. tostring(k) .. "'")
    end
  end
  local messages, description = p.get(args)
  if type(messages) == "string" then
    messages = { { role = "user", content = { type = "text", text = messages } } }
  end
  return { description = description or p.description, messages = vibeml.array(messages) }
end

methods["completion/complete"] = function(params)
  local ref, arg = params.ref, params.argument
  if type(ref) ~= "table" or type(ref.type) ~= "string" then
    fail(E.EINVAL,
      "params.ref: required, {type=\"ref/prompt\", name=} or {type=\"ref/resource\", uri=}")
  end
  if type(arg) ~= "table" or type(arg.name) ~= "string" or type(arg.value) ~= "string" then
    fail(E.EINVAL, "params.argument: required, {name=, value=} with string fields")
  end
  local context = type(params.context) == "table" and params.context.arguments or {}
  local complete
  if ref.type == "ref/prompt" then
    local p = available_prompt(ref.name or "")
    if not p then
      fail(E.EINVAL, "params.ref.name: unknown prompt '" .. tostring(ref.name) .. "'")
    end
    for _, a in ipairs(p.arguments or {}) do
      if a.name == arg.name then complete = a.complete end
    end
  elseif ref.type == "ref/resource" then
    local t
    for _, x in ipairs(templates) do if x.uriTemplate == ref.uri then t = x end end
    if not t and not static_resources[ref.uri or ""] then
      fail(E.EINVAL, "params.ref.uri: unknown resource or template '" .. tostring(ref.uri) .. "'")
    end
    complete = t and t.complete and function(v, c) return t.complete(arg.name, v, c) end
  else
    fail(E.EINVAL, "params.ref.type: must be \"ref/prompt\" or \"ref/resource\"")
  end
  local values = vibeml.array{}
  local total = 0
  if complete then
    local all = complete(arg.value, context) or {}
    local prefix = arg.value:lower()
    for _, v in ipairs(all) do
      if type(v) == "string" and v:lower():sub(1, #prefix) == prefix then
        total = total + 1
        if #values < 100 then values[#values + 1] = v end
      end
    end
  end
  return { completion = { values = values, total = total, hasMore = total > #values } }
end

function M.dispatch(method, params, serial, version)
  local fn = methods[method]
  if not fn then fail(E.EINVAL, "method " .. method .. " is not served here") end
  return fn(params or {}, serial, version)
end

-- }===================================================================

return M

-- vibeml.mcp.conformance — the fixtures the official MCP conformance suite calls
-- (`vibeml serve --http PORT --conformance`). They exist only under that
-- flag: tools, resources and prompts with the names and answers the suite's scenarios expect.
local registry = require "vibeml.mcp.registry"
local events = require "vibeml.events"

local M = {}

-- A 1x1 red PNG and a short silent WAV, base64: small real files of each type.
local PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
local WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA="

local function obj(t) return vibeml.object(t or {}) end
local empty_schema = function() return { type = "object", properties = obj() } end

local tools = {
  { name = "test_simple_text", description = "Returns a simple text response.",
    handler = function()
      return false, { { type = "text", text = "This is a simple text response for testing." } }
    end },
  { name = "test_image_content", description = "Returns an image.",
    handler = function()
      return false, { { type = "image", data = PNG, mimeType = "image/png" } }
    end },
  { name = "test_audio_content", description = "Returns audio.",
    handler = function()
      return false, { { type = "audio", data = WAV, mimeType = "audio/wav" } }
    end },
  { name = "test_embedded_resource", description = "Returns an embedded resource.",
    handler = function()
      return false, { { type = "resource", resource = { uri = "test://embedded-resource",
        mimeType = "text/plain", text = "This is an embedded resource content." } } }
    end },
  { name = "test_multiple_content_types", description = "Returns text, an image and a resource.",
    handler = function()
      return false, {
        { type = "text", text = "Multiple content types test:" },
        { type = "image", data = PNG, mimeType = "image/png" },
        { type = "resource", resource = { uri = "test://mixed-content-resource",
          mimeType = "application/json", text = '{"test":"data","value":123}' } },
      }
    end },
  { name = "test_tool_with_logging", description = "Sends three log messages while it runs.",
    handler = function(_, ctx)
      for _,
        m in ipairs({ "Tool execution started", "Tool processing data",
        "Tool execution completed" }) do
        ctx:log("info", m)
        vibeml.sleep(0.05)
      end
      return false, { { type = "text", text = "Tool with logging executed successfully" } }
    end },
  { name = "test_tool_with_progress", description = "Reports progress 0, 50, 100 of 100.",
    handler = function(_, ctx)
      for _, p in ipairs({ 0, 50, 100 }) do
        ctx:progress(p, 100, "Progress " .. p)
        vibeml.sleep(0.05)
      end
      return false, { { type = "text", text = "Tool with progress executed successfully" } }
    end },
  { name = "test_error_handling", description = "Always fails as a tool (isError).",
    handler = function() return nil, "This tool intentionally returns an error for testing" end },
  { name = "test_sampling", description = "Asks the client's model for a completion.",
    inputSchema = { type = "object", properties = { prompt = { type = "string" } },
      required = { "prompt" } },
    handler = function(args, ctx)
      local r, err = ctx:sample{ messages = { { role = "user",
        content = { type = "text", text = args.prompt } } }, maxTokens = 100 }
      if not r then return nil, err end
      local text = type(r.content) == "table" and r.content.text or "No response"
      return false, { { type = "text", text = "LLM response: " .. tostring(text) } }
    end },
  { name = "test_elicitation", description = "Asks the person for a username and email.",
    inputSchema = { type = "object", properties = { message = { type = "string" } },
      required = { "message" } },
    handler = function(args, ctx)
      local r, err = ctx:elicit(args.message, { type = "object", properties = {
        username = { type = "string", description = "User's response" },
        email = { type = "string", description = "User's email address" } },
        required = { "username", "email" } })
      if not r then return nil, err end
      return false, { { type = "text", text = "User response: " .. vibeml.json.encode(r) } }
    end },
  { name = "test_elicitation_sep1034_defaults", description = "Elicitation with defaults.",
    handler = function(_, ctx)
      local r, err = ctx:elicit("Please review and update the form fields with defaults", {
        type = "object", properties = {
          name = { type = "string", description = "User name", default = "John Doe" },
          age = { type = "integer", description = "User age", default = 30 },
          score = { type = "number", description = "User score", default = 95.5 },
          status = { type = "string", description = "User status",
            enum = { "active", "inactive", "pending" }, default = "active" },
          verified = { type = "boolean", description = "Verification status", default = true },
        }, required = vibeml.array{} })
      if not r then return nil, err end
      return false, { { type = "text", text = "Elicitation completed: " .. vibeml.json.encode(r) } }
    end },
  { name = "test_elicitation_sep1330_enums", description = "Elicitation with every enum shape.",
    handler = function(_, ctx)
      local r, err = ctx:elicit("Please select options from the enum fields", {
        type = "object", properties = {
          untitledSingle = { type = "string", description = "Choose one option",
            enum = { "option1", "option2", "option3" } },
          titledSingle = { type = "string", description = "Choose one titled option",
            oneOf = { { const = "value1", title = "First Option" },
              { const = "value2", title = "Second Option" },
                      { const = "value3", title = "Third Option" } } },
          legacyEnum = { type = "string", description = "Choose one option (legacy)",
            enum = { "opt1", "opt2", "opt3" },
              enumNames = { "Option One", "Option Two", "Option Three" } },
          untitledMulti = { type = "array", description = "Choose multiple options",
            minItems = 1, maxItems = 3,
              items = { type = "string", enum = { "option1", "option2", "option3" } } },
          titledMulti = { type = "array", description = "Choose multiple titled options",
            minItems = 1, maxItems = 3,
              items = { anyOf = { { const = "value1", title = "First Choice" },
              { const = "value2", title = "Second Choice" },
                { const = "value3", title = "Third Choice" } } } },
        }, required = vibeml.array{} })
      if not r then return nil, err end
      return false, { { type = "text", text = "Elicitation completed: " .. vibeml.json.encode(r) } }
    end },
}

local watched = 0

function M.install(server)
  for _, t in ipairs(tools) do
    t.title = t.title or t.name
    t.inputSchema = t.inputSchema or empty_schema()
    assert(registry.register(t, { quiet = true }))
  end
  server.add_resource{ uri = "test://static-text", name = "Static Text Resource",
    description = "A static text resource for testing", mimeType = "text/plain",
    read = function() return "This is the content of the static text resource." end }
  server.add_resource{ uri = "test://static-binary", name = "Static Binary Resource",
    description = "A static binary resource (image) for testing", mimeType = "image/png",
    read = function() return { blob = PNG, mimeType = "image/png" } end }
  server.add_resource{ uriTemplate = "test://template/{id}/data", name = "Resource Template",
    description = "A resource template with parameter substitution", mimeType = "application/json",
    read = function(_, p)
      return vibeml.json.encode({ id = p.id, templateTest = true, data = "Data for ID: " .. p.id })
    end }
  server.add_resource{ uri = "test://watched-resource", name = "Watched Resource",
    description = "A resource that can be subscribed to", mimeType = "text/plain",
    read = function() watched = watched + 1 return "Watched resource content, read "
      .. watched end }
  server.add_prompt{ name = "test_simple_prompt", description = "A simple prompt without arguments",
    get = function() return "This is a simple prompt for testing." end }
  server.add_prompt{ name = "test_prompt_with_arguments",
    description = "A prompt with required arguments",
    arguments = { { name = "arg1", description = "First test argument", required = true,
                    complete = function() return { "paris", "park", "party" } end },
                  { name = "arg2", description = "Second test argument", required = true } },
    get = function(a)
      return "Prompt with arguments: arg1='" .. a.arg1 .. "', arg2='" .. a.arg2 .. "'"
    end }
  server.add_prompt{ name = "test_prompt_with_embedded_resource",
    description = "A prompt that includes an embedded resource",
    arguments =
      { { name = "resourceUri", description = "URI of the resource to embed", required = true } },
    get = function(a)
      return { { role = "user", content = { type = "resource", resource = { uri = a.resourceUri,
                 mimeType = "text/plain", text = "Embedded resource content for testing." } } },
               { role = "user",
                 content = { type = "text",
                 text = "Please process the embedded resource above." } } }
    end }
  server.add_prompt{ name = "test_prompt_with_image",
    description = "A prompt that includes image content",
    get = function()
      return { { role = "user", content = { type = "image", data = PNG, mimeType = "image/png" } },
               { role = "user",
                 content = { type = "text", text = "Please analyze the image above." } } }
    end }
  events.emit("tools_changed")
end

return M

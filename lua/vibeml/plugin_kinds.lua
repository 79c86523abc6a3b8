-- vibeml.plugin_kinds — what a descriptor of each plugin kind must hold (docs/plugins.md).
--
-- core/plugin.c checks the envelope every plugin shares (kind, name, version, the functions
-- named below) and reads this table once per process: each kind's `schema` is compiled by
-- core/schema.c (the JSON Schema subset MCP tool arguments use) and run on the descriptor's data;
-- a schema's `description` is the hint added to a message about that field.
--
--   kinds[kind] = {
--     schema = { ... },               the descriptor's data (functions removed)
--     functions = { [path] = hint },  dotted paths that must hold functions; "*" = every index
--     check = function(desc),         rules a schema cannot say -> true | nil, message
--     sample = function(desc),        workflows: parameters for a trial build() at load
--     check_build = function(task, p) the trial's task -> true | nil, message
--   }
--
-- check, sample and check_build run in a fresh sandboxed state of their own, on the data only.
local M = {}

-- {======================================================= shared pieces

local function str(max, hint)
  return { type = "string", maxLength = max, description = hint }
end

-- title and description: optional for every kind, required by some
local function descriptor(props, required)
  props.title = props.title or str(200)
  props.description = props.description or str(4000)
  return { type = "object", properties = props, required = required }
end

local ENV_NAMES = {
  anyOf = {
    { type = "array", items = { type = "string", maxLength = 64, pattern = "^[A-Z_][A-Z0-9_]*$" } },
    { type = "object", maxProperties = 0 }, -- an empty Lua table
  },
  description = "a list of environment variable names (A-Z, 0-9, _)",
}

local RANGE = { type = "array", minItems = 2, maxItems = 2, items = { type = "number" },
                description = "{low, high} numbers with low <= high" }

-- }=======================================================

-- {======================================================= workflow

local function is_type(v, t)
  if t == "integer" then return math.type(v) == "integer" end
  if t == "number" then return type(v) == "number" end
  return type(v) == t
end

M.workflow = {
  schema = descriptor({
    title = str(200, "a workflow needs a title"),
    description = str(4000, "a workflow needs a description"),
    method = { type = "string", enum = { "qlora", "lora", "full", "other" },
               description = "the training method" },
    model_sizes = {
      type = "object", required = { "min_b", "max_b" },
      properties = { min_b = { type = "number" }, max_b = { type = "number" } },
      description = "model_sizes = {min_b=, max_b=} (billions of parameters, min_b <= max_b)",
    },
    vram = { type = "object", description = "a table of constants for the planner" },
    throughput = { type = "object", description = "a table of constants for the planner" },
    typical = { type = "object", properties = { duration_h = RANGE, cost_usd = RANGE } },
    hyperparameters = {
      type = "object",
      description = "hyperparameters = {name = {type=, default=, min=, max=, enum=, description=}}",
      additionalProperties = {
        type = "object", required = { "type", "description" },
        description = "each hyperparameter is {type = \"integer\"|\"number\"|\"string\"|"
          .. "\"boolean\", description = \"...\", default=, min=, max=, enum=}",
        properties = {
          type = { type = "string", enum = { "integer", "number", "string", "boolean" } },
          description = { type = "string" },
          min = { type = "number" },
          max = { type = "number" },
          enum = { type = "array", minItems = 1 },
        },
      },
    },
    secrets = { type = "object", properties = { required = ENV_NAMES, optional = ENV_NAMES },
                description = "secrets = {required = {NAMES}, optional = {NAMES}}" },
    gpu = {
      type = "object", required = { "required", "min_count", "max_count" },
      properties = {
        required = { type = "boolean" },
        min_count = { type = "integer", minimum = 0 },
        max_count = { type = "integer", minimum = 0 },
        multi_node = { type = "boolean" },
      },
      description = "gpu = {required=bool, min_count=int, max_count=int >= min_count, "
        .. "multi_node=bool}",
    },
  }, { "title", "description", "method", "model_sizes", "vram", "throughput", "hyperparameters",
       "gpu" }),

  functions = { build = "a workflow needs build = function(p) return task end" },

  check = function(d)
    if d.model_sizes.min_b > d.model_sizes.max_b then
      return nil, "model_sizes: min_b is above max_b"
    end
    for _, key in ipairs({ "duration_h", "cost_usd" }) do
      local r = (d.typical or {})[key]
      if r and r[1] > r[2] then return nil, "typical." .. key .. ": low is above high" end
    end
    if d.gpu.max_count < d.gpu.min_count then return nil, "gpu: max_count is below min_count" end
    for name, spec in pairs(d.hyperparameters) do
      local where = "hyperparameter '" .. name .. "': "
      if not name:match("^[a-z0-9_]+$") then return nil, where .. "names use a-z, 0-9 and _" end
      if spec.min and spec.max and spec.min > spec.max then
        return nil, where .. "min is above max"
      end
      local def = spec.default
      if def ~= nil and not vibeml.isnull(def) then
        if not is_type(def, spec.type) then
          return nil, where .. "default is not of type " .. spec.type
        end
        if type(def) == "number" and ((spec.min and def < spec.min)
                                      or (spec.max and def > spec.max)) then
          return nil, where .. "default is outside min..max"
        end
      end
    end
    return true
  end,

  -- every default, one candidate, a model inside the supported sizes
  sample = function(d)
    local hp = {}
    for name, spec in pairs(d.hyperparameters) do
      if spec.default ~= nil and not vibeml.isnull(spec.default) then hp[name] = spec.default end
    end
    local lo, hi = d.model_sizes.min_b, d.model_sizes.max_b
    local cand = { cloud = "aws", region = "us-east-1", spot = true }
    if d.gpu.required ~= false then cand.accelerator, cand.count = "A100-80GB", 1 end
    return {
      job_name = "vibeml-trial", model = "example-org/example-model",
      dataset = "example-org/example-dataset", hyperparameters = vibeml.object(hp),
      model_info = { params_b = lo > 1 and lo or (hi < 1 and hi or 1), gated = false },
      candidates = { cand }, num_nodes = 1, checkpoint_bucket = "vibeml-ckpt-trial",
    }
  end,

  -- the task invariants have one home: workflows.check_task
  check_build = function(task, p)
    return require("vibeml.workflows").check_task(task, p)
  end,
}

-- }=======================================================

M.tools = {
  schema = descriptor({
    tools = {
      type = "array", minItems = 1,
      description = "tools = { {name=, description=, inputSchema=, handler=} ... }",
      items = {
        type = "object", required = { "name", "description", "inputSchema" },
        properties = {
          name = { type = "string", maxLength = 64, pattern = "^[a-z0-9_]+$",
                   description = "tool names are snake_case (a-z, 0-9, _)" },
          description = str(4000),
          inputSchema = { type = "object",
                          description = "inputSchema must be a JSON schema table" },
        },
      },
    },
  }, { "tools" }),
  functions = { ["tools.*.handler"] = "handler must be a function" },
}

M.gpu_map = {
  schema = descriptor({
    cloud = str(64),
    gpus = { type = { "object", "array" },
             description = "gpus = { ... } (canonical GPU names and their offers)" },
  }, { "cloud", "gpus" }),
}

M.error_rules = {
  schema = descriptor({
    rules = {
      type = "array", minItems = 1,
      description = "rules = { {match = \"lua pattern\", message = \"...\"} ... }",
      items = { type = "object", required = { "match", "message" },
                properties = { match = str(1000), message = str(2000) } },
    },
  }, { "rules" }),
}

-- rules judged by vibeml.jobs.watchdog: a new rule brings a check function, one that overrides a
-- shipped rule (same id) may carry only action and settings
M.watchdog = {
  schema = descriptor({
    rules = {
      type = "array", minItems = 1,
      description = "rules = { {id =, action = \"warn\"|\"stop\", check =} ... }",
      items = { type = "object", required = { "id" },
                properties = { id = str(64),
                               action = { type = "string", enum = { "warn", "stop" } } } },
    },
  }, { "rules" }),
}

return M

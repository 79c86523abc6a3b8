-- vibeml.plan.facts — what the planner knows about the model and the dataset: Hugging Face
-- look-ups (vibeml.hf), sizes from names when the Hub is not asked, the rows and mean tokens of
-- datasets people start with (offline planning), and the warnings/assumptions those facts carry.
--
--   facts.model(req, warnings, assumptions)   -> model_info | nil, message, code
--   facts.dataset(req, warnings, assumptions) -> dataset_info | nil, message, code
--   facts.gated(model_info)                   -> true | false | "unknown"
--   facts.KNOWN_DATASETS, facts.DEFAULT_ROWS, facts.DEFAULT_MEAN_TOKENS
local E = vibeml.E
local sizing = require "vibeml.sizing"

local M = {}

M.DEFAULT_ROWS = 10000
M.DEFAULT_MEAN_TOKENS = 256

-- Rows and mean tokens of datasets people start with, for offline planning.
M.KNOWN_DATASETS = {
  ["yahma/alpaca-cleaned"] = { rows = 51760, mean_tokens = 240, format = "alpaca" },
  ["tatsu-lab/alpaca"] = { rows = 52002, mean_tokens = 230, format = "alpaca" },
  ["databricks/databricks-dolly-15k"] = { rows = 15011, mean_tokens = 360, format = "dolly" },
  ["mlabonne/FineTome-100k"] = { rows = 100000, mean_tokens = 700, format = "sharegpt" },
  ["HuggingFaceH4/ultrachat_200k"] = { rows = 207865, mean_tokens = 1400, format = "messages" },
  ["timdettmers/openassistant-guanaco"] = { rows = 9846, mean_tokens = 420, format = "text" },
}

function M.model(req, warnings, assumptions)
  if req.model_info then
    local mi = req.model_info
    if not mi.params_b then
      mi.params_b = tonumber(req.params_b) or sizing.params_from_name(req.model)
    end
    return mi
  end
  local mi, msg, code
  if req.params_b then
    mi = { id = req.model, params_b = tonumber(req.params_b), params_source = "request" }
  else
    local hf = require "vibeml.hf"
    mi, msg, code = hf.model_info(req.model, { offline = req.offline, timeout = req.timeout })
    if not mi and (code == E.ENOENT or code == E.EAUTH or code == E.EINVAL) then
      return nil, msg, code
    end
    if not mi then
      local p = sizing.params_from_name(req.model)
      if not p then
        return nil, string.format("cannot tell the size of '%s': %s, and the name carries no size "
          .. "(like 8B). Pass params_b (CLI: --params-b).", req.model,
          req.offline and "planning offline" or tostring(msg)), E.EINVAL
      end
      mi = { id = req.model, params_b = p, params_source = "name", gated = nil }
      assumptions[#assumptions + 1] = string.format("%s; assumed %g B parameters from the model "
        .. "name '%s'", req.offline and "Hugging Face not consulted (offline)"
        or ("Hugging Face not reachable (" .. tostring(msg) .. ")"), p, req.model)
    elseif not mi.params_b then
      local p = sizing.params_from_name(req.model) or (mi.used_storage and mi.used_storage / 2e9)
      if not p then
        return nil, string.format("Hugging Face lists no parameter count for '%s' and the name "
          .. "carries no size; pass params_b (CLI: --params-b)", req.model), E.EINVAL
      end
      mi.params_b, mi.params_source = p, "name"
      assumptions[#assumptions + 1] = string.format("the Hub lists no safetensors parameter count "
        .. "for '%s'; assumed %g B from its name or size", req.model, p)
    end
  end
  if mi.quantized then
    assumptions[#assumptions + 1] = string.format("'%s' is a pre-quantized 4-bit repo: counted "
      .. "%.2f B parameters after unpacking", req.model, mi.params_b)
  end
  if mi.gated then
    local has_token = os.getenv("HF_TOKEN") ~= nil
    local ok, secrets = pcall(require, "vibeml.vault")
    if ok and type(secrets) == "table" and type(secrets.has) == "function" then
      local ok2, h = pcall(secrets.has, "HF_TOKEN")
      has_token = has_token or (ok2 and h)
    end
    if mi.access == "denied" then
      warnings[#warnings + 1] = string.format("Model '%s' is gated and your HF_TOKEN has no access "
        .. "yet: accept its license at %s/%s, then plan again", req.model,
        os.getenv("HF_ENDPOINT") or "https://huggingface.co", req.model)
    elseif not has_token then
      warnings[#warnings + 1] = string.format("Model '%s' is gated: accept its license on Hugging "
        .. "Face and store a token with `vibeml secrets set HF_TOKEN` before launching", req.model)
    end
  end
  return mi
end

function M.dataset(req, warnings, assumptions)
  if req.dataset_info then return req.dataset_info end
  local known = req.dataset and M.KNOWN_DATASETS[req.dataset]
  if not req.dataset then
    assumptions[#assumptions + 1] = string.format("no dataset given: assumed %d rows of %d tokens",
      M.DEFAULT_ROWS, M.DEFAULT_MEAN_TOKENS)
    return { rows = M.DEFAULT_ROWS, mean_tokens = M.DEFAULT_MEAN_TOKENS, source = "assumed" }
  end
  local hf = require "vibeml.hf"
  local di, msg, code = hf.dataset_info(req.dataset,
    { offline = req.offline, timeout = req.timeout })
  if not di and (code == E.ENOENT or code == E.EAUTH or code == E.EINVAL) then
    return nil, msg, code
  end
  if not di then
    di = { id = req.dataset, source = "assumed" }
    assumptions[#assumptions + 1] = string.format("dataset '%s' not looked up (%s)", req.dataset,
      req.offline and "offline" or tostring(msg))
  end
  if not di.rows then
    di.rows = known and known.rows or M.DEFAULT_ROWS
    assumptions[#assumptions + 1] = string.format("%d rows in '%s'%s", di.rows, req.dataset,
      known and " (its known size)" or " (a default)")
  end
  if not di.mean_tokens then
    di.mean_tokens = known and known.mean_tokens or M.DEFAULT_MEAN_TOKENS
    assumptions[#assumptions + 1] = string.format("%d tokens per row%s", di.mean_tokens,
      known and "" or " (a default)")
  end
  di.format = di.format or (known and known.format)
  if di.format == "preference" then
    warnings[#warnings + 1] = string.format("dataset '%s' holds preference pairs "
      .. "(chosen/rejected); the supervised workflows need instruction, chat or text data",
      req.dataset)
  end
  if di.gated then
    warnings[#warnings + 1] = string.format("dataset '%s' is gated: the job needs HF_TOKEN",
      req.dataset)
  end
  return di
end

-- true / false when the Hub said; "unknown" when it was not asked (offline) or did not answer:
-- a gated model then fails on the VM without HF_TOKEN, so the plan must not claim it is open.
function M.gated(mi)
  if mi.gated == nil then return "unknown" end
  return mi.gated and true or false
end

return M

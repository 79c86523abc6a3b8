-- vibeml.vault — secrets for the Lua half. Values never become Lua strings: they
-- stay in C (core/vault.c) and reach a child process through a SecretEnv handle that the process
-- spawner turns into environment entries at spawn time.
--
--   local secrets = require "vibeml.vault"
--   secrets.names()                 -> { "HF_TOKEN", ... }   (no key needed)
--   secrets.has("HF_TOKEN")         -> true | false
--   secrets.list() -> { {name=, created=, updated=}, ... }, {path=, key=, verified=}
--   secrets.env_for({"HF_TOKEN"}, {"WANDB_API_KEY"})  -> SecretEnv | nil, msg, code
--        required names first (a missing one is an error naming `vibeml secrets set NAME`),
--        optional names second (taken when present). SecretEnv:names(), :close(), :redact(text).
--   secrets.redact(text)            -> text with every secret this process loaded masked, count
--   secrets.missing(names)          -> names not in the vault (for plan warnings)
--   secrets.hint(name)              -> "vibeml secrets set NAME" (the exact command to add it)
--   secrets.cloud_credentials()     -> { {cloud=, path=, present=, what=, fix=}, ... }
--
-- Cloud credentials that SkyPilot reads from files (Nebius IAM token + tenant id, AWS, GCP...)
-- are NOT copied into the vault: SkyPilot reads them where the cloud's own tools put them.
-- cloud_credentials() only checks that they are there, for `vibeml doctor` / check_setup.
local M = {}
local V = vibeml.vault

M.valid_name = V.valid_name

function M.names()
  local names, err, code = V.names()
  if not names then return nil, err, code end
  return names
end

function M.list() return V.list() end

function M.has(name)
  local ok = V.has(name)
  return ok == true
end

function M.env_for(required, optional) return V.env_for(required or {}, optional) end

function M.redact(text) return V.redact(text) end

function M.prime() return V.prime() end

function M.hint(name) return "vibeml secrets set " .. name end

function M.missing(names)
  local have, out = {}, {}
  for _, n in ipairs(M.names() or {}) do have[n] = true end
  for _, n in ipairs(names or {}) do
    if not have[n] then out[#out + 1] = n end
  end
  return out
end

-- Where each cloud's credentials live (SkyPilot reads them there, as its
-- per-cloud set-up instructions say). `any` = one of these files is enough.
local CLOUD_FILES = {
  { cloud = "nebius", what = "IAM token or service-account key",
    any = { "~/.nebius/NEBIUS_IAM_TOKEN.txt", "~/.nebius/credentials.json" },
    fix = "nebius iam get-access-token > ~/.nebius/NEBIUS_IAM_TOKEN.txt  (or a service-account "
      .. "key: nebius iam auth-public-key generate ... --output ~/.nebius/credentials.json)" },
  { cloud = "nebius", what = "tenant id",
    any = { "~/.nebius/NEBIUS_TENANT_ID.txt" },
    fix = "copy your tenant id from the Nebius console into ~/.nebius/NEBIUS_TENANT_ID.txt "
      .. "(or set nebius.tenant_id in ~/.sky/config.yaml)" },
  { cloud = "aws", what = "access keys", env = "AWS_ACCESS_KEY_ID",
    any = { "~/.aws/credentials" }, fix = "aws configure" },
  { cloud = "gcp", what = "application default credentials", env = "GOOGLE_APPLICATION_CREDENTIALS",
    any = { "~/.config/gcloud/application_default_credentials.json",
      "~/.config/gcloud/credentials.db" },
    fix = "gcloud init && gcloud auth application-default login" },
  { cloud = "azure", what = "az login token", any = { "~/.azure/msal_token_cache.json",
    "~/.azure/accessTokens.json" }, fix = "az login" },
  { cloud = "lambda", what = "API key", any = { "~/.lambda_cloud/lambda_keys" },
    fix = "put `api_key = <key>` into ~/.lambda_cloud/lambda_keys" },
  { cloud = "kubernetes", what = "kubeconfig", env = "KUBECONFIG", any = { "~/.kube/config" },
    fix = "point ~/.kube/config (or KUBECONFIG) at your cluster" },
}

local function expand(path)
  local home = os.getenv("HOME") or ""
  return (path:gsub("^~", home))
end

-- One row per credential: {cloud=, what=, path=, present=, fix=}. path is the file found (or
-- the first place looked when none was). Nothing is read, only checked for existence.
function M.cloud_credentials()
  local out = {}
  for _, c in ipairs(CLOUD_FILES) do
    local found
    if c.env and os.getenv(c.env) and os.getenv(c.env) ~= "" then
      local v = os.getenv(c.env)
      found = (c.env:find("CREDENTIALS") or c.env == "KUBECONFIG") and v or ("$" .. c.env)
    end
    if not found then
      for _, p in ipairs(c.any) do
        local full = expand(p)
        if vibeml.fs.exists(full) == "file" then found = full break end
      end
    end
    out[#out + 1] = { cloud = c.cloud, what = c.what, path = found or expand(c.any[1]),
      present = found ~= nil, fix = c.fix }
  end
  return out
end

return M

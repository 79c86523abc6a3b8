-- SPDX-License-Identifier: MIT
--
-- vibeml.jobs.storage — where a job's checkpoints and outputs live, so that nothing a job
-- produces dies with its VM (SkyPilot: a managed job's VM is deleted when the job ends,
-- and a preempted job restarts on a new VM).
--
-- Every cloud job mounts one persistent bucket at MOUNT (mode MOUNT_CACHED, SkyPilot's advice
-- for checkpoints: writes go to local disk first and are uploaded in the background; the job is
-- not done until the upload is) and writes under its own prefix, never the bucket's root:
--     <bucket>/<job id>/checkpoints      <bucket>/<job id>/output
-- The bucket needs no set-up: its default name is derived from the SkyPilot user (stable, and
-- valid for every store SkyPilot supports), its store is the one of the cloud the plan put
-- first when that cloud has one (else SkyPilot's first enabled store). The `storage` preference
-- (`vibeml config set storage s3://my-bucket`) or a request's checkpoint_bucket overrides both.
-- Local jobs keep the same two folders inside their job folder.
--
--   storage.resolve{ bucket=, cloud=, user= } -> {bucket=, store=|nil, source=} | nil, message
--   storage.layout(job_id, where)   -> {mount=, checkpoints=, output=, bucket=, store=,
--                                       uri=, checkpoints_uri=, output_uri=, fetch=}
--   storage.local_layout(job_dir)   -> {checkpoints=, output=}
--   storage.apply(task, layout, job_id) -> the task with its mount and the job's envs
local ids = require "vibeml.ids"

local M = {}

M.MOUNT = "~/vibeml"
M.MODE = "MOUNT_CACHED"

-- The object store of each cloud that has one SkyPilot can mount (sky/data/storage.py
-- StoreType.from_cloud); clouds not listed get SkyPilot's first enabled store.
M.CLOUD_STORE = { aws = "s3", gcp = "gcs", azure = "azure", nebius = "nebius", oci = "oci",
                  ibm = "ibm", coreweave = "coreweave" }

-- Per store: the URI scheme people use and the one command that downloads a prefix.
-- %s = bucket, %p = prefix, %d = destination folder.
M.STORES = {
  s3 = { scheme = "s3", fetch = "aws s3 sync s3://%s/%p %d" },
  gcs = { scheme = "gs", fetch = "gcloud storage cp -r gs://%s/%p %d" },
  r2 = { scheme = "r2",
    fetch =
    "aws s3 sync s3://%s/%p %d --endpoint-url https://<ACCOUNT_ID>.r2.cloudflarestorage.com " ..
    "--profile r2" },
  nebius = { scheme = "nebius",
    fetch =
    "aws s3 sync s3://%s/%p %d --profile nebius --endpoint-url " ..
    "https://storage.<REGION>.nebius.cloud" },
  azure = { scheme = "azure",
    fetch =
    "az storage blob download-batch --account-name <ACCOUNT> -s %s --pattern '%p/*' -d %d" },
  oci = { scheme = "oci",
    fetch = "oci os object bulk-download -bn %s --prefix %p/ --download-dir %d" },
  ibm = { scheme = "cos", fetch = "rclone copy ibm:%s/%p %d" },
  coreweave = { scheme = "cw", fetch = "aws s3 sync s3://%s/%p %d --profile cw" },
}
local SCHEME_STORE = { s3 = "s3", gs = "gcs", gcs = "gcs", r2 = "r2", nebius = "nebius",
                       azure = "azure", az = "azure", oci = "oci", cos = "ibm", cw = "coreweave" }

local function schemes()
  local t = {}
  for k in pairs(SCHEME_STORE) do t[#t + 1] = k .. "://" end
  table.sort(t)
  return table.concat(t, ", ")
end

-- "s3://name" or "name" -> bucket, store (nil when not said) | nil, message.
function M.parse(text)
  if type(text) ~= "string" or text == "" then
    return nil, "storage must be a bucket name or URL"
  end
  local scheme, name = text:match("^([a-z0-9]+)://([^/]+)/?$")
  local store
  if scheme then
    store = SCHEME_STORE[scheme]
    if not store then
      return nil,
        string.format("storage %s: unknown store '%s://' (allowed: %s, or a bare bucket name)",
        text, scheme, schemes())
    end
  else
    name = text
  end
  local ok, e = ids.check_bucket(name)
  if not ok then return nil, "storage: " .. e end
  return name, store
end

-- The default bucket's name: "vibeml-<user>-<8 hex>" from the SkyPilot user (name and id), else
-- this machine's user. Lower case, 3-63 characters of [a-z0-9-]: valid on S3, GCS, Azure
-- (containers), R2, Nebius, OCI and IBM COS alike.
function M.default_bucket(user)
  user = user or {}
  local name = tostring(user.name or os.getenv("USER") or "user"):lower():gsub("[^a-z0-9]", "")
  if name == "" then name = "user" end
  name = name:sub(1, 20)
  local key = tostring(user.id or user.name or os.getenv("USER") or "user")
  return "vibeml-" .. name .. "-" .. vibeml.hash("vibeml-storage:" .. key, 16):sub(1, 8)
end

-- Chooses bucket and store. o.bucket: an explicit override ("s3://x" or "x", from the request
-- or the `storage` preference); o.cloud: the cloud of the plan's first candidate; o.user: the
-- SkyPilot user ({name=, id=}).
function M.resolve(o)
  o = o or {}
  local bucket, store, source
  if o.bucket and o.bucket ~= "" then
    local b, s = M.parse(o.bucket)
    if not b then return nil, s end
    bucket, store, source = b, s, o.bucket_source or "preference"
  else
    bucket, source = M.default_bucket(o.user), "default"
  end
  if not store and o.cloud then store = M.CLOUD_STORE[tostring(o.cloud):lower()] end
  return { bucket = bucket, store = store, source = source }
end

local function fill(tmpl, bucket, prefix, dest)
  return (tmpl:gsub("%%([spd])", { s = bucket, p = prefix, d = dest }))
end

function M.layout(job_id, where)
  local b, store = where.bucket, where.store
  local info = store and M.STORES[store]
  local function uri(sub)
    local prefix = job_id .. (sub and ("/" .. sub) or "")
    if info then return info.scheme .. "://" .. b .. "/" .. prefix end
    return b .. "/" .. prefix .. " (SkyPilot's default store)"
  end
  local fetch
  if info then
    fetch = fill(info.fetch, b, job_id .. "/output", "./" .. job_id .. "-output")
  end
  return {
    mount = M.MOUNT, bucket = b, store = store, source = where.source,
    checkpoints = M.MOUNT .. "/" .. job_id .. "/checkpoints",
    output = M.MOUNT .. "/" .. job_id .. "/output",
    uri = uri(nil), checkpoints_uri = uri("checkpoints"), output_uri = uri("output"),
    fetch = fetch,
  }
end

function M.local_layout(job_dir)
  return { checkpoints = job_dir .. "/checkpoints", output = job_dir .. "/output",
           output_uri = job_dir .. "/output", checkpoints_uri = job_dir .. "/checkpoints" }
end

-- Adds the job's folders to the task's envs (they override the parameters document) and, for a
-- cloud layout, the bucket mount. The task's own file_mounts may hold only buckets
-- (workflows.check_task), so the mount point is ours.
function M.apply(task, layout, job_id)
  task.envs = task.envs or {}
  task.envs.VIBEML_JOB_ID = job_id
  task.envs.VIBEML_CHECKPOINT_DIR = layout.checkpoints
  task.envs.VIBEML_OUTPUT_DIR = layout.output
  if layout.mount then
    task.file_mounts = task.file_mounts or {}
    task.file_mounts[layout.mount] = { name = layout.bucket, store = layout.store, mode = M.MODE,
                                       persistent = true }
  end
  return task
end

return M

-- SPDX-License-Identifier: MIT
--
-- Error translation rules for SkyPilot. Each rule matches the text
-- SkyPilot prints (`sky.exceptions.<Class>: msg` on stderr, controller failure reasons, job
-- statuses) and says, in plain words, what happened, what category it is, whether retrying the
-- same thing can help, and the concrete fixes an assistant can apply in one call.
-- Patterns are Lua patterns matched anywhere in the text (case-sensitive); `class` narrows a rule
-- to one exception class when SkyPilot named one. fixes(ctx) gets {cloud=, region=, gpu=,
-- count=, spot=, job_id=, cluster=, sky_job_id=, alternatives={ {gpu=, cloud=, region=, spot=,
-- cost=, delta=}, ... }} and returns a list of {title=, tool=, arguments=} or {title=, command=}.
local function relaunch(ctx, over, title)
  local args = { job_id = ctx.job_id }
  for k, v in pairs(over or {}) do args[k] = v end
  return { title = title, tool = "launch_training", arguments = args }
end

local function alternatives(ctx, why)
  local out = {}
  for i, a in ipairs(ctx.alternatives or {}) do
    if i > 3 then break end
    local where = a.cloud .. (a.region and ("/" .. a.region) or "")
    local delta = a.delta
      and string.format(" (%s$%.2f expected)", a.delta >= 0 and "+" or "-", math.abs(a.delta)) or ""
    out[#out + 1] = relaunch(ctx,
      { gpu = a.gpu, cloud = a.cloud, region = a.region, spot = a.spot },
      string.format("%s: launch on %s %s%s%s", why, a.gpu or "?", where, a.spot and " spot" or "",
        delta))
  end
  return out
end

local function cloud_or(ctx, dflt) return ctx.cloud or dflt or "nebius" end

local function add(list, more) for _, v in ipairs(more) do list[#list + 1] = v end return list end

-- Without SkyPilot: run here, or install it (the person's choice; both concrete).
local function local_or_install(ctx)
  return { relaunch(ctx, { backend = "local" }, "Run it on this machine instead (local backend; "
             .. "`vibeml config set backend local` makes that the default)"),
           { title = "Install SkyPilot for cloud GPUs, then enable a cloud",
             command = "pip install 'skypilot[" .. cloud_or(ctx) .. "]' && sky check" } }
end

local D = {
  kind = "error_rules",
  name = "skypilot",
  version = "1.0.0",
  description = "SkyPilot CLI errors, managed-job failure reasons and job exit codes",
  rules = {
    { id = "no_launchable_resource", n = 1, category = "capacity", retry = false,
      class = "ResourcesUnavailableError",
      patterns = { "No launchable resource found for task" },
      message = "No cloud you have enabled offers this GPU configuration.",
      fixes = function(ctx)
        return add(alternatives(ctx, "A GPU that is offered"), {
          { title = "See which clouds are enabled", command = "sky check" },
          { title = "List the GPUs on offer", command = "sky gpus list --all" } })
      end },
    { id = "accelerator_not_offered", n = 2, category = "invalid_resource", retry = false,
      patterns = { "does not contain any instances satisfying the request",
        "Try one of these offered accelerators:" },
      message =
        "That GPU name or count does not exist on the chosen cloud (counts must match an " ..
        "instance type, e.g. Nebius H100 comes as 1 or 8).",
      fixes = function(ctx)
        return add(alternatives(ctx, "A valid GPU/count"), {
          { title = "List the GPUs on offer", command = "sky gpus list --all" } })
      end },
    { id = "accelerator_ambiguous", n = 3, category = "invalid_resource", retry = false,
      patterns = { "Accelerator name '.-' is ambiguous" },
      message = "The GPU name is ambiguous; the exact canonical name is required.",
      fixes = function(ctx) return alternatives(ctx, "Use the exact GPU name") end },
    { id = "invalid_region", n = 4, category = "invalid_resource", retry = false,
      patterns = { "Invalid region '" },
      message = "The region does not exist on that cloud.",
      fixes = function(ctx)
        return { relaunch(ctx, { region = "" }, "Launch without pinning a region (any region)") }
      end },
    { id = "failed_to_provision", n = 5, category = "capacity", retry = true,
      patterns = { "Failed to provision all possible launchable resources",
        "Relax the task's resource requirements" },
      message = "No capacity for this GPU anywhere SkyPilot tried.",
      fixes = function(ctx)
        local f = alternatives(ctx, "Other GPU or region")
        if ctx.spot ~= nil then
          f[#f + 1] = relaunch(ctx, { spot = not ctx.spot }, ctx.spot
            and "Allow on-demand instead of spot" or "Allow spot instances")
        end
        f[#f + 1] = relaunch(ctx, { managed = true },
          "Launch as a managed job, which keeps retrying until capacity appears")
        if ctx.cluster then
          f[#f + 1] = { title = "Read the provisioning log", command = "sky logs --provision "
            .. ctx.cluster }
        end
        return f
      end },
    { id = "failed_to_acquire_region", n = 6, category = "capacity", retry = true,
      patterns = { "Failed to acquire resources", "InsufficientInstanceCapacity",
        "ZONE_RESOURCE_POOL_EXHAUSTED",
                   "Regions with capacity available:" },
      message = "The region is out of that GPU right now (a stockout).",
      fixes = function(ctx) return alternatives(ctx, "Another region or cloud") end },
    { id = "zero_quota", n = 7, category = "quota", retry = false,
      patterns = { "Found no quota for .- instances in region" },
      message = "Your cloud account has no quota for this instance type there.",
      fixes = function(ctx)
        local f =
          { { title = "Request a quota increase (see the cloud console)",
          command = "open https://docs.skypilot.co/en/latest/cloud-setup/quota.html" } }
        if ctx.spot ~= nil then
          f[#f + 1] = relaunch(ctx, { spot = not ctx.spot }, ctx.spot
            and "Try on-demand (separate quota)" or "Try spot (separate quota)")
        end
        return add(f, alternatives(ctx, "Another region or cloud"))
      end },
    { id = "quota_exceeded", n = 8, category = "quota", retry = false,
      patterns = { "Quota '.-' exceeded", "QUOTA_EXCEEDED", "VcpuLimitExceeded",
        "MaxSpotInstanceCountExceeded" },
      message = "A cloud quota is used up.",
      fixes = function(ctx)
        return add(
          { { title = "Request a higher quota in the cloud console",
            command = "open https://docs.skypilot.co/en/latest/cloud-setup/quota.html" } },
          alternatives(ctx, "Another region or cloud"))
      end },
    { id = "invalid_credentials", n = 9, category = "credentials", retry = false,
      patterns = { "due to invalid cloud credentials" },
      message = "The cloud's credentials are expired or invalid.",
      fixes = function(ctx)
        local c = cloud_or(ctx)
        local f = {}
        if c == "nebius" then
          f[1] = { title = "Regenerate the Nebius IAM token",
            command = "nebius iam get-access-token > ~/.nebius/NEBIUS_IAM_TOKEN.txt" }
        end
        f[#f + 1] = { title = "Re-check the credentials", command = "sky check " .. c }
        return f
      end },
    { id = "cloud_not_enabled", n = 10, category = "cloud_not_enabled", retry = false,
      patterns = { "which is not enabled", "which are not enabled",
        "not enabled%. To enable access" },
      message = "The cloud this job asks for is not enabled in SkyPilot.",
      fixes = function(ctx)
        return add(
          { { title = "Enable it (follow the hint it prints)", command = "sky check "
            .. cloud_or(ctx) } },
          alternatives(ctx, "A cloud you have enabled"))
      end },
    { id = "no_cloud_access", n = 11, category = "cloud_not_enabled", retry = false,
      class = "NoCloudAccessError",
      patterns = { "Cloud access is not set up" },
      message = "No cloud is configured in SkyPilot at all.",
      fixes = function(ctx)
        return { { title = "Set up a cloud, e.g. Nebius, then verify",
          command = "sky check nebius" },
                 relaunch(ctx, { backend = "local", workflow = "smoke" },
                   "Try the pipeline locally with the smoke workflow") }
      end },
    { id = "cluster_preempted", n = 13, category = "preempted", retry = true,
      patterns = { "not found on the cloud provider%. It was .-preempted" },
      message = "The spot cluster was preempted (or auto-downed).",
      fixes = function(ctx)
        return { relaunch(ctx, { managed = true },
          "Relaunch as a managed job so preemptions recover automatically") }
      end },
    { id = "cluster_not_found", n = 12, category = "not_found", retry = false,
      class = "ClusterDoesNotExist",
      patterns = { "Cluster '.-' does not exist", "Cluster%(s%) not found" },
      message = "The cluster no longer exists.",
      fixes = function(ctx)
        return { { title = "List clusters", command = "sky status" },
          relaunch(ctx, {}, "Relaunch the job") }
      end },
    { id = "cluster_not_up", n = 14, category = "not_found", retry = false,
      class = "ClusterNotUpError",
      patterns = { "It is only allowed for UP and AUTOSTOPPING clusters",
        "has been stopped or not properly set up" },
      message = "The cluster is stopped or still initialising.",
      fixes = function(ctx)
        return { { title = "Start it", command = "sky start " .. (ctx.cluster or "CLUSTER") },
          relaunch(ctx, {}, "Relaunch the job") }
      end },
    { id = "stopped_cluster_relaunch", n = 15, category = "capacity", retry = true,
      patterns = { "previous status: STOPPED%)%. To retry launching the cluster" },
      message =
        "A stopped cluster could not restart: its disk pins it to one region, which has no " ..
        "capacity now.",
      fixes = function(ctx)
        return { { title = "Tear it down, then relaunch elsewhere", command = "sky down -y "
          .. (ctx.cluster or "CLUSTER") },
                 relaunch(ctx, {}, "Relaunch the job on a fresh cluster") }
      end },
    { id = "job_failed", n = 16, category = "user_code", retry = false,
      patterns = { "The user job failed %(FAILED%)", "Job %d+: FAILED$", "Job %d+: FAILED\n" },
      message = "The training program exited with an error.",
      fixes = function(ctx)
        return { { title = "Read the job's log", tool = "get_job_logs",
          arguments = { job_id = ctx.job_id, stream = "stderr", tail = 100 } } }
      end },
    { id = "setup_failed", n = 16, category = "setup", retry = false,
      patterns = { "The user job failed %(FAILED_SETUP%)", "FAILED_SETUP" },
      message = "The job's setup step (installing packages, downloading) failed.",
      fixes = function(ctx)
        return { { title = "Read the setup log", tool = "get_job_logs",
          arguments = { job_id = ctx.job_id, stream = "stdout", tail = 100 } } }
      end },
    { id = "driver_failed", n = 17, category = "setup", retry = true,
      patterns = { "The job driver on the remote cluster failed", "FAILED_CONTROLLER",
        "FAILED_DRIVER" },
      message = "The job driver on the cluster died, usually out of memory or disk on the host.",
      fixes = function(ctx)
        return add(alternatives(ctx, "A larger machine"), {
          { title = "Read the controller log", command = "sky jobs logs --controller "
            .. tostring(ctx.sky_job_id or "") } })
      end },
    { id = "prechecks_failed", n = 18, category = "invalid_resource", retry = false,
      patterns = { "Failure happened before provisioning", "FAILED_PRECHECKS" },
      message =
        "SkyPilot refused the job before provisioning: configuration, credentials or an invalid " ..
        "task.",
      fixes = function(ctx)
        return { { title = "Check clouds and credentials", command = "sky check" },
                 { title = "Read the controller log", command = "sky jobs logs --controller "
                   .. tostring(ctx.sky_job_id or "") } }
      end },
    { id = "max_retries", n = 19, category = "capacity", retry = true,
      patterns = { "Resources unavailable: failed to launch clusters after %d+ retries",
        "FAILED_NO_RESOURCE" },
      message = "SkyPilot gave up finding capacity after many retries.",
      fixes = function(ctx) return alternatives(ctx, "Broaden to another GPU or cloud") end },
    { id = "preempted_recovering", n = 20, category = "preempted", retry = true,
      patterns = { "Cluster is preempted or failed", "User program crashed", "RECOVERING" },
      message =
        "The spot instance was preempted; SkyPilot is recovering the job and it resumes from " ..
        "its last checkpoint.",
      fixes = function(ctx)
        return { { title = "Nothing to do: watch the recovery", tool = "get_job_status",
                   arguments = { job_id = ctx.job_id }, command = "vibeml jobs show "
                     .. tostring(ctx.job_id or "ID") } }
      end },
    { id = "invalid_task", n = 21, category = "invalid_resource", retry = false,
      patterns = { "Invalid task YAML: " },
      message =
        "SkyPilot rejected the generated task file (a VibeML bug or a workflow plugin error).",
      fixes = function(ctx)
        return { { title = "Inspect the task that was generated", tool = "get_job_status",
          arguments = { job_id = ctx.job_id } } }
      end },
    { id = "api_server_down", n = 22, category = "api_server", retry = true,
      class = "ApiServerConnectionError",
      patterns = { "Could not connect to SkyPilot API server at" },
      message = "The SkyPilot API server is not running or not reachable.",
      fixes = function(ctx)
        return { { title = "Start the local API server", command = "sky api start" } } end },
    { id = "api_server_auth", n = 22, category = "api_server", retry = false,
      class = "ApiServerAuthenticationError",
      patterns = { "Authentication required for SkyPilot API server at" },
      message = "The SkyPilot API server needs you to log in.",
      fixes = function(ctx)
        return { { title = "Log in to the API server",
        command = "sky api login -e <endpoint>" } } end },
    -- VibeML's own checks before a launch reaches SkyPilot (jobs/skypilot.lua version/clouds)
    { id = "sky_missing", category = "setup", retry = false,
      patterns = { "`sky` command was not found", "no `sky` command on PATH", "^sky not found" },
      message = "SkyPilot is not installed (or not on PATH), so nothing can run on a cloud.",
      fixes = function(ctx) return local_or_install(ctx) end },
    { id = "sky_too_old", category = "setup", retry = false,
      patterns = { "is too old: VibeML needs >= 0%.12",
        "without a version: VibeML needs SkyPilot" },
      message = "The installed SkyPilot is older than VibeML needs (>= 0.12).",
      fixes = function(ctx)
        return { { title = "Upgrade SkyPilot", command = "pip install -U 'skypilot["
          .. cloud_or(ctx) .. "]'" },
                 relaunch(ctx, { backend = "local" },
                   "Run it on this machine instead (local backend)") }
      end },
    { id = "sky_no_cloud", category = "cloud_not_enabled", retry = false,
      patterns = { "no cloud is enabled in SkyPilot", "`sky check` failed" },
      message = "SkyPilot has no cloud it can use.",
      fixes = function(ctx)
        return { { title = "Set up a cloud's credentials, then verify", command = "sky check "
          .. cloud_or(ctx) },
                 relaunch(ctx, { backend = "local" },
                   "Run it on this machine instead (local backend)") }
      end },
    { id = "sky_not_answering", category = "api_server", retry = true,
      patterns = { "SkyPilot is not answering", "did not finish within %d+ s",
        "could not run .-sky" },
      message = "SkyPilot did not answer (its API server may be starting or stuck).",
      fixes = function(ctx)
        return { { title = "Restart the local SkyPilot API server",
          command = "sky api stop; sky api start" },
                 { title = "Check the set-up", tool = "check_setup", arguments = {},
                   command = "vibeml doctor" } }
      end },
    { id = "job_cancelled", category = "user_code", retry = false,
      patterns = { "CANCELLED" },
      message = "The job was cancelled outside VibeML.",
      fixes = function(ctx) return { relaunch(ctx, {}, "Relaunch the job") } end },
  },
}

-- the plugin loader's shape: every rule has `match` (its first Lua pattern); `patterns` holds all
for _, r in ipairs(D.rules) do r.match = r.match or r.patterns[1] end
return D

-- Error translation: every SkyPilot error pattern (and the training rules)
-- maps to its category with a plain message, fixes the assistant can apply, and the retry flag;
-- the rules also load through the plugin loader (kind error_rules).
local T = require "vibeml.test"
local errors = require "vibeml.jobs.errors"
local progress = require "vibeml.jobs.progress"

local CTX = { job_id = "j1", cloud = "nebius", region = "eu-north1", gpu = "H100", count = 1,
  spot = true,
  cluster = "vml-j1", sky_job_id = "7", model = "meta-llama/Llama-3.1-8B",
  hp = { per_device_batch_size = 4, gradient_accumulation_steps = 4, max_seq_length = 2048 },
  alternatives =
    { { gpu = "H200", cloud = "nebius", region = "us-central1", spot = true, cost = 5,
    delta = 1.25 },
                   { gpu = "A100-80GB", cloud = "aws", region = "us-east-1", spot = false, cost = 3,
                     delta = -0.75 } } }

local SKY = {
  { 1,
    "sky.exceptions.ResourcesUnavailableError: No launchable resource found for task sky-1. To " ..
    "fix: relax its resource requirements.", "capacity", false },
  { 2,
    "sky.exceptions.ResourcesUnavailableError: Catalog does not contain any instances " ..
    "satisfying the request: 1x Nebius({'H100': 3}). Try one of these offered accelerators: " ..
    "['H100:1', 'H100:8']", "invalid_resource", false },
  { 3,
    "ValueError: Accelerator name 'a100' is ambiguous. Please choose one of ['A100', 'A100-80GB'].",
    "invalid_resource", false },
  { 4, "ValueError: Invalid region 'eu-north9' Did you mean one of these: eu-north1?",
    "invalid_resource", false },
  { 5,
    "sky.exceptions.ResourcesUnavailableError: Failed to provision all possible launchable " ..
    "resources. Relax the task's resource requirements: 1x Nebius. To keep retrying until the " ..
    "cluster is up, use the `--retry-until-up` flag.", "capacity", true },
  { 6,
    "Failed to acquire resources in all zones in us-east-1\nReason: InsufficientInstanceCapacity",
    "capacity", true },
  { 7,
    "Found no quota for p4d.24xlarge spot instances in region us-east-1 in AWS. " ..
    "https://docs.skypilot.co/en/latest/cloud-setup/quota.html", "quota", false },
  { 8, "googleapiclient: Quota 'NVIDIA_H100_GPUS' exceeded. Limit: 0.0 in region us-central1.",
    "quota", false },
  { 9, "Failed to provision on cloud Nebius due to invalid cloud credentials: expired token",
    "credentials", false },
  { 10,
    "Task requires Nebius which is not enabled. To enable access, change the task cloud " ..
    "requirement or run: sky check nebius", "cloud_not_enabled", false },
  { 11, "sky.exceptions.NoCloudAccessError: Cloud access is not set up. Run: sky check",
    "cloud_not_enabled", false },
  { 12, "sky.exceptions.ClusterDoesNotExist: Cluster 'vml-x' does not exist.", "not_found", false },
  { 13, "Cluster 'vml-x' not found on the cloud provider. It was likely preempted or autodowned.",
    "preempted", true },
  { 14,
    "sky.exceptions.ClusterNotUpError: Job submission skipped for cluster 'c' (status: " ..
    "STOPPED). It is only allowed for UP and AUTOSTOPPING clusters.", "not_found", false },
  { 15,
    "Failed to launch cluster 'c' (previous status: STOPPED). To retry launching the cluster, " ..
    "run: sky start c", "capacity", true },
  { 16, "The user job failed (FAILED). To see the details, run: sky jobs logs --controller 7",
    "user_code", false },
  { 17, "The job driver on the remote cluster failed.", "setup", true },
  { 18, "Failure happened before provisioning.", "invalid_resource", false },
  { 19, "Resources unavailable: failed to launch clusters after 240 retries.", "capacity", true },
  { 20, "Cluster is preempted or failed. Recovering...", "preempted", true },
  { 21, "ValueError: Invalid task YAML: Instead of 'accelerator', did you mean 'accelerators'?",
    "invalid_resource", false },
  { 22,
    "sky.exceptions.ApiServerConnectionError: Could not connect to SkyPilot API server at " ..
    "http://127.0.0.1:46580.", "api_server", true },
}

T.case("all 22 SkyPilot patterns: category, message, fixes, retry", function()
  local seen = {}
  for _, c in ipairs(SKY) do
    local r = errors.classify(c[2], CTX, { sources = { "skypilot" } })
    T.ok(r, "pattern " .. c[1] .. " matched")
    T.eq(r.category, c[3], "pattern " .. c[1])
    T.eq(r.retry, c[4], "retry of pattern " .. c[1])
    T.ok(type(r.message) == "string" and #r.message > 10, "message " .. c[1])
    if c[1] ~= 20 then T.ok(#r.fixes >= 1, "fixes for pattern " .. c[1]) end
    for _, f in ipairs(r.fixes) do
      T.ok(f.title and (f.tool or f.command), "fix is a tool call or a command (" .. c[1] .. ")")
    end
    seen[r.category] = true
  end
  for _,
    cat in ipairs({ "capacity", "quota", "credentials", "cloud_not_enabled", "invalid_resource",
    "preempted",
                         "user_code", "not_found", "api_server" }) do
                           T.ok(seen[cat], "category " .. cat) end
  -- concrete: the exact sky check command, alternatives with the cost difference
  local r = errors.classify(SKY[10][2], CTX)
  T.eq(r.fixes[1].command, "sky check nebius")
  r = errors.classify(SKY[5][2], CTX)
  T.contains(r.fixes[1].title, "H200 nebius/us-central1 spot (+$1.25 expected)")
  T.eq(r.fixes[1].tool, "launch_training"); T.eq(r.fixes[1].arguments.gpu, "H200")
end)

T.case(
  "training rules: OOM halves the batch and doubles accumulation; disk, module, gated, columns",
  function()
  local r = errors.classify("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1 GiB",
    CTX, { sources = { "training" } })
  T.eq(r.category, "user_code")
  T.eq(r.fixes[1].arguments.hyperparameters.per_device_batch_size, 2)
  T.eq(r.fixes[1].arguments.hyperparameters.gradient_accumulation_steps, 8)
  T.eq(errors.classify("OSError: [Errno 28] No space left on device", CTX).category, "setup")
  T.eq(errors.classify("ModuleNotFoundError: No module named 'trl'", CTX).category, "setup")
  r =
    errors.classify(
    "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo", CTX)
  T.eq(r.category, "credentials"); T.eq(r.fixes[1].command, "vibeml secrets set HF_TOKEN")
  T.eq(errors.classify("KeyError: 'instruction'", CTX).category, "user_code")
  T.eq(errors.classify("all good", CTX), nil)
  local d = errors.backoff(10, 2, 60)
  T.ok(d <= 60 * 1.25 and d >= 60 * 0.75, "backoff bounded")
end)

T.case("the rule files load through the plugin loader too", function()
  local ok, plugins = pcall(require, "vibeml.plugins")
  if not ok then return end
  local names = {}
  for _, p in ipairs(plugins.list("error_rules") or {}) do names[p.name] = true end
  T.ok(names.skypilot and names.training, "skypilot and training rule plugins live")
end)

T.case("progress parser: @@VIBEML, both Trainer float styles, tqdm, behind SkyPilot prefixes",
  function()
  local k, t = progress.parse_line('(task, pid=17499) @@VIBEML {"v":1,"event":"step","step":12,'
    .. '"total_steps":60,"loss":1.23,"lr":0.0002,"tokens_per_s":5120.5,"eta_s":120.5}')
  T.eq(k, "vibeml"); local p = progress.to_progress(k, t)
  T.eq(p.step, 12); T.eq(p.total_steps, 60); T.eq(p.loss, 1.23); T.eq(p.tokens_per_s, 5120.5);
    T.eq(p.eta_s, 120.5)
  k,
    t =
    progress.parse_line(
    "(task, pid=1) {'loss': 1.2345, 'grad_norm': 0.5678, 'learning_rate': 0.0002, 'epoch': 0.01}")
  p = progress.to_progress(k, t); T.eq(k, "hf_log"); T.eq(p.loss, 1.2345); T.eq(p.lr, 0.0002)
  k,
    t =
    progress.parse_line(
    "{'loss': '1.234', 'grad_norm': '0.5678', 'learning_rate': '0.0002', 'epoch': '0.01'}")
  p = progress.to_progress(k, t); T.eq(p.loss, 1.234); T.eq(p.epoch, 0.01)
  k, t = progress.parse_line("{'train_runtime': 462.7, 'train_loss': 0.9, 'epoch': 1.0}")
  T.eq(progress.to_progress(k, t).event, "end")
  k, t = progress.parse_line(" 10%|#         | 6/60 [00:15<02:15,  2.5s/it]\r"
    .. " 20%|██        | 12/60 [00:30<02:00,  2.52s/it]")
  p = progress.to_progress(k, t); T.eq(k, "tqdm"); T.eq(p.step, 12); T.eq(p.total_steps, 60);
    T.eq(p.eta_s, 120)
  k,
    t =
    progress.parse_line("1200/6000 is not a bar; 20%|██| 1200/6000 [1:02:03<4:08:12,  3.10s/it]")
  T.eq(progress.to_progress(k, t).eta_s, 4 * 3600 + 8 * 60 + 12)
  T.eq(progress.parse_line("plain text"), nil)
  T.eq(progress.strip_ansi("\27[1mManaged Job ID: 3\27[0m"), "Managed Job ID: 3")
  local split = progress.splitter()
  local a = split("one\ntw")
  T.eq(#a, 1); local b = split("o\n"); T.eq(b[1], "two")
end)

return T.run()

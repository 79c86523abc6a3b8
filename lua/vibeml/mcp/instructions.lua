-- vibeml.mcp.instructions — what the model reads about VibeML when a client connects: the
-- `instructions` of the initialize result (core/mcp.c passes this text through unchanged).
-- Keep it short: it is in every conversation the server joins.
return table.concat({
  "VibeML plans, launches, watches, prices and stops LLM fine-tuning jobs on cloud GPUs "
    .. "(through SkyPilot) or on this machine, within the user's budget.",
  "How to use it well:",
  "1. Call check_setup first: it says which backends, secrets and plugins are ready and how "
    .. "to fix what is missing.",
  "2. Before launching anything, plan it (plan_training) and show the person the plan: GPU, "
    .. "expected duration and the cost range. Launch only after they agree.",
  "3. Launching returns a job id at once; poll get_job_status (and get_job_logs) instead of "
    .. "waiting, and report progress and cost so far.",
  "4. Never ask the user to paste a secret (API key, token) into the chat. Tell them to run "
    .. "`vibeml secrets set NAME` in a terminal; tools only ever report secret names.",
  "5. Spending beyond the budget needs the person's own confirmation; do not try to work "
    .. "around a budget refusal.",
}, "\n")

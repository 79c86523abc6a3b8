// A per-job cap below the plan's expected cost (issue 13, "money said before it is spent"):
// a warning in the plan; at launch, a question through elicitation, or without it a refusal
// with the numbers; the same cap in the job, its status and the budget. Through `vibeml serve`,
// the official SDK client and the stand-in `sky` (run by test_assistant_cap.sh: a $100 monthly
// budget and a $0.50 per-job cap).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const clients = [];
after(async () => { for (const c of clients) await c.close().catch(() => {}); });

async function connect({ onElicit } = {}) {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], env: { ...process.env }, stderr: 'pipe' });
  const client = new Client({ name: 'vibeml-assistant-cap', version: '1.0.0' },
    { capabilities: onElicit ? { elicitation: { form: {} } } : {} });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(transport);
  clients.push(client);
  return client;
}

const REQUEST = { model: 'meta-llama/Llama-3.1-8B', dataset: 'yahma/alpaca-cleaned', workflow: 'lora',
  offline: true };
const launches = () => Number(execFileSync('sh', ['-c',
  `grep -c '"jobs", "launch"' "$FAKE_SKY_STATE/argv.log" || true`]).toString().trim());

let planId, expected;

test('the plan warns that the cap stops the job early', async () => {
  const c = await connect();
  const r = await c.callTool({ name: 'plan_training', arguments: REQUEST });
  assert.ok(!r.isError, JSON.stringify(r.content));
  const p = r.structuredContent;
  expected = p.best.cost.expected;
  assert.ok(expected > 0.5, `expected ${expected}`);
  assert.equal(p.cap.usd, 0.5);
  assert.equal(p.cap.below_expected, true);
  assert.equal(p.cap.stops_at_percent, Math.floor(50 / expected));
  const w = p.warnings.filter((x) => /\bcap\b/.test(x));
  assert.equal(w.length, 1, JSON.stringify(p.warnings));
  assert.match(w[0], /the cap of \$0\.50 is below the expected cost of \$\d+\.\d\d: the job would be stopped at about \d+%/);
  planId = p.plan_id;
});

test('without elicitation: refused with the numbers and how to go on, nothing launched', async () => {
  const c = await connect();
  const r = await c.callTool({ name: 'launch_training', arguments: { plan_id: planId, backend: 'skypilot' } });
  assert.equal(r.isError, true, JSON.stringify(r));
  const text = r.content[0].text;
  assert.match(text, /^Not launched: the cap of \$0\.50 is below the expected cost of \$\d+\.\d\d/);
  assert.match(text, /stopped at about \d+%/);
  assert.match(text, /max_steps/);
  assert.match(text, /vibeml budget set --per-job USD/);
  assert.equal(launches(), 0);
});

test('with elicitation, declined: asked once, nothing launched', async () => {
  const asked = [];
  const c = await connect({ onElicit: async (req) => { asked.push(req.params); return { action: 'decline' }; } });
  const r = await c.callTool({ name: 'launch_training', arguments: { plan_id: planId, backend: 'skypilot' } });
  assert.equal(r.isError, true);
  assert.equal(asked.length, 1);
  assert.match(asked[0].message, /^The cap of \$0\.50 is below this job's expected cost of \$\d+\.\d\d: it would be stopped at about \d+% of its training\. Launch anyway\?$/);
  assert.equal(asked[0].requestedSchema.properties.launch.type, 'boolean');
  assert.match(r.content[0].text, /the person declined/);
  assert.equal(launches(), 0);
});

test('with elicitation, accepted: launched with the one cap shown everywhere', async () => {
  const c = await connect({ onElicit: async () => ({ action: 'accept', content: { launch: true } }) });
  const r = await c.callTool({ name: 'launch_training', arguments: { plan_id: planId, backend: 'skypilot' } });
  assert.ok(!r.isError, JSON.stringify(r.content));
  assert.equal(launches(), 1);
  const job = r.structuredContent;
  assert.equal(job.cost.cap, 0.5);
  assert.match(job.summary, /cap \$0\.50/);
  const st = await c.callTool({ name: 'get_job_status', arguments: { job_id: job.id } });
  assert.equal(st.structuredContent.cost.cap, 0.5);
  assert.match(st.content[0].text, /\(cap \$0\.50\)/);
  const b = await c.callTool({ name: 'get_budget', arguments: {} });
  assert.equal(b.structuredContent.per_job_cap, 0.5);
  const mine = b.structuredContent.jobs.find((j) => j.job_id === job.id);
  assert.equal(mine.cap, 0.5);
  const show = JSON.parse(execFileSync(BIN, ['jobs', 'show', job.id, '--json']).toString());
  assert.equal(show.cost.cap, 0.5);
  await c.callTool({ name: 'terminate_job', arguments: { job_id: job.id, grace: 0 } });
});

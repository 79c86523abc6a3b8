// The assistant's path through `vibeml serve` with the official SDK client (issue 13): a plan
// launched by its plan_id, a stale plan re-planned with a note, a lean tools/list, summary/next
// on every structured result, get_job_status wait_s answering on a state change, resource and
// argument errors with the spec's codes, and prompts that ask for what works.
// Run by test_assistant_mcp.sh: VIBEML_BIN, VIBEML_HOME (fresh), no SkyPilot (local backend).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const BIN = process.env.VIBEML_BIN;
const DB = `${process.env.VIBEML_HOME}/vibeml.db`;
const sql = (q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', DB, q]).toString().trim();
let client;
before(async () => {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], stderr: 'pipe',
    env: { ...process.env, VIBEML_POLL_INTERVAL: '0.3' } });
  client = new Client({ name: 'vibeml-assistant-tests', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
});
let server;
after(async () => {
  await client?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
});

const SMOKE = { model: 'HuggingFaceTB/SmolLM2-135M', dataset: 'karpathy/tiny_shakespeare',
  workflow: 'smoke', offline: true, hyperparameters: { max_steps: 30, step_delay_s: 0.02 } };

async function call(name, args) {
  const r = await client.callTool({ name, arguments: args });
  return r;
}
function ok(r) {
  assert.ok(!r.isError, JSON.stringify(r.content));
  assert.equal(typeof r.structuredContent.summary, 'string');
  assert.ok(r.structuredContent.summary.length > 0 && !r.structuredContent.summary.includes('\n'));
  assert.ok(Array.isArray(r.structuredContent.next));
  for (const n of r.structuredContent.next) {
    assert.equal(typeof n.tool, 'string');
    assert.equal(typeof n.arguments, 'object');
  }
  return r.structuredContent;
}
async function until(id, states, seconds = 60) {
  const t0 = Date.now();
  for (;;) {
    const st = ok(await call('get_job_status', { job_id: id, wait_s: 5 }));
    if (states.includes(st.state)) return st;
    if (Date.now() - t0 > seconds * 1000) assert.fail(`job ${id} stuck in ${st.state}`);
  }
}

test('tools/list stays under 12,000 characters', async () => {
  const { tools } = await client.listTools();
  const size = JSON.stringify(tools).length;
  assert.ok(size < 12000, `tools/list is ${size} characters`);
  const launch = tools.find((t) => t.name === 'launch_training');
  const plan = tools.find((t) => t.name === 'plan_training');
  // launch takes every planning input, and a plan_id
  for (const k of Object.keys(plan.inputSchema.properties)) {
    assert.ok(k in launch.inputSchema.properties, `launch_training lacks ${k}`);
  }
  assert.ok('plan_id' in launch.inputSchema.properties);
  assert.ok('wait_s' in tools.find((t) => t.name === 'get_job_status').inputSchema.properties);
  for (const t of tools) assert.deepEqual(t.outputSchema.required.slice(0, 2), ['summary', 'next'], t.name);
});

test('plan, then launch that plan by plan_id', async () => {
  const plan = ok(await call('plan_training', SMOKE));
  assert.match(plan.plan_id, /^p-[a-z0-9]{10}$/);
  assert.deepEqual(plan.next[0], { tool: 'launch_training', arguments: { plan_id: plan.plan_id } });
  const launched = ok(await call('launch_training', { plan_id: plan.plan_id, backend: 'local' }));
  assert.equal(launched.plan_id, plan.plan_id);
  assert.equal(launched.note, undefined, 'a fresh plan is launched as quoted');
  assert.equal(launched.workflow, 'smoke');
  assert.deepEqual(launched.estimate.cost, plan.best.cost);
  assert.equal(launched.next[0].tool, 'get_job_status');
  const done = await until(launched.id, ['completed', 'failed', 'terminated']);
  assert.equal(done.state, 'completed', JSON.stringify(done));
  assert.equal(done.progress.step, 30);
  assert.equal(done.progress.eta_s, undefined, 'a finished job has no ETA');
  assert.doesNotMatch(done.summary, /min left/);
});

test('a stale plan is re-planned, with a note', async () => {
  const plan = ok(await call('plan_training', SMOKE));
  sql(`UPDATE plans SET created = created - 3600 WHERE id = '${plan.plan_id}'`);
  const launched = ok(await call('launch_training', { plan_id: plan.plan_id, backend: 'local' }));
  assert.match(launched.note, /^Re-planned because the quote is 6\d min old/);
  assert.match(launched.note, /same as quoted/);
  assert.match(launched.summary, /Re-planned/);
  await until(launched.id, ['completed', 'failed', 'terminated']);
  // a changed input re-plans too, and says which
  const p2 = ok(await call('plan_training', SMOKE));
  const l2 = ok(await call('launch_training', { plan_id: p2.plan_id, backend: 'local',
    hyperparameters: { max_steps: 12, step_delay_s: 0.01 } }));
  assert.match(l2.note, /you changed hyperparameters/);
  await until(l2.id, ['completed', 'failed', 'terminated']);
  const bad = await call('launch_training', { plan_id: 'p-nope' });
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /no plan 'p-nope'.*plan_training/);
});

test('launching from raw inputs takes every plan_training input', async () => {
  const r = ok(await call('launch_training', { ...SMOKE, params_b: 0.135, preference: 'cheapest',
    backend: 'local', hyperparameters: { max_steps: 5, step_delay_s: 0.01 } }));
  await until(r.id, ['completed', 'failed', 'terminated']);
});

test('get_job_status wait_s answers when the job changes, with progress notifications', async () => {
  const launched = ok(await call('launch_training', { ...SMOKE, backend: 'local',
    hyperparameters: { max_steps: 4000, step_delay_s: 0.05 } }));
  const id = launched.id;
  const running = await until(id, ['running']);
  const notes = [];
  const st = ok((await client.callTool({ name: 'get_job_status', arguments: { job_id: id, wait_s: 30 } },
    undefined, { onprogress: (p) => notes.push(p) })));
  assert.ok(st.progress.step > (running.progress.step ?? -1) || st.state !== 'running');
  assert.ok(notes.length >= 1, 'a progress notification while waiting');
  // a stop while another request waits: the server keeps answering
  const waiting = client.callTool({ name: 'get_job_status', arguments: { job_id: id, wait_s: 2 } });
  const list = ok(await call('list_jobs', {}));
  assert.ok(list.jobs.some((j) => j.id === id));
  await waiting;
  ok(await call('terminate_job', { job_id: id }));
  const end = await until(id, ['terminated', 'completed', 'failed']);
  assert.equal(end.state, 'terminated');
  assert.equal(end.progress.eta_s, undefined);
  // wait_s on an ended job answers at once, without waiting notes
  const none = [];
  ok(await client.callTool({ name: 'get_job_status', arguments: { job_id: id, wait_s: 60 } },
    undefined, { onprogress: (p) => none.push(p) }));
  assert.equal(none.length, 0);
});

test('errors name tools and use the spec codes', async () => {
  await assert.rejects(client.readResource({ uri: 'vibeml://jobs/nope' }), (e) => e.code === -32002);
  await assert.rejects(client.subscribeResource({ uri: 'vibeml://jobs/nope' }), (e) => e.code === -32002);
  const b = await call('get_budget', { month: '2026-13' });
  assert.equal(b.isError, true);
  assert.match(b.content[0].text, /MM 01-12/);
  for (const [name, args] of [['get_job_logs', { job_id: 'nope' }], ['terminate_job', { job_id: 'nope' }],
    ['get_job_status', { job_id: 'nope' }]]) {
    const r = await call(name, args);
    assert.equal(r.isError, true, name);
    assert.match(r.content[0].text, /list_jobs/, name);
    assert.doesNotMatch(r.content[0].text, /vibeml jobs/, name);
  }
  const nul = await call('get_job_status', { job_id: 'a\u0000b' });
  assert.equal(nul.isError, true);
  assert.match(nul.content[0].text, /list_jobs/, 'the text goes on after a NUL byte');
});

test('prompts ask for what works', async () => {
  const cmp = await client.getPrompt({ name: 'compare_approaches',
    arguments: { model: 'meta-llama/Llama-3.1-8B', dataset: 'yahma/alpaca-cleaned' } });
  const text = cmp.messages[0].content.text;
  assert.match(text, /Call plan_training once/);
  assert.doesNotMatch(text, /smoke/);
  await assert.rejects(client.getPrompt({ name: 'fine_tune', arguments: {
    model: 'm/x', dataset: 'd/y', max_cost: 'five dollars' } }), (e) => e.code === -32602 && /five dollars.*number/.test(e.message));
  const ft = await client.getPrompt({ name: 'fine_tune', arguments: { model: 'm/x', dataset: 'd/y', max_cost: '$5' } });
  assert.match(ft.messages[0].content.text, /more than \$5\.00 /);
  assert.match(ft.messages[0].content.text, /plan_id/);
});

test('over HTTP with a token: the same path, plan_id to a finished job', async () => {
  const tokenFile = `${process.env.VIBEML_HOME}/token`;
  const token = 'assistant-path-token-0123456789abcdef';
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const url = await new Promise((resolve, reject) => {
    server = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--token-file', tokenFile], {
      env: { ...process.env, VIBEML_POLL_INTERVAL: '0.3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    server.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  const transport = new StreamableHTTPClientTransport(new URL(url),
    { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const h = new Client({ name: 'vibeml-assistant-http', version: '1.0.0' }, { capabilities: {} });
  await h.connect(transport);
  try {
    const { tools } = await h.listTools();
    assert.ok(JSON.stringify(tools).length < 12000);
    const plan = await h.callTool({ name: 'plan_training', arguments: SMOKE });
    assert.ok(!plan.isError, JSON.stringify(plan.content));
    const launched = await h.callTool({ name: 'launch_training',
      arguments: { plan_id: plan.structuredContent.plan_id, backend: 'local' } });
    assert.ok(!launched.isError, JSON.stringify(launched.content));
    assert.equal(launched.structuredContent.note, undefined);
    let st = launched.structuredContent;
    for (let i = 0; i < 30 && !['completed', 'failed', 'terminated'].includes(st.state); i++) {
      st = (await h.callTool({ name: 'get_job_status', arguments: { job_id: st.id, wait_s: 10 } })).structuredContent;
    }
    assert.equal(st.state, 'completed', JSON.stringify(st));
    assert.equal(typeof st.summary, 'string');
    await assert.rejects(h.readResource({ uri: 'vibeml://jobs/nope' }), (e) => e.code === -32002);
  } finally {
    await h.close().catch(() => {});
  }
});

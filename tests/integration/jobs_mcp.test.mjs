// The job loop through `vibeml serve` and the official SDK client: launch_training (local
// backend, smoke workflow) returns the handle at once, the server's poll service tracks the job,
// a subscription to vibeml://jobs/{id} receives resources/updated notifications, status shows
// progress and loss, logs are readable, and terminate_job stops a second job gracefully.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
let client;
after(async () => { await client?.close().catch(() => {}); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitState(id, states, seconds = 60) {
  const t0 = Date.now();
  for (;;) {
    const r = await client.callTool({ name: 'get_job_status', arguments: { job_id: id } });
    assert.ok(!r.isError, JSON.stringify(r.content));
    if (states.includes(r.structuredContent.state)) return r.structuredContent;
    if (Date.now() - t0 > seconds * 1000) assert.fail(`job ${id} stuck in ${r.structuredContent.state}`);
    await sleep(200);
  }
}

test('launch, track with notifications, logs, terminate', async () => {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], stderr: 'pipe',
    env: { ...process.env, VIBEML_POLL_INTERVAL: '0.3' } });
  client = new Client({ name: 'vibeml-jobs-tests', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  const updates = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params.uri));

  const t0 = Date.now();
  const launched = await client.callTool({ name: 'launch_training', arguments: {
    model: 'HuggingFaceTB/SmolLM2-135M', dataset: 'karpathy/tiny_shakespeare', workflow: 'smoke',
    backend: 'local', hyperparameters: { max_steps: 60, step_delay_s: 0.03 } } });
  assert.ok(!launched.isError, JSON.stringify(launched.content));
  const job = launched.structuredContent;
  assert.equal(job.backend, 'local');
  assert.match(job.where, /this machine/);
  assert.ok(Date.now() - t0 < 10000, 'the handle comes back at once');
  await client.subscribeResource({ uri: `vibeml://jobs/${job.id}` });

  const done = await waitState(job.id, ['completed', 'failed', 'terminated']);
  assert.equal(done.state, 'completed', JSON.stringify(done));
  assert.equal(done.progress.step, 60);
  assert.ok(typeof done.progress.loss === 'number');
  assert.ok(updates.includes(`vibeml://jobs/${job.id}`), `resources/updated for the job: ${JSON.stringify(updates)}`);
  const res = await client.readResource({ uri: `vibeml://jobs/${job.id}` });
  assert.equal(JSON.parse(res.contents[0].text).state, 'completed');
  const logs = await client.callTool({ name: 'get_job_logs', arguments: { job_id: job.id, tail: 5 } });
  assert.ok(!logs.isError);
  assert.ok(JSON.stringify(logs.structuredContent).includes('@@VIBEML'));
  const list = await client.callTool({ name: 'list_jobs', arguments: {} });
  assert.ok(list.structuredContent.jobs.some((j) => j.id === job.id));

  // a long job, stopped gracefully mid-run
  const second = await client.callTool({ name: 'launch_training', arguments: {
    model: 'HuggingFaceTB/SmolLM2-135M', dataset: 'karpathy/tiny_shakespeare', workflow: 'smoke',
    backend: 'local', hyperparameters: { max_steps: 5000, step_delay_s: 0.05, save_steps: 10 } } });
  const id2 = second.structuredContent.id;
  const running = await waitState(id2, ['running']);
  assert.equal(running.state, 'running');
  // mid-run: once it has made progress (its start can take seconds on a loaded machine)
  for (let st = running; !(st.progress.step > 0); ) {
    const r = await client.callTool({ name: 'get_job_status', arguments: { job_id: id2, wait_s: 5 } });
    st = r.structuredContent;
    assert.equal(st.state, 'running', JSON.stringify(st));
  }
  const stopped = await client.callTool({ name: 'terminate_job', arguments: { job_id: id2 } });
  assert.ok(!stopped.isError, JSON.stringify(stopped.content));
  const end = await waitState(id2, ['terminated', 'completed', 'failed']);
  assert.equal(end.state, 'terminated');
  assert.ok(end.progress.step < 5000, JSON.stringify(end));
});

// Cloud jobs through `vibeml serve` and the official SDK client, with the VM simulator on PATH as
// `sky` (tests/fixtures/fake_sky): launch_training on the skypilot backend ships the smoke
// workflow's files to a VM that holds nothing else, the job completes there with loss, logs and
// cost, its output is in its own prefix of the durable bucket after the VM is gone, and
// get_job_status / vibeml://jobs/{id} name it with the command that fetches it. A preemption
// right after the first checkpoint resumes from that checkpoint on a new VM, and a push_to_hub
// launch without HF_TOKEN is refused before anything runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const BIN = process.env.VIBEML_BIN;
const STATE = process.env.FAKE_SKY_STATE;
let client;
after(async () => { await client?.close().catch(() => {}); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function knob(key, value) {
  const p = path.join(STATE, 'state.json');
  const st = fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : {};
  st[key] = value;
  fs.writeFileSync(p + '.t', JSON.stringify(st));
  fs.renameSync(p + '.t', p);
}
const nextSkyId = () => {
  const p = path.join(STATE, 'state.json');
  return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8')).next_id || 1) : 1;
};

async function waitState(id, states, seconds = 90) {
  const t0 = Date.now();
  for (;;) {
    const r = await client.callTool({ name: 'get_job_status', arguments: { job_id: id } });
    assert.ok(!r.isError, JSON.stringify(r.content));
    if (states.includes(r.structuredContent.state)) return r;
    if (Date.now() - t0 > seconds * 1000) assert.fail(`job ${id} stuck in ${r.structuredContent.state}`);
    await sleep(250);
  }
}

const SMOKE = { model: 'acme/tiny-1B', dataset: 'acme/text', workflow: 'smoke', backend: 'skypilot',
  offline: true };

test('a cloud smoke job completes on a VM and its output outlives it', async () => {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], stderr: 'pipe',
    env: { ...process.env, VIBEML_POLL_INTERVAL: '0.2' } });
  client = new Client({ name: 'vibeml-cloud-tests', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);

  const launched = await client.callTool({ name: 'launch_training', arguments: {
    ...SMOKE, hyperparameters: { max_steps: 60, save_steps: 20, step_delay_s: 0.02 } } });
  assert.ok(!launched.isError, JSON.stringify(launched.content));
  const id = launched.structuredContent.id;
  assert.match(launched.structuredContent.where, /SkyPilot managed job/);

  const r = await waitState(id, ['completed', 'failed', 'terminated']);
  const st = r.structuredContent;
  assert.equal(st.state, 'completed', JSON.stringify(st.failure));
  assert.equal(st.progress.step, 60);
  assert.equal(typeof st.progress.loss, 'number');
  assert.equal(st.progress.eta_s, undefined, 'no ETA once finished');
  assert.equal(st.cost.rate_hr, 0.096);
  const o = st.outputs;
  assert.equal(o.output, `s3://${o.bucket}/${id}/output`);
  assert.ok(o.saved);
  assert.match(o.fetch, new RegExp(`^aws s3 sync s3://${o.bucket}/${id}/output `));
  assert.match(r.content[0].text, new RegExp(`Output: s3://${o.bucket}/${id}/output`));
  assert.ok(fs.existsSync(path.join(STATE, 'buckets', o.bucket, id, 'output', 'model.json')),
    'the trained output is in the job\'s bucket prefix');
  const vms = fs.existsSync(path.join(STATE, 'vms')) ? fs.readdirSync(path.join(STATE, 'vms')) : [];
  assert.deepEqual(vms, [], 'the VM is gone');
  const res = await client.readResource({ uri: `vibeml://jobs/${id}` });
  assert.equal(JSON.parse(res.contents[0].text).outputs.output, o.output);
  const logs = await client.callTool({ name: 'get_job_logs', arguments: { job_id: id, tail: 200 } });
  assert.ok(JSON.stringify(logs.structuredContent).includes('(task, pid='), 'SkyPilot log lines');
});

test('a preemption after the first checkpoint resumes from it on a new VM', async () => {
  knob('preempt', { [String(nextSkyId())]: { after_checkpoints: 1 } });
  const launched = await client.callTool({ name: 'launch_training', arguments: {
    ...SMOKE, hyperparameters: { max_steps: 40, save_steps: 10, step_delay_s: 0.03 } } });
  assert.ok(!launched.isError, JSON.stringify(launched.content));
  const id = launched.structuredContent.id;
  const st = (await waitState(id, ['completed', 'failed', 'terminated'])).structuredContent;
  knob('preempt', {});
  assert.equal(st.state, 'completed', JSON.stringify(st.failure));
  assert.equal(st.recoveries, 1);
  const ev = await client.callTool({ name: 'get_job_logs', arguments: { job_id: id, stream: 'events', tail: 500 } });
  const starts = ev.structuredContent.lines.map((l) => JSON.parse(l)).filter((e) => e.data && e.data.event === 'start');
  assert.equal(starts.length, 2, JSON.stringify(starts));
  assert.equal(starts[0].data.resumed_from_step, 0);
  assert.ok(starts[1].data.resumed_from_step > 0, JSON.stringify(starts[1]));
});

test('push_to_hub without HF_TOKEN in the vault is refused before anything runs', async () => {
  const before = nextSkyId();
  const r = await client.callTool({ name: 'launch_training', arguments: {
    ...SMOKE, push_to_hub: 'acme/my-smoke', hyperparameters: { max_steps: 10 } } });
  assert.ok(r.isError);
  assert.match(r.content[0].text, /HF_TOKEN/);
  assert.match(r.content[0].text, /vibeml secrets set HF_TOKEN/);
  assert.equal(nextSkyId(), before, 'nothing was sent to SkyPilot');
});

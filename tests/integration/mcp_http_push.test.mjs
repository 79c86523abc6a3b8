// Server-initiated notifications over Streamable HTTP reach the client on its standing GET stream
// while no request is open (issue 13): a client subscribed to vibeml://jobs/{id} gets
// notifications/resources/updated as the job runs and ends, though it sends nothing meanwhile.
// The poller runs once per process in a state no client talks to; each session announces the
// jobs that changed (lua/vibeml/services/job_updates.lua).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
const BIN = process.env.VIBEML_BIN;
let child;
after(() => child?.kill('SIGTERM'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
test('resources/updated arrives on the GET stream while no request is open', async () => {
  const url = await new Promise((resolve, reject) => {
    child = spawn(BIN, ['serve', '--http', '127.0.0.1:0'], { env: { ...process.env, VIBEML_POLL_INTERVAL: '0.3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/); if (m) resolve(m[1]); });
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 't', version: '1' }, { capabilities: {} });
  const updates = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push([Date.now(), n.params.uri]));
  await client.connect(transport);
  const r = await client.callTool({ name: 'launch_training', arguments: { model: 'acme/tiny-1B', dataset: 'acme/text', workflow: 'smoke', backend: 'local', offline: true, hyperparameters: { max_steps: 40, step_delay_s: 0.05 } } });
  assert.ok(!r.isError, JSON.stringify(r.content));
  await client.subscribeResource({ uri: `vibeml://jobs/${r.structuredContent.id}` });
  // no request from here on: only the GET stream can carry anything, until the job has ended
  const uri = `vibeml://jobs/${r.structuredContent.id}`;
  for (let i = 0; i < 240 && updates.length < 2; i++) await sleep(250);
  assert.ok(updates.length >= 2, `updates while idle: ${JSON.stringify(updates)}`);
  assert.ok(updates.every(([, u]) => u === uri || u === uri + '/logs'));
  await client.close();
});

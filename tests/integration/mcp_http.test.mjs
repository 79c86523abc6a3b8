// `vibeml serve --http` driven by the official MCP TypeScript SDK client (Streamable HTTP), plus
// raw fetch() checks of the transport rules: sessions, DNS-rebinding protection, bearer token,
// protocol-version header. Run by test_mcp_http.sh: VIBEML_BIN, VIBEML_HOME set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const servers = [];

function startServer(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', ...extraArgs], {
      env: { ...process.env, VIBEML_TEST_TOOLS: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(child);
    let err = '';
    child.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/);
      if (m) resolve({ child, url: m[1], port: Number(m[2]), stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

async function connect(url, { capabilities = {}, headers = {}, onElicit } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'vibeml-http-tests', version: '1.0.0' }, { capabilities });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(transport);
  return { client, transport };
}

let srv;
before(async () => { srv = await startServer(); });
after(async () => {
  for (const c of servers) c.kill('SIGTERM');
});

test('initialize, list and call tools over HTTP', async () => {
  const { client, transport } = await connect(srv.url);
  assert.ok(transport.sessionId && /^[0-9a-f]{32}$/.test(transport.sessionId), 'a random session id');
  assert.equal(client.getServerVersion().name, 'vibeml');
  const { tools } = await client.listTools();
  assert.ok(tools.find((t) => t.name === 'check_setup'));
  const r = await client.callTool({ name: 'test_echo', arguments: { message: 'hi', count: 2 } });
  assert.equal(r.structuredContent.message, 'hi');
  assert.equal(r.content[0].text, 'hihi');
  const setup = await client.callTool({ name: 'check_setup', arguments: {} });
  assert.ok(!setup.isError, JSON.stringify(setup));
  await client.close();
});

test('progress and log notifications stream on the request', async () => {
  const { client } = await connect(srv.url);
  const progress = [];
  const r = await client.callTool({ name: 'test_sleep', arguments: { seconds: 0.3, steps: 3 } },
    undefined, { onprogress: (p) => progress.push(p) });
  assert.equal(r.structuredContent.steps, 3);
  assert.deepEqual(progress.map((p) => p.progress), [1, 2, 3]);
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  await client.setLoggingLevel('debug');
  await client.callTool({ name: 'test_log', arguments: { level: 'warning', message: 'careful' } });
  assert.ok(logs.some((l) => l.level === 'warning' && JSON.stringify(l.data).includes('careful')), JSON.stringify(logs));
  await client.close();
});

test('elicitation round trip over HTTP (accept and decline)', async () => {
  let answer = 'accept';
  const { client } = await connect(srv.url, {
    capabilities: { elicitation: {} },
    onElicit: async (req) => {
      assert.match(req.params.message, /Spend \$12\.50/);
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    },
  });
  let r = await client.callTool({ name: 'test_elicit', arguments: {} });
  assert.equal(r.structuredContent.action, 'accept');
  assert.equal(r.structuredContent.content.confirm, true);
  answer = 'decline';
  r = await client.callTool({ name: 'test_elicit', arguments: {} });
  assert.equal(r.structuredContent.action, 'decline');
  await client.close();
});

test('concurrent calls on one session do not wait for each other', async () => {
  const { client } = await connect(srv.url);
  const t0 = Date.now();
  const slow = client.callTool({ name: 'test_sleep', arguments: { seconds: 1.5 } });
  await client.ping();
  const r = await client.callTool({ name: 'test_echo', arguments: { message: 'quick' } });
  assert.equal(r.structuredContent.message, 'quick');
  assert.ok(Date.now() - t0 < 1400, 'ping and echo answered while the slow call runs');
  await slow;
  await client.close();
});

async function post(url, body, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

test('sessions: required, unknown, ended', async () => {
  let res = await post(srv.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
  assert.equal(res.status, 400, 'no session header');
  res = await post(srv.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'Mcp-Session-Id': 'f'.repeat(32) });
  assert.equal(res.status, 404, 'unknown session');
  res = await post(srv.url, init);
  assert.equal(res.status, 200);
  const sid = res.headers.get('mcp-session-id');
  assert.ok(sid);
  const text = await res.text();
  assert.match(text, /event: message\ndata: \{.*"protocolVersion":"2025-11-25"/);
  res = await post(srv.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'Mcp-Session-Id': sid });
  assert.equal(res.status, 202);
  res = await fetch(srv.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
  assert.equal(res.status, 200);
  res = await post(srv.url, { jsonrpc: '2.0', id: 3, method: 'ping' }, { 'Mcp-Session-Id': sid });
  assert.equal(res.status, 404, 'ended session');
  res = await post(srv.url, '{not json');
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, -32700);
});

test('DNS rebinding protection, protocol version header, methods, path', async () => {
  let res = await post(srv.url, init, { Origin: 'http://evil.example.com' });
  assert.equal(res.status, 403);
  // fetch() may not set Host: use node:http, which sends the header as given
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/mcp', method: 'POST',
      headers: { Host: 'evil.example.com', 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' } },
    (r) => { r.resume(); resolve(r.statusCode); });
    req.on('error', reject);
    req.end(JSON.stringify(init));
  });
  assert.ok(status >= 400 && status < 500, `foreign Host got ${status}`);
  res = await post(srv.url, init, { Origin: `http://localhost:${srv.port}` });
  assert.equal(res.status, 200);
  await res.text();
  res = await post(srv.url, init, { 'MCP-Protocol-Version': '1999-01-01' });
  assert.equal(res.status, 400);
  res = await fetch(srv.url, { method: 'PUT' });
  assert.equal(res.status, 405);
  res = await post(srv.url.replace('/mcp', '/other'), init);
  assert.equal(res.status, 404);
});

test('bearer token: required when configured, constant answer otherwise', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vml-token-'));
  const file = path.join(dir, 'token');
  const token = 'k9Jx2mQ8pL4vR7tZ1wY5bN3c';
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  const s2 = await startServer(['--token-file', file]);
  let res = await post(s2.url, init);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') || '', /Bearer/);
  res = await post(s2.url, init, { Authorization: 'Bearer wrong-token-wrong-token!' });
  assert.equal(res.status, 401);
  const { client } = await connect(s2.url, { headers: { Authorization: `Bearer ${token}` } });
  const { tools } = await client.listTools();
  assert.ok(tools.length > 0);
  await client.close();
  assert.ok(!s2.stderr().includes(token), 'the token never appears in logs');
  s2.child.kill('SIGTERM');
});

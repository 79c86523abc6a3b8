// Plugin tools over `vibeml serve --http` (issue 16 M3): the plugin folders are watched once per
// process, and every HTTP session lists and calls plugin tools and gets tools/list_changed when
// one is dropped into the folder. Official SDK client, loopback only.
// Run by test_mcp_http_plugins.sh: VIBEML_BIN, VIBEML_HOME set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const DIR = path.join(process.env.VIBEML_HOME, 'http-plugins');
fs.mkdirSync(DIR, { recursive: true });
const servers = [];
after(() => { for (const c of servers) if (c.exitCode === null) c.kill('SIGTERM'); });

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--plugins', DIR],
      { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(child);
    let err = '';
    child.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/);
      if (m) resolve({ child, url: m[1], stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

async function session(url) {
  const s = { changed: 0 };
  s.client = new Client({ name: 'http-plugins', version: '1.0.0' }, { capabilities: {} });
  s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => { s.changed++; });
  s.transport = new StreamableHTTPClientTransport(new URL(url));
  await s.client.connect(s.transport);
  return s;
}

function tool(name, word) {
  return `return { kind = "tools", name = "${name}", version = "1.0.0", tools = {
  { name = "${name}_say", description = "says ${word}", inputSchema = { type = "object", properties = { who = { type = "string" } }, required = { "who" } },
    handler = function(args) return { text = "${word} " .. args.who } end } } }
`;
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

async function until(what, fn) {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return;
    if (Date.now() - t0 > 20000) assert.fail(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const names = async (s) => (await s.client.listTools()).tools.map((t) => t.name);

test('plugin tools: present at start and dropped in later, in two HTTP sessions', async () => {
  writeAtomic(path.join(DIR, 'early.lua'), tool('early', 'hi'));
  const srv = await startServer();
  const a = await session(srv.url);
  const b = await session(srv.url);
  // a plugin that was there before the sessions
  for (const s of [a, b]) {
    assert.ok((await names(s)).includes('early_say'), 'early_say listed');
    const r = await s.client.callTool({ name: 'early_say', arguments: { who: 'ada' } });
    assert.equal(r.structuredContent.text, 'hi ada', JSON.stringify(r));
  }
  // a plugin dropped into the folder while both sessions run; a GET stream carries
  // tools/list_changed (the SDK opens it after initialize)
  const seenA = a.changed, seenB = b.changed;
  writeAtomic(path.join(DIR, 'late.lua'), tool('late', 'hello'));
  for (const s of [a, b]) {
    await until('late_say listed', async () => (await names(s)).includes('late_say'));
    const r = await s.client.callTool({ name: 'late_say', arguments: { who: 'bob' } });
    assert.equal(r.structuredContent.text, 'hello bob', JSON.stringify(r));
  }
  await until('tools/list_changed in both sessions', async () => a.changed > seenA && b.changed > seenB);
  // removed: gone from both
  fs.unlinkSync(path.join(DIR, 'late.lua'));
  for (const s of [a, b]) await until('late_say removed', async () => !(await names(s)).includes('late_say'));
  assert.doesNotMatch(srv.stderr(), /already waiting/);
  await a.client.close();
  await b.client.close();
});

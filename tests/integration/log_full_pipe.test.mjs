// See test_log_full_pipe.sh. Waits are bounded; a frozen server fails the test.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BIN = process.env.VIBEML_BIN;
const HOME = process.env.VIBEML_HOME;
const children = [];
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

test('a full stderr pipe never stops the server answering', async () => {
  const dir = path.join(HOME, 'plugins');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'noisy.lua'), `return { kind = "tools", name = "noisy", version = "1", tools = {
  { name = "noisy", description = "prints to stderr", inputSchema = { type = "object", properties = {} },
    handler = function() print(("n"):rep(2000)) return { ok = true } end } } }
`);
  const fifo = path.join(HOME, 'stderr.fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = fs.openSync(fifo, 'r+'); // held open, never read: the pipe fills
  const child = spawn(BIN, ['serve', '--plugins', dir], { stdio: ['pipe', 'pipe', fd] });
  children.push(child);
  const replies = new Map();
  let buf = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const m = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (m.id !== undefined) replies.set(m.id, m);
    }
    for (const w of waiters.splice(0)) w();
  });
  const send = (o) => new Promise((r) => child.stdin.write(JSON.stringify(o) + '\n', r));
  const waitUntil = async (pred, what, ms = 60000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what} (server frozen?)`);
      await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
    }
  };
  await send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } });
  await waitUntil(() => replies.has('init'), 'initialize');
  await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const N = 400;
  for (let i = 0; i < N; i++) {
    await send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'noisy', arguments: {} } });
    if (i % 50 === 0) await send({ jsonrpc: '2.0', id: `ping${i}`, method: 'ping' });
  }
  await waitUntil(() => { for (let i = 0; i < N; i++) if (!replies.has(i)) return false; return true; },
    `all ${N} calls answered (have ${[...replies.keys()].filter((k) => typeof k === 'number').length})`);
  for (let i = 0; i < N; i++) assert.equal(replies.get(i).result?.structuredContent?.ok, true, JSON.stringify(replies.get(i)));
  for (let i = 0; i < N; i += 50) assert.ok(replies.has(`ping${i}`));

  // someone reads stderr again: the dropped lines are reported
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(reader);
  let err = '';
  reader.stdout.on('data', (d) => { err += d.toString(); for (const w of waiters.splice(0)) w(); });
  await waitUntil(() => /vibeml: \d+ log lines dropped/.test(err), 'the dropped-lines notice', 60000);
  await send({ jsonrpc: '2.0', id: 'last', method: 'tools/call', params: { name: 'noisy', arguments: {} } });
  await waitUntil(() => replies.has('last'), 'a call after the drain');
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  reader.kill();
  fs.closeSync(fd);
});

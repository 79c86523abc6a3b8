// See test_input_hygiene.sh. Raw JSON text is written so that \u0000 reaches the server as is.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const BIN = process.env.VIBEML_BIN;
const children = [];
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

function start() {
  const child = spawn(BIN, ['serve'], { env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const out = [];
  let buf = '';
  let stderr = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { out.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  return {
    child,
    raw: (text) => new Promise((r) => child.stdin.write(text + '\n', r)),
    async reply(id, ms = 30000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = out.find((m) => m.id === id);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no answer to ${id}; stderr: ${stderr.slice(-1000)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
  };
}

test('NUL in names and non-finite numbers are refused', async () => {
  const s = start();
  await s.raw('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"h","version":"1"}}}');
  assert.ok((await s.reply(1)).result);
  await s.raw('{"jsonrpc":"2.0","method":"notifications/initialized"}');

  await s.raw('{"jsonrpc":"2.0","id":2,"method":"tools/list\\u0000evil","params":{}}');
  const m = await s.reply(2);
  assert.ok(m.error && !m.result, 'tools/list\\0evil must not run tools/list: ' + JSON.stringify(m).slice(0, 300));
  assert.equal(m.error.code, -32600);
  assert.match(m.error.message, /NUL/);

  await s.raw('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_workflows\\u0000evil","arguments":{}}}');
  const t = await s.reply(3);
  assert.ok(t.error && !t.result, 'list_workflows\\0evil must not run list_workflows: ' + JSON.stringify(t).slice(0, 300));
  assert.match(t.error.message, /NUL/);

  await s.raw('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"launch_training","arguments":{"model":"test/tiny-0.1B","dataset":"test/text","workflow":"smoke","backend":"local","offline":true,"max_cost":1e308}}}');
  const l = await s.reply(4);
  const text = JSON.stringify(l);
  assert.ok(l.error || l.result?.isError, 'max_cost 1e308 refused: ' + text.slice(0, 400));
  assert.match(text, /max_cost: 1e308 is not a usable number/);
  assert.doesNotMatch(text, /stack traceback/);

  await s.raw('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_jobs","arguments":{}}}');
  const j = await s.reply(5);
  assert.ok(j.result && !j.result.isError, JSON.stringify(j).slice(0, 300));
  assert.equal(j.result.structuredContent.total, 0, 'no phantom job');
  s.child.stdin.end();
});

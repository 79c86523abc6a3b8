// See test_plugin_limits.sh. Waits are bounded: a hang fails the test instead of blocking CTest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const BIN = process.env.VIBEML_BIN;
const HOME = process.env.VIBEML_HOME;
const DIR = path.join(HOME, 'plugins-under-test');
const children = [];
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

const tool = (name, body, props = '') => `{ name = "${name}", description = "${name}", inputSchema = { type = "object", properties = { ${props} } },
    handler = function(args) ${body} end }`;
const tools = (name, list) => `return { kind = "tools", name = "${name}", version = "1", tools = { ${list.join(',\n')} } }\n`;

fs.mkdirSync(DIR, { recursive: true });
// sorted load order: the hostile ones first
fs.writeFileSync(path.join(DIR, 'a_bomb_load.lua'),
  'local x = string.find(("a"):rep(3000), "a*a*a*a*a*a*a*b")\n' + tools('a_bomb_load', [tool('never_a', 'return {}')]));
fs.writeFileSync(path.join(DIR, 'b_gc_load.lua'),
  'setmetatable({}, { __gc = function() while true do end end })\ncollectgarbage()\n' + tools('b_gc_load', [tool('never_b', 'return {}')]));
fs.writeFileSync(path.join(DIR, 'c_hostile.lua'), tools('c_hostile', [
  tool('bomb_find', 'return { r = string.find(("a"):rep(3000), "a*a*a*a*a*a*a*b") }'),
  tool('bomb_gsub', 'return { r = (("a"):rep(3000)):gsub(".-.-.-.-.-.-.-b", "x") }'),
  tool('gc_loop', 'setmetatable({}, { __gc = function() while true do end end }) collectgarbage() return {}'),
  tool('fine_find', 'return { r = string.find("hello world", "(w%a+)") }'),
]));
fs.writeFileSync(path.join(DIR, 'd_good.lua'), tools('d_good', [tool('good_echo', 'return { said = args.x }', 'x = { type = "string" }')]));

function start() {
  const child = spawn(BIN, ['serve', '--plugins', DIR], { env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const out = [];
  let buf = '';
  let stderr = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      out.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const s = {
    child, exited, stderr: () => stderr,
    send: (obj) => new Promise((r) => child.stdin.write(JSON.stringify(obj) + '\n', r)),
    async reply(id, ms = 60000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = out.find((m) => m.id === id);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no answer to ${id} in ${ms} ms (server hung?); stderr: ${stderr.slice(-1500)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
  };
  return s;
}

let n = 0;
async function call(s, method, params) {
  const id = `r${++n}`;
  await s.send({ jsonrpc: '2.0', id, method, params });
  return s.reply(id);
}

test('hostile plugins neither hang loading nor serving, and the server exits on EOF', async () => {
  const s = start();
  const init = await call(s, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'limits', version: '1' } });
  assert.ok(init.result, JSON.stringify(init));
  await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const list = await call(s, 'tools/list', {});
  const names = list.result.tools.map((t) => t.name);
  assert.ok(names.includes('good_echo'), 'the good plugin after the hostile ones loaded: ' + names.join(','));
  assert.ok(names.includes('bomb_find'));
  assert.ok(!names.includes('never_a') && !names.includes('never_b'), 'hostile loads failed');
  assert.match(s.stderr(), /a_bomb_load[\s\S]*(instruction budget|time limit)/);
  assert.match(s.stderr(), /b_gc_load[\s\S]*'__gc' finalizer is not allowed/);
  for (const [name, re] of [['bomb_find', /instruction budget|time limit/], ['bomb_gsub', /instruction budget|time limit/], ['gc_loop', /__gc/]]) {
    const r = await call(s, 'tools/call', { name, arguments: {} });
    const text = JSON.stringify(r);
    assert.ok(r.error || r.result?.isError, `${name} must fail: ${text}`);
    assert.match(text, re, name);
  }
  const fine = await call(s, 'tools/call', { name: 'fine_find', arguments: {} });
  assert.ok(!fine.error && !fine.result.isError, JSON.stringify(fine));
  const echo = await call(s, 'tools/call', { name: 'good_echo', arguments: { x: 'still here' } });
  assert.ok(echo.result, JSON.stringify(echo));
  assert.equal(echo.result.structuredContent.said, 'still here');
  s.child.stdin.end();
  let timer;
  const bounded = new Promise((r) => { timer = setTimeout(() => r('still running'), 30000); });
  const how = await Promise.race([s.exited, bounded]);
  clearTimeout(timer);
  assert.notEqual(how, 'still running', 'the server exits on stdin EOF');
  assert.equal(how.code, 0);
});

// `vibeml serve` over raw pipes with hostile input: the server never crashes, never writes a
// non-protocol byte to stdout, and answers every valid request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = process.env.VIBEML_BIN;
const children = [];
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

function start(env = {}, stdio) {
  const child = spawn(BIN, ['serve'], {
    env: { ...process.env, VIBEML_TEST_TOOLS: '1', ...env },
    stdio: stdio || ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = [];
  let stdoutBytes = Buffer.alloc(0);
  const chunks = [];
  let stderr = '';
  const waiters = [];
  if (child.stdout) {
    child.stdout.on('data', (d) => {
      chunks.push(d);
      stdoutBytes = Buffer.concat([stdoutBytes, d]);
      let nl;
      while ((nl = stdoutBytes.indexOf(10)) >= 0) {
        const line = stdoutBytes.subarray(0, nl).toString('utf8');
        stdoutBytes = stdoutBytes.subarray(nl + 1);
        let msg;
        try { msg = JSON.parse(line); } catch (e) { msg = { __bad: line.slice(0, 200) }; }
        out.push(msg);
      }
      for (const w of waiters.splice(0)) w();
    });
  }
  child.stderr?.on('data', (d) => { stderr += d.toString(); });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const s = {
    child, out, exited,
    stderr: () => stderr,
    rest: () => stdoutBytes,
    write: (text) => new Promise((r) => child.stdin.write(text, r)),
    send: (obj) => s.write(JSON.stringify(obj) + '\n'),
    async waitFor(pred, ms = 20000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = out.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error('timed out; got ' + JSON.stringify(out).slice(-1500) + '\nstderr: ' + stderr.slice(-1500));
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
    async waitCount(pred, n, ms = 60000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (out.filter(pred).length >= n) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n}; have ${out.filter(pred).length}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
    async init(version = '2025-11-25') {
      await s.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      await s.waitFor((m) => m.id === 'init');
      await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    },
  };
  return s;
}

function assertProtocolOnly(s) {
  for (const m of s.out) {
    assert.equal(m.__bad, undefined, `non-JSON on stdout: ${m.__bad}`);
    const list = Array.isArray(m) ? m : [m];
    for (const x of list) assert.equal(x.jsonrpc, '2.0', `not JSON-RPC: ${JSON.stringify(x).slice(0, 200)}`);
  }
  assert.equal(s.rest().length, 0, 'stdout ends with a complete line');
}

const errorFor = (s, id, code) => s.out.find((m) => m.id === id && m.error && m.error.code === code);

test('hostile lines get the right error and the server keeps going', async () => {
  const s = start();
  await s.init();
  let k = 0;
  const nullErrors = () => s.out.filter((m) => m.id === null && m.error).length;
  const expectNull = async (line, code, what) => {
    const before = nullErrors();
    await s.write(line);
    await s.send({ jsonrpc: '2.0', id: `after-${++k}`, method: 'ping' });
    await s.waitFor((m) => m.id === `after-${k}`);
    const errs = s.out.filter((m) => m.id === null && m.error).slice(before);
    assert.equal(errs.length, 1, `${what}: one error with id null, got ${JSON.stringify(errs)}`);
    assert.equal(errs[0].error.code, code, `${what}: ${JSON.stringify(errs[0])}`);
    return errs[0];
  };
  const e1 = await expectNull('{not json\n', -32700, 'invalid JSON');
  assert.match(e1.error.message, /parse error/);
  await expectNull(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"u","method":"ping","params":{"x":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}}\n')]), -32700, 'invalid UTF-8');
  await expectNull('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}\n', -32700, 'duplicate keys');
  await expectNull('{"jsonrpc":"2.0","id":null,"method":"ping"}\n', -32600, 'null id');
  await expectNull('{"jsonrpc":"2.0","id":1.5,"method":"ping"}\n', -32600, 'float id');
  await expectNull('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}\n', -32600, 'object id');
  await expectNull('{"jsonrpc":"2.0","id":[1],"method":"ping"}\n', -32600, 'array id');
  await expectNull('{"jsonrpc":"2.0","id":true,"method":"ping"}\n', -32600, 'boolean id');
  await expectNull('123\n', -32600, 'a number');
  await expectNull('"text"\n', -32600, 'a string');
  await expectNull('null\n', -32600, 'null');
  await expectNull('[]\n', -32600, 'empty batch');
  await expectNull('[{"jsonrpc":"2.0","id":"b1","method":"ping"}]\n', -32600, 'batch under 2025-11-25');
  await expectNull('[' .repeat(10000) + ']'.repeat(10000) + '\n', -32700, '10k-deep array');
  await expectNull('{"a":'.repeat(10000) + '1' + '}'.repeat(10000) + '\n', -32700, '10k-deep object');
  assert.equal(s.out.find((m) => m.id === 'b1'), undefined, 'a refused batch runs nothing');

  // errors that can echo the id
  await s.write('{"jsonrpc":"1.0","id":"v1","method":"ping"}\n');
  await s.write('{"id":"v2","method":"ping"}\n');
  await s.write('{"jsonrpc":"2.0","id":"m1"}\n');
  await s.write('{"jsonrpc":"2.0","id":"m2","method":5}\n');
  await s.write('{"jsonrpc":"2.0","id":"p1","method":"tools/list","params":"x"}\n');
  await s.write('{"jsonrpc":"2.0","id":"p2","method":"tools/list","params":[1]}\n');
  await s.write('{"jsonrpc":"2.0","id":"u1","method":"no/such/method"}\n');
  await s.write('{"jsonrpc":"2.0","id":"t1","method":"tools/call","params":{}}\n');
  await s.write('{"jsonrpc":"2.0","id":"t2","method":"tools/call","params":{"name":"test_echo","arguments":[1]}}\n');
  await s.write('{"jsonrpc":"2.0","id":-7,"method":"ping"}\n');
  await s.write('{"jsonrpc":"2.0","id":"","method":"ping"}\n');
  await s.write('{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"}\n');
  // notifications are never answered, known or not
  await s.write('{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}\n');
  await s.write('{"jsonrpc":"2.0","method":"no/such/notification"}\n');
  await s.write('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"never"}}\n');
  await s.write('{"jsonrpc":"2.0","method":"notifications/initialized","params":"odd"}\n');
  // blank lines, CRLF, leading spaces
  await s.write('\n\n   \r\n');
  await s.write('{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n');
  await s.write('   {"jsonrpc":"2.0","id":"sp","method":"ping"}\n');
  // a response to nothing we asked is ignored
  await s.write('{"jsonrpc":"2.0","id":"vml-999","result":{}}\n');
  await s.send({ jsonrpc: '2.0', id: 'end', method: 'ping' });
  await s.waitFor((m) => m.id === 'end');
  for (const id of ['v1', 'v2', 'm1', 'm2', 'p1', 't2']) assert.ok(errorFor(s, id, -32600) || errorFor(s, id, -32602), `error for ${id}`);
  assert.ok(errorFor(s, 'v1', -32600));
  assert.ok(errorFor(s, 'm1', -32600));
  assert.ok(errorFor(s, 'p1', -32600));
  assert.ok(errorFor(s, 'p2', -32602));
  assert.ok(errorFor(s, 'u1', -32601));
  const t1 = errorFor(s, 't1', -32602);
  assert.match(t1.error.message, /params\.name/);
  assert.ok(errorFor(s, 't2', -32602));
  for (const id of [-7, '', 9007199254740991, 'crlf', 'sp']) assert.deepEqual(s.out.find((m) => m.id === id)?.result, {}, `ping ${JSON.stringify(id)}`);
  const answered = new Set(s.out.map((m) => m.id));
  assert.ok(!answered.has('vml-999'));
  // nothing beyond the expected replies: every reply has an id we sent (or null)
  const notes = s.out.filter((m) => m.method);
  assert.deepEqual(notes, [], 'no unsolicited messages');
  assertProtocolOnly(s);
  s.child.stdin.end();
  const ex = await s.exited;
  assert.equal(ex.code, 0);
});

test('a 10 MB line is read whole; a line over 16 MiB is refused and skipped', async () => {
  const s = start();
  await s.init();
  const big = 'x'.repeat(10 * 1024 * 1024);
  await s.send({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'test_echo', arguments: { message: 'ok', nested: { items: [1] } }, _meta: { padding: big } } });
  const r = await s.waitFor((m) => m.id === 'big');
  assert.equal(r.result.content[0].text, 'ok');
  // 10 MB inside an argument: validated (too long), not truncated
  await s.send({ jsonrpc: '2.0', id: 'bigarg', method: 'tools/call', params: { name: 'test_echo', arguments: { message: big } } });
  const r2 = await s.waitFor((m) => m.id === 'bigarg');
  assert.equal(r2.result.isError, true);
  assert.match(r2.result.content[0].text, /too long \(10485760 characters, at most 50\)/);
  // 17 MiB: refused with one error, and the next line is handled normally
  const huge = '{"jsonrpc":"2.0","id":"huge","method":"ping","params":{"p":"' + 'y'.repeat(17 * 1024 * 1024) + '"}}\n';
  await s.write(huge);
  await s.send({ jsonrpc: '2.0', id: 'next', method: 'ping' });
  await s.waitFor((m) => m.id === 'next');
  const tooBig = s.out.filter((m) => m.id === null && m.error);
  assert.equal(tooBig.length, 1);
  assert.equal(tooBig[0].error.code, -32600);
  assert.match(tooBig[0].error.message, /too large/);
  assert.equal(s.out.find((m) => m.id === 'huge'), undefined);
  assertProtocolOnly(s);
  s.child.stdin.end();
  assert.equal((await s.exited).code, 0);
});

test('batches: answered as one array under 2025-03-26 only', async () => {
  const s = start();
  await s.init('2025-03-26');
  await s.send([
    { jsonrpc: '2.0', id: 'a', method: 'ping' },
    { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'test_sleep', arguments: { seconds: 0.2 } } },
    { jsonrpc: '2.0', method: 'notifications/whatever' },
    { jsonrpc: '2.0', id: 'c', method: 'no/such' },
    { jsonrpc: '2.0', id: 'd', method: 'tools/call', params: { name: 'test_echo', arguments: { message: 'in batch' } } },
    42,
  ]);
  const arr = await s.waitFor((m) => Array.isArray(m));
  const byId = Object.fromEntries(arr.filter((m) => m.id !== null).map((m) => [m.id, m]));
  assert.deepEqual(Object.keys(byId).sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(byId.a.result, {});
  assert.deepEqual(byId.b.result.content[0].type, 'text');
  assert.equal(byId.c.error.code, -32601);
  assert.equal(byId.d.result.content[0].text, 'in batch');
  assert.equal(byId.d.result.structuredContent, undefined, 'no structured output in 2025-03-26');
  assert.equal(arr.filter((m) => m.id === null).length, 1, 'the bad element gets its own error');
  // a batch of notifications only gets no reply at all
  await s.send([{ jsonrpc: '2.0', method: 'notifications/x' }]);
  await s.send({ jsonrpc: '2.0', id: 'after', method: 'ping' });
  await s.waitFor((m) => m.id === 'after');
  assert.equal(s.out.filter((m) => Array.isArray(m)).length, 1);
  assertProtocolOnly(s);
  s.child.stdin.end();
  assert.equal((await s.exited).code, 0);

  for (const v of ['2025-06-18', '2024-11-05']) {
    const t = start();
    await t.init(v);
    await t.send([{ jsonrpc: '2.0', id: 'x', method: 'ping' }]);
    const e = await t.waitFor((m) => m.id === null);
    assert.equal(e.error.code, -32600);
    assert.match(e.error.message, new RegExp(`not allowed in protocol ${v}`));
    t.child.stdin.end();
    await t.exited;
  }
});

test('a flood of 10,000 requests without reading replies: all answered, memory bounded', async () => {
  const s = start();
  await s.init();
  s.child.stdout.pause();
  const N = 10000;
  let text = '';
  for (let i = 0; i < N; i++) {
    text += JSON.stringify(i % 2 ? { jsonrpc: '2.0', id: i, method: 'ping' }
      : { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'test_echo', arguments: { message: 'flood' } } }) + '\n';
  }
  s.child.stdin.write(text);
  await new Promise((r) => setTimeout(r, 1500));
  const status = fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  assert.ok(rssKb < 300 * 1024, `server RSS while the client does not read: ${rssKb} kB`);
  s.child.stdout.resume();
  await s.waitCount((m) => typeof m.id === 'number', N);
  const ids = new Set(s.out.filter((m) => typeof m.id === 'number').map((m) => m.id));
  assert.equal(ids.size, N);
  assert.ok(s.out.filter((m) => typeof m.id === 'number').every((m) => m.result));
  assertProtocolOnly(s);
  s.child.stdin.end();
  assert.equal((await s.exited).code, 0);
});

test('end of input: in-flight requests finish, then a clean exit', async () => {
  const s = start();
  await s.init();
  await s.send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'test_sleep', arguments: { seconds: 0.5 } } });
  // a last line without a newline is still handled
  await s.write('{"jsonrpc":"2.0","id":"last","method":"ping"}');
  s.child.stdin.end();
  const ex = await s.exited;
  assert.equal(ex.code, 0);
  assert.ok(s.out.find((m) => m.id === 'slow')?.result, 'the in-flight call was answered before exit');
  assert.ok(s.out.find((m) => m.id === 'last')?.result);
  assertProtocolOnly(s);
});

test('SIGTERM: stops promptly with exit code 0, even mid-call', async () => {
  const s = start();
  await s.init();
  await s.send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'test_sleep', arguments: { seconds: 60 } } });
  await new Promise((r) => setTimeout(r, 200));
  s.child.kill('SIGTERM');
  const ex = await s.exited;
  assert.equal(ex.code, 0);
  assert.equal(ex.signal, null);
  assertProtocolOnly(s);
});

test('stdin from /dev/null or a regular file; print() goes to stderr', async () => {
  const nul = fs.openSync('/dev/null', 'r');
  const a = start({}, [nul, 'pipe', 'pipe']);
  const ea = await a.exited;
  assert.equal(ea.code, 0);
  assert.equal(a.out.length, 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vml-in-'));
  const file = path.join(dir, 'in.jsonl');
  const lines = [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'f', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'test_log', arguments: { level: 'info', message: 'from a file' } } },
    { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_sleep', arguments: { seconds: 0.2 } } },
  ];
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const fd = fs.openSync(file, 'r');
  const b = start({}, [fd, 'pipe', 'pipe']);
  const eb = await b.exited;
  assert.equal(eb.code, 0);
  assert.ok(b.out.find((m) => m.id === 2)?.result);
  assert.ok(b.out.find((m) => m.id === 3)?.result, 'in-flight call finished before exit');
  assert.match(b.stderr(), /test_log printed this/);
  assertProtocolOnly(b);
});

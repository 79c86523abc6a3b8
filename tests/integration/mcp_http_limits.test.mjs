// `vibeml serve --http` under hostile load (issue 16: M2, M4, and POSTs that never ended).
// Every check talks to 127.0.0.1 only, is bounded in count and time, and asserts outcomes (an
// answer at all within a generous bound, RSS from /proc), never speed.
// Run by test_mcp_http_limits.sh: VIBEML_BIN, VIBEML_HOME set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BIN = process.env.VIBEML_BIN;
const children = [];
// A sanitizer build keeps freed memory in quarantine and pads every block: RSS bounds are
// then checked with the quarantine off and twice the room.
const SANITIZED = /sanitizers: \S/.test(execFileSync(BIN, ['--version']).toString());
const ROOM = SANITIZED ? 2 : 1;
const SAN_ENV = SANITIZED
  ? { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0', 'thread_local_quarantine_size_kb=0'].filter(Boolean).join(':') }
  : {};
after(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

function startServer(args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', ...args], {
      env: { ...process.env, ...SAN_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d) => {
      err += d.toString();
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/);
      if (m) resolve({ child, url: m[1], port: Number(m[2]), stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

function stop(srv) {
  return new Promise((resolve) => {
    if (srv.child.exitCode !== null) return resolve();
    srv.child.on('exit', resolve);
    srv.child.kill('SIGTERM');
  });
}

function rssMiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

// Samples the server's RSS while fn runs; returns the peak (MiB).
async function peakRss(pid, fn) {
  let peak = rssMiB(pid);
  const t = setInterval(() => { try { peak = Math.max(peak, rssMiB(pid)); } catch { /* gone */ } }, 20);
  try { await fn(); } finally { clearInterval(t); }
  return Math.max(peak, rssMiB(pid));
}

// One raw HTTP request (node:http keeps Host and Content-Length as given). Resolves with
// { status, body } or { error } (a reset is an answer too: the server dropped the request).
function request(port, { method = 'POST', headers = {}, body, localAddress, timeout = 60000 } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method, localAddress, agent: false,
      headers: { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
      res.on('error', (e) => resolve({ error: e.code || String(e) }));
    });
    req.setTimeout(timeout, () => { req.destroy(new Error('timeout')); });
    req.on('error', (e) => resolve({ error: e.code || e.message }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const INIT = (v = '2025-11-25') => JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize',
  params: { protocolVersion: v, capabilities: {}, clientInfo: { name: 'limits', version: '1' } } });

async function initSession(port, { version, ...opts } = {}) {
  const r = await request(port, { ...opts, body: INIT(version) });
  assert.equal(r.status, 200, JSON.stringify(r));
  return r.headers['mcp-session-id'];
}

async function ping(port, sid, id = 1, { headers = {}, ...opts } = {}) {
  return request(port, { ...opts, headers: { 'Mcp-Session-Id': sid, ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) });
}

// {============================================================== M4

test('a non-loopback bind without --token-file refuses to start, before listening', async () => {
  const child = spawn(BIN, ['serve', '--http', '0.0.0.0:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  // should it listen after all, it is stopped at once (and the test fails)
  child.stderr.on('data', (d) => { err += d; if (/listening on/.test(err)) child.kill('SIGKILL'); });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /reachable from other machines/);
  assert.match(err, /--token-file FILE/);
  assert.doesNotMatch(err, /listening on/);
});

test('a loopback bind other than 127.0.0.1 still starts without a token', async () => {
  const child = spawn(BIN, ['serve', '--http', '127.0.0.2:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const err = await new Promise((resolve, reject) => {
    let e = '';
    child.stderr.on('data', (d) => { e += d; if (/listening on/.test(e)) resolve(e); });
    child.on('exit', (c) => reject(new Error(`exited ${c}: ${e}`)));
  });
  assert.match(err, /listening on http:\/\/127\.0\.0\.2:\d+\/mcp/);
  child.kill('SIGTERM');
});

// }==============================================================

// {============================================================== every POST ends

test('a POST with an id that is not a string or an integer gets a complete -32600 answer', async () => {
  const srv = await startServer();
  const sid = await initSession(srv.port);
  for (const id of ['1.5', 'true', '{}', '[]', '123456789012345678901234567890']) {
    const r = await request(srv.port, { headers: { 'Mcp-Session-Id': sid },
      body: `{"jsonrpc":"2.0","id":${id},"method":"ping"}`, timeout: 20000 });
    assert.equal(r.status, 400, `id ${id}: ${JSON.stringify(r)}`);
    const msg = JSON.parse(r.body);
    assert.equal(msg.id, null);
    assert.equal(msg.error.code, -32600, r.body);
    // an integer past 64 bits is valid JSON the reader (jansson) cannot hold: refused as such
    assert.match(msg.error.message, id.length > 20 ? /too large \(integers must fit in 64 bits/
      : /id: must be a string or an integer/);
  }
  // a bad envelope with a good id: answered too, not a 202 with the error lost
  const r = await request(srv.port, { headers: { 'Mcp-Session-Id': sid },
    body: '{"jsonrpc":"2.0","id":9,"method":5}', timeout: 20000 });
  assert.equal(r.status, 400, JSON.stringify(r));
  assert.equal(JSON.parse(r.body).id, 9);
  // and the session still works
  const p = await ping(srv.port, sid, 10);
  assert.equal(p.status, 200);
  assert.match(p.body, /"id":10,"result":\{\}/);
  await stop(srv);
});

test('a batch is refused in 2025-11-25 and answered whole in 2025-03-26', async () => {
  const srv = await startServer();
  const sid = await initSession(srv.port);
  const batch = JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 2, method: 'ping' }]);
  let r = await request(srv.port, { headers: { 'Mcp-Session-Id': sid }, body: batch, timeout: 20000 });
  assert.equal(r.status, 400, JSON.stringify(r));
  assert.equal(JSON.parse(r.body).error.code, -32600);
  assert.match(JSON.parse(r.body).error.message, /batches are not allowed in protocol 2025-11-25/);

  const old = await initSession(srv.port, { version: '2025-03-26' });
  r = await request(srv.port, { headers: { 'Mcp-Session-Id': old }, body: batch, timeout: 20000 });
  assert.equal(r.status, 200, JSON.stringify(r));
  const answers = JSON.parse(r.body.match(/^data: (.*)$/m)[1]);
  assert.deepEqual(answers.map((a) => a.id).sort(), [1, 2]);
  // a batch with a bad element: its error comes back in the batch's one answer
  r = await request(srv.port, { headers: { 'Mcp-Session-Id': old }, timeout: 20000,
    body: JSON.stringify([{ jsonrpc: '2.0', id: 3, method: 'ping' }, { jsonrpc: '2.0', id: 1.5, method: 'ping' }]) });
  assert.equal(r.status, 200, JSON.stringify(r));
  const mixed = JSON.parse(r.body.match(/^data: (.*)$/m)[1]);
  assert.equal(mixed.length, 2);
  assert.ok(mixed.find((a) => a.id === 3 && a.result));
  assert.ok(mixed.find((a) => a.id === null && a.error.code === -32600));
  // only invalid elements: answered at once as a 400
  r = await request(srv.port, { headers: { 'Mcp-Session-Id': old }, timeout: 20000,
    body: JSON.stringify([{ jsonrpc: '2.0', id: true, method: 'ping' }]) });
  assert.equal(r.status, 400, JSON.stringify(r));
  await stop(srv);
});

// }==============================================================

// {============================================================== M2

test('300 idle connections: another client is still answered', async () => {
  // a short idle timeout so the held address frees up within the test's patience
  const srv = await startServer([], { VIBEML_HTTP_TIMEOUT_S: '3' });
  const idle = [];
  let closedByServer = 0;
  for (let i = 0; i < 300; i++) {
    const s = net.connect({ host: '127.0.0.1', port: srv.port });
    s.on('error', () => {});
    s.on('close', () => { closedByServer++; });
    // half of them send half a request and stop
    if (i % 2) s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
    idle.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  // another client address (the per-address limit keeps one address from taking every slot)
  const sid = await initSession(srv.port, { localAddress: '127.0.0.2', timeout: 30000 });
  const p = await ping(srv.port, sid, 1, { localAddress: '127.0.0.2', timeout: 30000 });
  assert.equal(p.status, 200);
  // the same address as the idle ones: answered once the idle ones time out (retry until then)
  let ok = null;
  for (let i = 0; i < 60 && !ok; i++) {
    const r = await ping(srv.port, sid, 100 + i, { timeout: 10000 });
    if (r.status === 200) ok = r;
    else await new Promise((res) => setTimeout(res, 500));
  }
  assert.ok(ok, 'a client on 127.0.0.1 was never answered');
  // every idle or half-sent connection was closed by the server (bounded wait)
  for (let i = 0; i < 120 && closedByServer < 300; i++) await new Promise((r) => setTimeout(r, 250));
  assert.equal(closedByServer, 300);
  await stop(srv);
});

test('60 unauthenticated 16 MiB bodies are refused on their headers: RSS stays bounded', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vml-limits-'));
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'a-test-token-0123456789abcdef\n', { mode: 0o600 });
  const srv = await startServer(['--token-file', tokenFile]);
  const auth = { Authorization: 'Bearer a-test-token-0123456789abcdef' };
  const sid = await initSession(srv.port, { headers: auth });
  const base = rssMiB(srv.child.pid);
  const big = Buffer.alloc(16 << 20, 'x');
  const results = [];
  const peak = await peakRss(srv.child.pid, async () => {
    const all = [];
    for (let i = 0; i < 60; i++) {
      // no token / a foreign Host with the token / an announced body over the limit with both
      const len = { 'Content-Length': String(big.length) };
      const headers = i % 3 === 0 ? len : i % 3 === 1 ? { ...auth, ...len, Host: 'evil.example' } : { ...auth, ...len };
      all.push(request(srv.port, { headers, body: big, timeout: 60000 }));
    }
    results.push(...await Promise.all(all));
  });
  const statuses = results.map((r) => r.status || r.error);
  for (let i = 0; i < 60; i++) {
    const want = [401, 403, 413][i % 3];
    // the server answers on the headers and may close while the client still sends: a reset is
    // the same refusal seen from the client
    assert.ok(statuses[i] === want || statuses[i] === 'EPIPE' || statuses[i] === 'ECONNRESET',
      `request ${i}: ${statuses[i]}`);
  }
  assert.ok(statuses.some((s) => typeof s === 'number'), 'no request got an HTTP answer');
  const grew = peak - base;
  console.log(`RSS: base ${base.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB with 60 x 16 MiB bodies`);
  assert.ok(grew < 48 * ROOM, `RSS grew by ${grew.toFixed(1)} MiB`);
  // chunked bodies (no Content-Length) are cut at the body limit, under one shared budget
  const chunked = await peakRss(srv.child.pid, async () => {
    const all = [];
    for (let i = 0; i < 30; i++) {
      all.push(request(srv.port, { headers: { ...auth, 'Transfer-Encoding': 'chunked', 'Mcp-Session-Id': sid },
        body: big, timeout: 60000 }));
    }
    const rs = await Promise.all(all);
    for (const r of rs) assert.ok(r.status !== 200, JSON.stringify(r).slice(0, 200));
  });
  console.log(`RSS: peak ${chunked.toFixed(1)} MiB with 30 chunked 16 MiB bodies`);
  assert.ok(chunked - base < 128 * ROOM, `RSS grew by ${(chunked - base).toFixed(1)} MiB`);
  // the server still answers its client
  const p = await ping(srv.port, sid, 5, { headers: auth });
  assert.equal(p.status, 200, JSON.stringify(p));
  await stop(srv);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('sessions are capped: the longest idle ends, memory stays bounded', async () => {
  const srv = await startServer();
  const first = await initSession(srv.port);
  const base = rssMiB(srv.child.pid);
  let last;
  const peak = await peakRss(srv.child.pid, async () => {
    for (let i = 0; i < 300; i++) last = await initSession(srv.port, { timeout: 30000 });
  });
  console.log(`RSS: base ${base.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB after 300 sessions`);
  assert.ok(peak - base < 80 * ROOM, `RSS grew by ${(peak - base).toFixed(1)} MiB`);
  // the first (idle longest) was ended; the newest works
  let r = await ping(srv.port, first, 1);
  assert.equal(r.status, 404, JSON.stringify(r));
  r = await ping(srv.port, last, 1);
  assert.equal(r.status, 200);
  await stop(srv);
});

test('sessions that only hold a GET stream make room too: no one can take every session', async () => {
  const srv = await startServer();
  const streams = [];
  for (let i = 0; i < 70; i++) {
    const sid = await initSession(srv.port);
    const ended = new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/mcp', method: 'GET', agent: false,
        headers: { Host: '127.0.0.1', Accept: 'text/event-stream', 'Mcp-Session-Id': sid } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('ended'));
      });
      req.on('error', () => resolve('ended'));
      req.end();
      streams.push(req);
    });
    streams[i] = { sid, ended };
    await new Promise((r) => setTimeout(r, 5));
  }
  // past the cap, the oldest sessions were ended: their GET streams closed; the newest works
  const first = await Promise.race([streams[0].ended, new Promise((r) => setTimeout(() => r('open'), 20000))]);
  assert.equal(first, 'ended');
  const r = await ping(srv.port, streams[69].sid, 1);
  assert.equal(r.status, 200, JSON.stringify(r));
  const sid = await initSession(srv.port);
  assert.ok(sid);
  await stop(srv);
});

// }==============================================================

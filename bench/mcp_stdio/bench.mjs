// bench/mcp_stdio — `vibeml serve` against the reference MCP server
// (@modelcontextprotocol/server-everything) over stdio, in the same run, on the same machine.
// Measures: cold start (spawn -> initialize response), tools/list and a simple tools/call
// round-trip latency (p50, p99, one request at a time), throughput with many requests in
// flight, idle RSS and the size of the tools/list reply. Prints both and the ratios; the two
// targets are what a user of an assistant could notice: spawn -> first tools/list <= 50 ms and
// a tool call's p99 <= 1 ms (next to a model's turn of seconds, the rest is not felt).
// Usage: node bench.mjs VIBEML_BIN [--quick]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const vibemlBin = path.resolve(process.argv[2] || path.join(root, 'build-release/vibeml'));
const quick = process.argv.includes('--quick');
const refEntry = path.join(root, 'tests/integration/node_modules/@modelcontextprotocol/server-everything/dist/index.js');
if (!fs.existsSync(vibemlBin)) { console.error(`no vibeml binary at ${vibemlBin}`); process.exit(2); }
if (!fs.existsSync(refEntry)) { console.error('reference server missing: run bash .ci/deps --tests'); process.exit(2); }

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vml-bench-'));
const SERVERS = {
  vibeml: { cmd: vibemlBin, args: ['serve'], env: { VIBEML_TEST_TOOLS: '1', VIBEML_HOME: home },
            call: { name: 'test_echo', arguments: { message: 'hello' } } },
  reference: { cmd: process.execPath, args: [refEntry, 'stdio'], env: {},
               call: { name: 'echo', arguments: { message: 'hello' } } },
};

const COLD_RUNS = quick ? 5 : 20;
const LAT_N = quick ? 300 : 2000;
const LAT_WARM = quick ? 200 : 1000;
const TP_N = quick ? 3000 : 20000;
const TP_WINDOW = 256;

class Session {
  constructor(spec) {
    this.t0 = process.hrtime.bigint();
    this.child = spawn(spec.cmd, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['pipe', 'pipe', 'ignore'] });
    this.pending = new Map();
    this.buf = '';
    this.nextId = 1;
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line.trim()) continue;
        this.lastBytes = Buffer.byteLength(line);
        const msg = JSON.parse(line);
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          const cb = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          cb(msg);
        }
      }
    });
    this.exited = new Promise((r) => this.child.on('exit', r));
  }
  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
      this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) + '\n');
    });
  }
  notify(method) { this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n'); }
  async initialize() {
    const r = await this.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
    this.coldMs = Number(process.hrtime.bigint() - this.t0) / 1e6;
    this.notify('notifications/initialized');
    return r;
  }
  rssKb() {
    const s = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
  }
  async close() { this.child.stdin.end(); await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]); this.child.kill('SIGKILL'); }
}

const pct = (arr, p) => { const s = [...arr].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

// One request in flight at a time. The warm-up replies are parsed and checked; the measured ones
// are recognised by their id without JSON.parse, so the client's own parsing and garbage (a
// 60 kB tools/list reply costs node more than the server) stay out of the numbers for both
// servers alike. Any reply that is an error fails the run.
async function latency(s, method, params, n) {
  for (let i = 0; i < 50; i++) await s.request(method, params); // warm-up
  const saved = s.child.stdout.listeners('data');
  s.child.stdout.removeAllListeners('data');
  let want = null, done = null, rest = '', errors = 0;
  s.child.stdout.on('data', (d) => {
    if (d.indexOf('\n') < 0) { rest += d; return; }
    const lines = (rest + d).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (want && (line.includes(want + ',') || line.includes(want + '}'))) {
        if (line.includes('"error":{')) errors++;
        const f = done;
        want = done = null;
        f();
      }
    }
  });
  const head = `{"jsonrpc":"2.0","method":"${method}","params":${JSON.stringify(params ?? {})},"id":`;
  // The loop itself runs LAT_WARM times unmeasured first: until node has compiled it, the
  // client's own p99 is several times the target, and whichever server went first paid for it.
  const out = [];
  for (let i = 0; i < LAT_WARM + n; i++) {
    const id = 1e7 + i;
    const line = `${head}${id}}\n`;
    const t = process.hrtime.bigint();
    await new Promise((r) => { want = `"id":${id}`; done = r; s.child.stdin.write(line); });
    if (i >= LAT_WARM) out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  s.child.stdout.removeAllListeners('data');
  for (const l of saved) s.child.stdout.on('data', l);
  if (errors) throw new Error(`${errors} error replies during the latency run of ${method}`);
  return { p50: pct(out, 50), p99: pct(out, 99) };
}

// Many requests in flight; the client only counts reply lines (and checks none is an error), so
// it stays far cheaper than either server and the number measures the server.
async function throughput(s, params, n) {
  const line = (id) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${JSON.stringify(params)}}\n`;
  const saved = s.child.stdout.listeners('data');
  s.child.stdout.removeAllListeners('data');
  let sent = 0, done = 0, errors = 0;
  const t = process.hrtime.bigint();
  await new Promise((resolve) => {
    const pump = () => {
      let chunk = '';
      while (sent < n && sent - done < TP_WINDOW) chunk += line(1e6 + sent++);
      if (chunk) s.child.stdin.write(chunk);
    };
    s.child.stdout.on('data', (d) => {
      for (let i = d.indexOf('\n'); i >= 0; i = d.indexOf('\n', i + 1)) done++;
      if (d.includes('"error"')) errors++;
      if (done >= n) resolve(); else pump();
    });
    pump();
  });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  s.child.stdout.removeAllListeners('data');
  for (const l of saved) s.child.stdout.on('data', l);
  if (errors) throw new Error(`${errors} error replies during the throughput run`);
  return n / secs;
}

// The floor under every cold start: spawning a process that echoes the first line back (cat)
// costs this much here (fork/exec from node, pipes, scheduling), whatever the server does.
async function spawnFloor() {
  const line = '{"jsonrpc":"2.0","id":0,"method":"initialize"}\n';
  const t0 = process.hrtime.bigint();
  const c = spawn('cat', [], { env: process.env, stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise((r) => { c.stdout.once('data', r); c.stdin.write(line); });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  c.stdin.end();
  await new Promise((r) => c.on('exit', r));
  return ms;
}

// Cold starts alternate between the two servers so that load on a shared machine hits both alike.
async function coldStarts() {
  const out = { vibeml: { cold: [], ready: [] }, reference: { cold: [], ready: [] }, floor: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    out.floor.push(await spawnFloor());
    for (const name of ['vibeml', 'reference']) {
      const s = new Session(SERVERS[name]);
      await s.initialize();
      out[name].cold.push(s.coldMs);
      await s.request('tools/list');
      out[name].ready.push(Number(process.hrtime.bigint() - s.t0) / 1e6);
      await s.close();
    }
  }
  return out;
}

async function measure(name, colds) {
  const spec = SERVERS[name];
  const s = new Session(spec);
  await s.initialize();
  const tools = (await s.request('tools/list')).tools.length;
  const listBytes = s.lastBytes;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = s.rssKb();
  const list = await latency(s, 'tools/list', undefined, LAT_N);
  const call = await latency(s, 'tools/call', spec.call, LAT_N);
  await throughput(s, spec.call, Math.min(TP_N, 2000)); // unmeasured: the client's loop compiled
  const tp = await throughput(s, spec.call, TP_N);
  await s.close();
  return { name, cold: pct(colds[name].cold, 50), ready: pct(colds[name].ready, 50), tools, listBytes, rss, list, call, tp };
}

const f = (x, d = 3) => x.toFixed(d);
const results = {};
const colds = await coldStarts();
for (const n of ['vibeml', 'reference']) results[n] = await measure(n, colds);
// The client's own floor for one round trip: the same loop against cat, which echoes each line
// (the echo carries the request's id, so the loop accepts it as the reply).
const floorSession = new Session({ cmd: 'cat', args: [], env: {} });
const callFloor = await latency(floorSession, 'tools/call', SERVERS.vibeml.call, LAT_N);
await floorSession.close();
const v = results.vibeml, r = results.reference;
console.log(`MCP stdio bench (${quick ? 'quick' : 'full'}): ${COLD_RUNS} cold starts, ${LAT_N} sequential requests, ${TP_N} calls with ${TP_WINDOW} in flight`);
console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('metric                      vibeml        reference     ratio        target');
const row = (m, a, b, ratio, target) => console.log(`${m.padEnd(28)}${a.padEnd(14)}${b.padEnd(14)}${ratio.padEnd(13)}${target}`);
row('cold start (ms, median)', f(v.cold, 2), f(r.cold, 2), `1/${f(r.cold / v.cold, 1)}`, '(spawn -> initialize)');
row('  spawn floor (cat, ms)', f(pct(colds.floor, 50), 2), f(pct(colds.floor, 50), 2), '', '(in both cold starts)');
row('spawn -> tools/list (ms)', f(v.ready, 2), f(r.ready, 2), `1/${f(r.ready / v.ready, 1)}`, `<= 50 ms ${v.ready <= 50 ? 'MET' : 'MISSED'}`);
row('tools/list p50 (ms)', f(v.list.p50), f(r.list.p50), `1/${f(r.list.p50 / v.list.p50, 1)}`, '');
row('tools/list p99 (ms)', f(v.list.p99), f(r.list.p99), `1/${f(r.list.p99 / v.list.p99, 1)}`, '');
row('tools/call p50 (ms)', f(v.call.p50), f(r.call.p50), `1/${f(r.call.p50 / v.call.p50, 1)}`, '');
row('tools/call p99 (ms)', f(v.call.p99), f(r.call.p99), `1/${f(r.call.p99 / v.call.p99, 1)}`, `<= 1 ms ${v.call.p99 <= 1 ? 'MET' : 'MISSED'}`);
row('  client floor p99 (cat)', f(callFloor.p99), f(callFloor.p99), '', '(in both latencies)');
row('throughput (calls/s)', f(v.tp, 0), f(r.tp, 0), `${f(v.tp / r.tp, 1)}x`, '');
row('idle RSS (kB)', String(v.rss), String(r.rss), `1/${f(r.rss / v.rss, 1)}`, '');
row('tools listed', String(v.tools), String(r.tools), '', '');
row('tools/list reply (bytes)', String(v.listBytes), String(r.listBytes), '', '');
fs.rmSync(home, { recursive: true, force: true });

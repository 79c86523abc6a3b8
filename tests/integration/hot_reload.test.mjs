// Hot reload end to end through `vibeml serve --plugins DIR` and the MCP SDK client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  LoggingMessageNotificationSchema, ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const HOME = process.env.VIBEML_HOME;
const DIR = path.join(HOME, 'extra-plugins');
fs.mkdirSync(DIR, { recursive: true });
const FILE = path.join(DIR, 'hotwf.lua');

const logs = [];
let toolsChanged = 0;
const transport = new StdioClientTransport({
  command: BIN, args: ['serve', '--plugins', DIR], env: { ...process.env }, stderr: 'pipe',
});
const stderr = [];
transport.stderr?.on('data', (d) => stderr.push(d.toString()));
const client = new Client({ name: 'hot-reload-test', version: '1.0.0' }, { capabilities: {} });
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { toolsChanged++; });
await client.connect(transport);
after(async () => { await client.close().catch(() => {}); });

const latencies = [];

function source(version, buildBody = '', prefix = '') {
  return `${prefix}local kit = require "vibeml.taskkit"
return { kind = "workflow", name = "hotwf", title = "Hot", description = "hot reload test",
  version = "${version}", method = "lora", model_sizes = { min_b = 0.1, max_b = 10 },
  vram = { overhead_gb = 1 }, throughput = { k = 4 },
  hyperparameters = { steps = { type = "integer", default = 1, min = 1, max = 9, description = "s" } },
  secrets = { required = {}, optional = {} },
  gpu = { required = true, min_count = 1, max_count = 1, multi_node = false },
  build = function(p) ${buildBody}
    return kit.task { workflow = "hotwf", p = p, gpu = true, setup = "true", run = "python train.py" }
  end }
`;
}

async function workflows() {
  const r = await client.callTool({ name: 'list_workflows', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r));
  return Object.fromEntries(r.structuredContent.workflows.map((w) => [w.name, w.version]));
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// Polls list_workflows until pred holds (at most 5 s); records the latency.
async function until(what, pred) {
  const t0 = Date.now();
  for (;;) {
    const w = await workflows();
    if (pred(w)) { latencies.push(`${what} ${Date.now() - t0} ms`); return w; }
    if (Date.now() - t0 > 15000) assert.fail(`${what}: list did not follow within 15 s: ${JSON.stringify(w)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function untilLog(what, needle) {
  const t0 = Date.now();
  const start = logs.length;
  for (;;) {
    const has = (m) => (needle instanceof RegExp ? needle.test(m) : m.includes(needle));
    const hit = logs.slice(start).find((l) => l.level === 'error' && has(String(l.data)));
    if (hit) { latencies.push(`${what} ${Date.now() - t0} ms`); return hit; }
    if (Date.now() - t0 > 15000) assert.fail(`${what}: no error log within 15 s; logs: ${JSON.stringify(logs.slice(start))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('add and change a workflow plugin', async () => {
  const before = await workflows();
  assert.deepEqual(Object.keys(before).sort(), ['full', 'lora', 'smoke', 'unsloth']);
  writeAtomic(FILE, source('1.0.0'));
  await until('add', (w) => w.hotwf === '1.0.0');
  fs.writeFileSync(FILE, source('1.1.0'));
  await until('change', (w) => w.hotwf === '1.1.0');
  const g = await client.callTool({ name: 'get_workflow', arguments: { name: 'hotwf' } });
  assert.equal(g.structuredContent.version, '1.1.0');
});

const broken = [
  ['syntax error', source('6.6.6', '', 'return {{{\n'), 'hotwf.lua:2:'],
  ['runtime error', 'local x = nil\nreturn x.y\n', 'hotwf.lua:2:'],
  // the instruction budget or the time limit trips first, depending on the machine's speed
  ['infinite loop', 'while true do end\n', /instruction budget|time limit/],
  ['1 GB allocation', "local s = string.rep('x', 1 << 30)\nreturn {}\n", 'memory limit'],
];

for (const [what, text, needle] of broken) {
  test(`broken (${what}): never goes live, error logged, server keeps answering`, async () => {
    writeAtomic(FILE, text);
    // the server answers while (and right after) the broken version is tried
    const w = await workflows();
    assert.equal(w.hotwf, '1.1.0');
    const log = await untilLog(what, needle);
    assert.match(String(log.data), /previous version keeps serving/);
    const after = await workflows();
    assert.equal(after.hotwf, '1.1.0', 'the broken version never went live');
    const cs = await client.callTool({ name: 'check_setup', arguments: { skip_backends: true } });
    const errs = cs.structuredContent.plugins.errors;
    const has = (m) => (needle instanceof RegExp ? needle.test(m) : m.includes(needle));
    assert.ok(errs.some((e) => e.name === 'hotwf' && has(e.message)), JSON.stringify(errs));
  });
}

test('fix, then remove', async () => {
  writeAtomic(FILE, source('2.0.0'));
  await until('fix', (w) => w.hotwf === '2.0.0');
  const cs = await client.callTool({ name: 'check_setup', arguments: { skip_backends: true } });
  assert.ok(!cs.structuredContent.plugins.errors.some((e) => e.name === 'hotwf'));
  fs.unlinkSync(FILE);
  await until('remove', (w) => !('hotwf' in w));
});

test('a tools plugin appears in tools/list and runs', async () => {
  const seen = toolsChanged;
  writeAtomic(path.join(DIR, 'greeter.lua'), `return { kind = "tools", name = "greeter", version = "1.0.0", tools = {
  { name = "greet", description = "says hello", inputSchema = { type = "object", properties = { who = { type = "string" } }, required = { "who" } },
    handler = function(args) return { text = "hello " .. args.who } end } } }
`);
  const t0 = Date.now();
  for (;;) {
    const list = await client.listTools();
    if (list.tools.some((t) => t.name === 'greet')) break;
    if (Date.now() - t0 > 15000) assert.fail('greet never appeared');
    await new Promise((r) => setTimeout(r, 25));
  }
  latencies.push(`tools plugin ${Date.now() - t0} ms`);
  assert.ok(toolsChanged > seen, 'notifications/tools/list_changed received');
  const r = await client.callTool({ name: 'greet', arguments: { who: 'ada' } });
  assert.equal(r.structuredContent.text, 'hello ada');
  console.log('reload latency (file written -> visible to the client): ' + latencies.join(', '));
});

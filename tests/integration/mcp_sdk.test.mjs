// `vibeml serve` driven by the official MCP TypeScript SDK client over stdio.
// Run by test_mcp.sh: VIBEML_BIN is the binary, VIBEML_HOME a fresh folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ElicitRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema, PromptListChangedNotificationSchema, McpError,
  EmptyResultSchema, LATEST_PROTOCOL_VERSION,
} from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
assert.ok(BIN, 'VIBEML_BIN must name the vibeml binary');

const clients = [];
after(async () => { for (const c of clients) await c.close().catch(() => {}); });

function serverEnv(extra = {}) {
  const env = { ...process.env, VIBEML_TEST_TOOLS: '1', ...extra };
  return env;
}

async function connect({ capabilities = {}, env = {}, onElicit } = {}) {
  const transport = new StdioClientTransport({
    command: BIN, args: ['serve'], env: serverEnv(env), stderr: 'pipe',
  });
  const stderr = [];
  transport.stderr?.on('data', (d) => stderr.push(d.toString()));
  const client = new Client({ name: 'vibeml-tests', version: '1.0.0' }, { capabilities });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(transport);
  clients.push(client);
  client.stderrText = () => stderr.join('');
  return client;
}

async function expectMcpError(promise, code, needle) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof McpError, `expected McpError, got ${e}`);
    assert.equal(e.code, code, `error code for: ${e.message}`);
    if (needle) assert.match(e.message, needle);
    return e;
  }
  assert.fail(`expected an MCP error ${code}`);
}

// A raw session over the SDK's stdio transport, for what the Client class does not expose:
// other protocol versions and unanswered requests.
async function rawSession(env = {}) {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], env: serverEnv(env), stderr: 'pipe' });
  const inbox = [];
  const waiters = [];
  transport.onmessage = (m) => {
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  };
  await transport.start();
  const s = {
    transport, inbox,
    send: (m) => transport.send(m),
    async waitFor(pred, ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = inbox.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error('timed out waiting; inbox: ' + JSON.stringify(inbox).slice(0, 2000));
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
    async request(id, method, params) {
      await transport.send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
      return s.waitFor((m) => m.id === id);
    },
    close: () => transport.close(),
  };
  return s;
}

const initParams = (v) => ({ protocolVersion: v, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

test('initialize: serverInfo, capabilities and instructions', async () => {
  const c = await connect();
  const info = c.getServerVersion();
  assert.equal(info.name, 'vibeml');
  assert.equal(info.title, 'VibeML');
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  const caps = c.getServerCapabilities();
  assert.deepEqual(caps.tools, { listChanged: true });
  assert.deepEqual(caps.resources, { subscribe: true, listChanged: true });
  assert.ok(caps.logging && caps.completions && caps.prompts);
  const ins = c.getInstructions();
  assert.match(ins, /check_setup/);
  assert.match(ins, /cost/);
  assert.match(ins, /vibeml secrets set/);
  assert.match(ins, /[Nn]ever ask the user to paste/);
  await c.ping();
});

test('initialize under each supported version; unknown version gets the latest', async () => {
  for (const v of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2099-01-01']) {
    const s = await rawSession();
    const r = await s.request(1, 'initialize', initParams(v));
    const want = v === '2099-01-01' ? LATEST_PROTOCOL_VERSION : v;
    assert.equal(r.result.protocolVersion, want, `for ${v}`);
    if (want >= '2025-06-18') assert.equal(r.result.serverInfo.title, 'VibeML');
    else assert.equal(r.result.serverInfo.title, undefined, `no title before 2025-06-18 (${v})`);
    if (want >= '2025-03-26') assert.ok(r.result.capabilities.completions);
    else assert.equal(r.result.capabilities.completions, undefined);
    await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const list = await s.request(2, 'tools/list');
    const echo = list.result.tools.find((t) => t.name === 'test_echo');
    if (want >= '2025-06-18') assert.ok(echo.outputSchema && echo.title);
    else assert.equal(echo.outputSchema, undefined);
    if (want >= '2025-03-26') assert.ok(echo.annotations);
    else assert.equal(echo.annotations, undefined);
    const call = await s.request(3, 'tools/call', { name: 'test_echo', arguments: { message: 'hi' } });
    if (want >= '2025-06-18') assert.deepEqual(call.result.structuredContent.count, 1);
    else assert.equal(call.result.structuredContent, undefined, 'structured output is 2025-06-18+');
    assert.equal(call.result.content[0].text, 'hi');
    // a second initialize is refused
    const again = await s.request(4, 'initialize', initParams(v));
    assert.equal(again.error.code, -32600);
    await s.close();
  }
});

test('requests before initialize are refused, ping is answered', async () => {
  const s = await rawSession();
  const r = await s.request(1, 'tools/list');
  assert.equal(r.error.code, -32600);
  assert.match(r.error.message, /initialize/);
  const p = await s.request(2, 'ping');
  assert.deepEqual(p.result, {});
  const bad = await s.request(3, 'initialize', { capabilities: {}, clientInfo: { name: 'x', version: '1' } });
  assert.equal(bad.error.code, -32602);
  assert.match(bad.error.message, /protocolVersion/);
  await s.close();
});

test('tools/list: tools with schemas and annotations, cursor pagination', async () => {
  const c = await connect();
  const { tools, nextCursor } = await c.listTools();
  assert.equal(nextCursor, undefined);
  const names = tools.map((t) => t.name);
  assert.deepEqual([...names].sort(), names, 'deterministic order');
  const cs = tools.find((t) => t.name === 'check_setup');
  assert.ok(cs, 'check_setup is listed');
  assert.equal(cs.title, 'Check VibeML set-up');
  assert.equal(cs.inputSchema.type, 'object');
  assert.equal(cs.inputSchema.additionalProperties, false);
  assert.equal(cs.outputSchema.type, 'object');
  // only the hints that differ from the spec's defaults (tools/list is in every conversation)
  assert.deepEqual(cs.annotations, { readOnlyHint: true, openWorldHint: false });
  for (const t of tools) {
    assert.equal(t.inputSchema.additionalProperties, false, `${t.name} is strict`);
    assert.ok(t.description.length > 0);
  }
  // pagination with a small page size
  const p = await connect({ env: { VIBEML_MCP_PAGE_SIZE: '4' } });
  const seen = [];
  let cursor;
  let pages = 0;
  do {
    const r = await p.listTools(cursor ? { cursor } : {});
    assert.ok(r.tools.length <= 4);
    seen.push(...r.tools.map((t) => t.name));
    cursor = r.nextCursor;
    pages++;
  } while (cursor);
  assert.deepEqual(seen, names);
  assert.ok(pages >= 3);
  await expectMcpError(p.listTools({ cursor: 'nonsense' }), -32602, /cursor/);
  await expectMcpError(p.listTools({ cursor: 'o:99999' }), -32602, /cursor/);
  // prompts and resources page the same way
  for (const [fn, key] of [['listPrompts', 'prompts'], ['listResources', 'resources']]) {
    const all = (await c[fn]())[key].map((x) => x.name);
    const got = [];
    let cur;
    do {
      const r = await p[fn](cur ? { cursor: cur } : {});
      got.push(...r[key].map((x) => x.name));
      cur = r.nextCursor;
    } while (cur);
    assert.deepEqual(got, all, `${fn} pages`);
  }
  await expectMcpError(p.listPrompts({ cursor: 'bad' }), -32602, /cursor/);
});

test('check_setup reports version, state folder, backends and secrets by name', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vml-sky-'));
  const sky = path.join(dir, 'sky');
  fs.writeFileSync(sky, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "skypilot, version 0.12.1"; exit 0; fi\nexit 2\n', { mode: 0o755 });
  const c = await connect({ env: { VIBEML_SKY: sky, HF_TOKEN: 'hf_secret_value_never_shown' } });
  const r = await c.callTool({ name: 'check_setup', arguments: {} });
  assert.equal(r.isError, undefined);
  const s = r.structuredContent;
  assert.equal(s.version, c.getServerVersion().version);
  assert.equal(s.state_dir, process.env.VIBEML_HOME);
  assert.deepEqual(s.backends.map((b) => b.name), ['local', 'skypilot']);
  assert.equal(s.backends[0].available, true);
  assert.equal(s.backends[1].available, true);
  assert.equal(s.backends[1].version, '0.12.1');
  assert.equal(s.backends[1].path, sky);
  const hf = s.secrets.find((x) => x.name === 'HF_TOKEN');
  assert.ok(hf);
  assert.ok(!JSON.stringify(r).includes('hf_secret_value_never_shown'), 'secret values never appear');
  assert.match(r.content[0].text, /backend skypilot +ready/);

  // without sky: unavailable, with the fix
  const c2 = await connect({ env: { VIBEML_SKY: path.join(dir, 'missing-sky') } });
  const r2 = await c2.callTool({ name: 'check_setup', arguments: {} });
  const b = r2.structuredContent.backends[1];
  assert.equal(b.available, false);
  assert.match(b.detail, /not an executable/);
  assert.ok(r2.structuredContent.problems.some((p) => /SkyPilot/.test(p)));
  assert.equal(r2.structuredContent.ready, false);

  // an old SkyPilot is refused with the reason
  fs.writeFileSync(sky, '#!/bin/sh\necho "skypilot, version 0.9.3"\n', { mode: 0o755 });
  const r3 = await c.callTool({ name: 'check_setup', arguments: {} });
  assert.equal(r3.structuredContent.backends[1].available, false);
  assert.match(r3.structuredContent.backends[1].detail, /too old/);
});

test('tools/call: structured result, text rendering and defaults', async () => {
  const c = await connect();
  const r = await c.callTool({ name: 'test_echo', arguments: { message: 'ab', count: 3, mode: 'fast', nested: { items: [1, 2] } } });
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[0].text, 'ababab');
  assert.deepEqual(r.structuredContent, { message: 'ab', count: 3, mode: 'fast', nested: { items: [1, 2] } });
  const d = await c.callTool({ name: 'test_echo', arguments: { message: 'x' } });
  assert.equal(d.structuredContent.count, 1, 'default filled in before the handler runs');
  // without a text, the text is the JSON of the structured result
  const t = await c.callTool({ name: 'test_touch', arguments: {} });
  assert.deepEqual(JSON.parse(t.content[0].text), t.structuredContent);
});

test('arguments are validated in C: naming the field and what is allowed (isError from 2025-11-25, -32602 before)', async () => {
  const c = await connect();
  const cases = [
    [{}, /arguments\.message: required field missing/],
    [{ message: 'x', extra: 1 }, /arguments: unknown field 'extra' \(allowed: .*message/],
    [{ message: 5 }, /arguments\.message: expected string, got integer/],
    [{ message: '' }, /arguments\.message: too short/],
    [{ message: 'x'.repeat(51) }, /arguments\.message: too long \(51 characters, at most 50\)/],
    [{ message: 'x', count: 11 }, /arguments\.count: 11 is above the maximum 10/],
    [{ message: 'x', count: 1.5 }, /arguments\.count: expected integer, got number/],
    [{ message: 'x', ratio: 1 }, /arguments\.ratio: 1 must be less than 1/],
    [{ message: 'x', mode: 'medium' }, /arguments\.mode: "medium" is not allowed \(one of: "fast", "slow"\)/],
    [{ message: 'x', tag: 'Bad Tag' }, /arguments\.tag: "Bad Tag" does not match the pattern/],
    [{ message: 'x', nested: { items: [1, 'two'] } }, /arguments\.nested\.items\[1\]: expected integer, got string/],
    [{ message: 'x', nested: { items: [] } }, /arguments\.nested\.items: 0 items, at least 1 needed/],
    [{ message: 'x', nested: { items: [1, 2, 3, 4] } }, /arguments\.nested\.items: 4 items, at most 3 allowed/],
    [{ message: 'x', nested: {} }, /arguments\.nested\.items: required field missing/],
    [{ message: 'x', either: 3 }, /arguments\.either: expected string or null, got integer/],
  ];
  // 2025-11-25 (SEP-1303): a tool execution error the model can act on; the handler never ran
  for (const [args, re] of cases) {
    const r = await c.callTool({ name: 'test_echo', arguments: args });
    assert.equal(r.isError, true, JSON.stringify(r));
    assert.match(r.content[0].text, /^Invalid arguments for tool 'test_echo': /);
    assert.match(r.content[0].text, re);
    assert.match(r.content[0].text, /Fix the arguments/);
    assert.equal(r.structuredContent, undefined);
  }
  // before 2025-11-25: the protocol error -32602, with the tool and its inputSchema as data
  for (const v of ['2025-06-18', '2025-03-26', '2024-11-05']) {
    const s = await rawSession();
    await s.request(1, 'initialize', initParams(v));
    await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    let id = 10;
    for (const [args, re] of cases) {
      const r = await s.request(++id, 'tools/call', { name: 'test_echo', arguments: args });
      assert.equal(r.error?.code, -32602, `${v}: ${JSON.stringify(r)}`);
      assert.match(r.error.message, re);
      assert.equal(r.error.data.tool, 'test_echo');
      assert.equal(r.error.data.inputSchema.type, 'object');
    }
    await s.close();
  }
  const ok = await c.callTool({ name: 'test_echo', arguments: { message: 'é€😀', either: null, ratio: 0.5, count: 2.0 } });
  assert.equal(ok.structuredContent.count, 2);
  await expectMcpError(c.callTool({ name: 'no_such_tool', arguments: {} }), -32602, /unknown tool 'no_such_tool'/);
});

test('tool failures are results with isError and text that says what to do', async () => {
  const c = await connect();
  const a = await c.callTool({ name: 'test_fail', arguments: { how: 'nil' } });
  assert.equal(a.isError, true);
  assert.match(a.content[0].text, /try again with a smaller model/);
  const b = await c.callTool({ name: 'test_fail', arguments: { how: 'raise' } });
  assert.equal(b.isError, true);
  assert.match(b.content[0].text, /boom in handler/);
  assert.doesNotMatch(b.content[0].text, /stack traceback/);
  const t = await c.callTool({ name: 'test_fail', arguments: { how: 'table' } });
  assert.equal(t.isError, true);
  assert.match(t.content[0].text, /over budget \(raise the limit\)/);
  // server-side bugs are -32603
  await expectMcpError(c.callTool({ name: 'test_fail', arguments: { how: 'badjson' } }), -32603, /not JSON/);
  await expectMcpError(c.callTool({ name: 'test_fail', arguments: { how: 'badoutput' } }), -32603, /outputSchema.*structuredContent\.n: expected integer/);
});

test('unknown method is -32601', async () => {
  const c = await connect();
  await expectMcpError(c.request({ method: 'jobs/explode', params: {} }, EmptyResultSchema), -32601, /jobs\/explode/);
  await expectMcpError(c.request({ method: 'logging/setLevel', params: { level: 'loud' } }, EmptyResultSchema), -32602, /level/);
});

test('progress notifications follow the request\'s progressToken', async () => {
  const c = await connect();
  const seen = [];
  const r = await c.callTool({ name: 'test_sleep', arguments: { seconds: 0.4, steps: 4 } }, undefined, {
    onprogress: (p) => seen.push(p),
  });
  assert.equal(r.structuredContent.steps, 4);
  assert.ok(seen.length >= 3, `got ${seen.length} progress notifications`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress);
  assert.equal(seen[0].total, 4);
  assert.match(seen[0].message, /step 1 of 4/);
});

test('a waiting handler never delays ping or other calls', async () => {
  const c = await connect();
  const order = [];
  const slow = c.callTool({ name: 'test_sleep', arguments: { seconds: 1.5 } }).then(() => order.push('slow'));
  await new Promise((r) => setTimeout(r, 100));
  await c.ping().then(() => order.push('ping'));
  await c.callTool({ name: 'test_echo', arguments: { message: 'q' } }).then(() => order.push('echo'));
  await slow;
  assert.deepEqual(order, ['ping', 'echo', 'slow']);
});

test('cancellation stops the handler and no response follows', async () => {
  const c = await connect();
  const ac = new AbortController();
  const p = c.callTool({ name: 'test_sleep', arguments: { seconds: 30 } }, undefined, { signal: ac.signal });
  setTimeout(() => ac.abort('test cancels'), 200);
  await assert.rejects(p);
  await c.ping();
  // raw: no response for the cancelled id, later requests fine
  const s = await rawSession();
  await s.request(1, 'initialize', initParams('2025-11-25'));
  await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await s.send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'test_sleep', arguments: { seconds: 0.6 } } });
  await s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow', reason: 'test' } });
  // cancelling an unknown id is ignored
  await s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nope' } });
  const done = await s.request(2, 'tools/call', { name: 'test_sleep', arguments: { seconds: 1.0 } });
  assert.ok(done.result);
  assert.equal(s.inbox.find((m) => m.id === 'slow'), undefined, 'no response after cancellation');
  await s.close();
});

test('logging: setLevel filters notifications/message', async () => {
  const c = await connect();
  const logs = [];
  c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  await c.setLoggingLevel('debug');
  const r = await c.callTool({ name: 'test_log', arguments: { level: 'debug', message: 'low level detail' } });
  assert.equal(r.structuredContent.sent, true);
  await c.ping();
  assert.ok(logs.some((l) => l.level === 'debug' && l.data === 'low level detail' && l.logger === 'vibeml.test_log'));
  assert.ok(logs.some((l) => l.data === 'event: low level detail'), 'events "log" reach the client');
  await c.setLoggingLevel('error');
  const before = logs.length;
  const r2 = await c.callTool({ name: 'test_log', arguments: { level: 'warning', message: 'hidden' } });
  assert.equal(r2.structuredContent.sent, false);
  await c.callTool({ name: 'test_log', arguments: { level: 'critical', message: 'shown' } });
  await c.ping();
  assert.deepEqual(logs.slice(before).map((l) => l.data), ['shown', 'event: shown']);
});

test('resources: list, templates, read, subscribe, updated, unsubscribe, not found', async () => {
  const c = await connect();
  const updates = [];
  c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params.uri));
  const { resources } = await c.listResources();
  const uris = resources.map((r) => r.uri);
  assert.ok(uris.includes('vibeml://test/counter'));
  assert.ok(uris.includes('vibeml://test/items/a'), 'template instances are listed');
  const { resourceTemplates } = await c.listResourceTemplates();
  assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'vibeml://test/items/{id}'));
  const r0 = await c.readResource({ uri: 'vibeml://test/counter' });
  assert.equal(r0.contents[0].mimeType, 'application/json');
  const n0 = JSON.parse(r0.contents[0].text).counter;
  const item = await c.readResource({ uri: 'vibeml://test/items/xyz' });
  assert.equal(item.contents[0].text, 'item xyz');
  await c.subscribeResource({ uri: 'vibeml://test/counter' });
  await c.callTool({ name: 'test_touch', arguments: {} });
  await c.ping();
  assert.deepEqual(updates, ['vibeml://test/counter']);
  const r1 = await c.readResource({ uri: 'vibeml://test/counter' });
  assert.equal(JSON.parse(r1.contents[0].text).counter, n0 + 1);
  await c.unsubscribeResource({ uri: 'vibeml://test/counter' });
  await c.callTool({ name: 'test_touch', arguments: {} });
  await c.ping();
  assert.equal(updates.length, 1, 'no update after unsubscribe');
  await expectMcpError(c.readResource({ uri: 'vibeml://nothing/here' }), -32002, /not found/);
  await expectMcpError(c.readResource({ uri: 'vibeml://test/items/missing' }), -32002, /no item missing/);
  await expectMcpError(c.subscribeResource({ uri: 'vibeml://nothing/here' }), -32002);
  await expectMcpError(c.request({ method: 'resources/read', params: {} }, EmptyResultSchema), -32602, /params\.uri/);
});

test('prompts: list, get, required arguments, completion', async () => {
  const c = await connect();
  const { prompts } = await c.listPrompts();
  const ft = prompts.find((p) => p.name === 'fine_tune');
  assert.ok(ft, 'fine_tune is listed');
  assert.ok(prompts.find((p) => p.name === 'compare_approaches'));
  assert.deepEqual(ft.arguments.filter((a) => a.required).map((a) => a.name), ['model', 'dataset']);
  const g = await c.getPrompt({ name: 'fine_tune', arguments: { model: 'Qwen/Qwen2.5-0.5B', dataset: 'yahma/alpaca-cleaned', max_cost: '5' } });
  assert.equal(g.messages[0].role, 'user');
  const text = g.messages[0].content.text;
  assert.match(text, /Qwen\/Qwen2\.5-0\.5B/);
  assert.match(text, /check_setup/);
  assert.match(text, /plan_training/);
  assert.match(text, /\$5/);
  assert.match(text, /vibeml secrets set/);
  await expectMcpError(c.getPrompt({ name: 'fine_tune', arguments: { model: 'x' } }), -32602, /arguments\.dataset: required/);
  await expectMcpError(c.getPrompt({ name: 'nope' }), -32602, /unknown prompt/);
  const comp = await c.complete({ ref: { type: 'ref/prompt', name: 'fine_tune' }, argument: { name: 'model', value: 'qwen/qwen2.5-7' } });
  assert.ok(comp.completion.values.length >= 2);
  for (const v of comp.completion.values) assert.match(v, /^Qwen\/Qwen2\.5-7/);
  assert.equal(comp.completion.total, comp.completion.values.length);
  const wf = await c.complete({ ref: { type: 'ref/prompt', name: 'fine_tune' }, argument: { name: 'workflow', value: '' } });
  assert.ok(wf.completion.values.length >= 1);
  const none = await c.complete({ ref: { type: 'ref/prompt', name: 'fine_tune' }, argument: { name: 'goal', value: 'x' } });
  assert.deepEqual(none.completion.values, []);
  const res = await c.complete({ ref: { type: 'ref/resource', uri: 'vibeml://test/items/{id}' }, argument: { name: 'id', value: 'a' } });
  assert.deepEqual(res.completion.values, ['a', 'abc']);
  await expectMcpError(c.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } }), -32602);
});

test('tools/list_changed when the registry changes at run time', async () => {
  const c = await connect();
  let changed = 0;
  c.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++; });
  await c.callTool({ name: 'test_toggle_tool', arguments: { on: true } });
  await c.ping();
  assert.equal(changed, 1);
  let { tools } = await c.listTools();
  assert.ok(tools.some((t) => t.name === 'test_dynamic'));
  const r = await c.callTool({ name: 'test_dynamic', arguments: {} });
  assert.deepEqual(r.structuredContent, { ok: true });
  await c.callTool({ name: 'test_toggle_tool', arguments: { on: false } });
  await c.ping();
  assert.equal(changed, 2);
  ({ tools } = await c.listTools());
  assert.ok(!tools.some((t) => t.name === 'test_dynamic'));
});

test('elicitation round trip: accept and decline; a client without the capability', async () => {
  const answers = [
    { action: 'accept', content: { confirm: true, cap: 20 } },
    { action: 'decline' },
  ];
  const asked = [];
  const c = await connect({
    capabilities: { elicitation: { form: {} } },
    onElicit: async (req) => { asked.push(req.params); return answers.shift(); },
  });
  const a = await c.callTool({ name: 'test_elicit', arguments: {} });
  assert.equal(asked[0].message, 'Spend $12.50 on 1x A100 for 2 h?');
  assert.equal(asked[0].requestedSchema.properties.confirm.type, 'boolean');
  assert.deepEqual(asked[0].requestedSchema.required, ['confirm']);
  assert.deepEqual(a.structuredContent, { supported: true, action: 'accept', content: { confirm: true, cap: 20 } });
  const d = await c.callTool({ name: 'test_elicit', arguments: {} });
  assert.equal(d.structuredContent.action, 'decline');
  // while a handler waits for the person, other calls go on
  const c3 = await connect({
    capabilities: { elicitation: { form: {} } },
    onElicit: async () => { await c3.ping(); await c3.callTool({ name: 'test_echo', arguments: { message: 'meanwhile' } }); return { action: 'cancel' }; },
  });
  const x = await c3.callTool({ name: 'test_elicit', arguments: {} });
  assert.equal(x.structuredContent.action, 'cancel');
  const c2 = await connect();
  const n = await c2.callTool({ name: 'test_elicit', arguments: {} });
  assert.deepEqual(n.structuredContent, { supported: false, error: 'client does not support elicitation' });
});

test('cancelling a call that waits on elicitation cancels the server\'s own request too', async () => {
  const s = await rawSession();
  await s.request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: { elicitation: { form: {} } }, clientInfo: { name: 'raw', version: '1' } });
  await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await s.send({ jsonrpc: '2.0', id: 'ask', method: 'tools/call', params: { name: 'test_elicit', arguments: {} } });
  const req = await s.waitFor((m) => m.method === 'elicitation/create');
  assert.equal(typeof req.id, 'string');
  assert.equal(req.params.mode, 'form');
  await s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'ask', reason: 'user gave up' } });
  const note = await s.waitFor((m) => m.method === 'notifications/cancelled');
  assert.equal(note.params.requestId, req.id);
  // a late answer to the cancelled elicitation is ignored; the server keeps serving
  await s.send({ jsonrpc: '2.0', id: req.id, result: { action: 'accept', content: { confirm: true } } });
  const p = await s.request(2, 'ping');
  assert.deepEqual(p.result, {});
  assert.equal(s.inbox.find((m) => m.id === 'ask'), undefined, 'no response for the cancelled call');
  // an error answer reaches the handler as a failure
  await s.send({ jsonrpc: '2.0', id: 'ask2', method: 'tools/call', params: { name: 'test_elicit', arguments: {} } });
  const req2 = await s.waitFor((m) => m.method === 'elicitation/create' && m.id !== req.id);
  await s.send({ jsonrpc: '2.0', id: req2.id, error: { code: -32603, message: 'no display' } });
  const r2 = await s.waitFor((m) => m.id === 'ask2');
  assert.equal(r2.result.isError, true);
  assert.match(r2.result.content[0].text, /no display/);
  await s.close();
});

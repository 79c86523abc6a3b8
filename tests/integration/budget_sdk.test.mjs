// Money and secrets through `vibeml serve`, driven by the official MCP TypeScript SDK client.
// Run by test_budget_mcp.sh: VIBEML_BIN is the binary, VIBEML_HOME a fresh folder with a secret
// HF_TOKEN (value in SECRET_VALUE) and a $100 monthly budget.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const SECRET = process.env.SECRET_VALUE;
assert.ok(BIN && SECRET);
const B64 = Buffer.from(SECRET).toString('base64').replace(/=+$/, '');
const seen = [];           // every message the server sent, as text, for the secret scan
const clients = [];
after(async () => { for (const c of clients) await c.close().catch(() => {}); });

async function connect({ elicitation = false, onElicit } = {}) {
  const transport = new StdioClientTransport({
    command: BIN, args: ['serve'], env: { ...process.env, VIBEML_TEST_TOOLS: '1' }, stderr: 'pipe',
  });
  const stderr = [];
  transport.stderr?.on('data', (d) => { stderr.push(d.toString()); seen.push(d.toString()); });
  const client = new Client({ name: 'vibeml-money-tests', version: '1.0.0' },
    { capabilities: elicitation ? { elicitation: { form: {} } } : {} });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, onElicit);
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => seen.push(JSON.stringify(n)));
  await client.connect(transport);
  const orig = transport.onmessage;
  transport.onmessage = (m) => { seen.push(JSON.stringify(m)); orig?.(m); };
  clients.push(client);
  return client;
}

const call = async (c, name, args = {}) => {
  const r = await c.callTool({ name, arguments: args });
  seen.push(JSON.stringify(r));
  return r;
};

test('get_budget, get_preferences, set_preferences refuses money limits', async () => {
  const c = await connect();
  await c.setLoggingLevel('debug');
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name);
  for (const n of ['get_budget', 'get_preferences', 'set_preferences']) assert.ok(names.includes(n), n);
  const b = await call(c, 'get_budget');
  assert.equal(b.isError, undefined);
  assert.equal(b.structuredContent.monthly_limit, 100);
  assert.equal(b.structuredContent.spent, 0);
  const s = await call(c, 'set_preferences', { per_job_cap: 1000 });
  assert.equal(s.isError, true);
  assert.match(s.content[0].text, /vibeml budget set/);
  const s2 = await call(c, 'set_preferences', { cloud: 'nebius', spot: false });
  assert.equal(s2.isError, undefined, JSON.stringify(s2));
  assert.equal(s2.structuredContent.preferences.cloud, 'nebius');
  const g = await call(c, 'get_preferences');
  assert.equal(g.structuredContent.preferences.spot, false);
  assert.equal(g.structuredContent.money.monthly_budget, 100);
});

test('over budget: the person accepts through elicitation, the override is recorded', async () => {
  const c = await connect({ elicitation: true, onElicit: async () => { throw new Error('must not ask'); } });
  const fits = await call(c, 'test_authorize', { job_id: 'fits-70', amount: 70 });
  assert.equal(fits.structuredContent.approved, true);
  assert.equal(fits.structuredContent.override, false);
  const asked = [];
  const c2 = await connect({ elicitation: true, onElicit: async (req) => {
    asked.push(req.params);
    return { action: 'accept', content: { launch: true } };
  } });
  const r = await call(c2, 'test_authorize', { job_id: 'over-accept', amount: 50 });
  assert.equal(asked.length, 1);
  assert.equal(asked[0].message,
    'Estimated $50.00 exceeds the remaining $30.00 of this month\'s budget. Launch anyway?');
  assert.equal(asked[0].requestedSchema.properties.launch.type, 'boolean');
  assert.equal(r.structuredContent.approved, true);
  assert.equal(r.structuredContent.override, true);
  const row = execFileSync('sqlite3', [`${process.env.VIBEML_HOME}/vibeml.db`,
    "SELECT override || ':' || override_by || ':' || reserved FROM money_ledger WHERE job_id = 'over-accept'"]).toString().trim();
  assert.equal(row, '1:elicitation:50000000');
});

test('over budget: decline and cancel refuse; a client without elicitation is refused', async () => {
  for (const action of ['decline', 'cancel']) {
    const c = await connect({ elicitation: true, onElicit: async () => ({ action }) });
    const r = await call(c, 'test_authorize', { job_id: `over-${action}`, amount: 5 });
    assert.equal(r.structuredContent.approved, false);
    assert.equal(r.structuredContent.code, 'VML_EMONEY');
    assert.match(r.structuredContent.message, /vibeml budget set --monthly/);
  }
  const plain = await connect();
  const n = await call(plain, 'test_authorize', { job_id: 'over-plain', amount: 5 });
  assert.equal(n.structuredContent.approved, false);
  assert.match(n.structuredContent.message, /Estimated \$5\.00 exceeds the remaining \$0\.00/);
  assert.match(n.structuredContent.message, /vibeml budget set --monthly 125/);
  const count = execFileSync('sqlite3', [`${process.env.VIBEML_HOME}/vibeml.db`,
    "SELECT COUNT(*) FROM money_ledger WHERE job_id IN ('over-decline','over-cancel','over-plain')"]).toString().trim();
  assert.equal(count, '0');
  const b = await call(plain, 'get_budget');
  assert.equal(b.structuredContent.reserved, 120);
  assert.ok(b.structuredContent.warnings.some((w) => /over the \$100\.00 budget/.test(w)));
});

test('a secret used by a child never reaches the client', async () => {
  const c = await connect();
  await c.setLoggingLevel('debug');
  const r = await call(c, 'test_secret_echo');
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.equal(r.structuredContent.code, 0);
  assert.match(r.structuredContent.stdout, /token=\*{8,}/);   // the child had it; we see stars
  const setup = await call(c, 'check_setup');
  seen.push(JSON.stringify(setup));
  const all = seen.join('\n');
  const at = all.indexOf(SECRET);
  assert.ok(at < 0, 'plaintext secret in an MCP message or server stderr: ' + all.slice(Math.max(0, at - 300), at + 60));
  assert.ok(!all.includes(B64), 'base64 of the secret in an MCP message');
  assert.ok(all.includes('HF_TOKEN'), 'names are shown');
});

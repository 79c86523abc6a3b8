// Over-budget launches through the real launch_training tool, `vibeml serve` and the official
// MCP SDK client, against the stand-in `sky` (tests/fixtures/fake_sky). Run by
// test_budget_launch.sh: VIBEML_BIN, VIBEML_HOME (a $1 monthly budget), fake sky on PATH.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const BIN = process.env.VIBEML_BIN;
const DB = `${process.env.VIBEML_HOME}/vibeml.db`;
const clients = [];
after(async () => { for (const c of clients) await c.close().catch(() => {}); });

async function connect({ elicitation = false, onElicit } = {}) {
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], env: { ...process.env }, stderr: 'pipe' });
  const client = new Client({ name: 'vibeml-money-launch', version: '1.0.0' },
    { capabilities: elicitation ? { elicitation: { form: {} } } : {} });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(transport);
  clients.push(client);
  return client;
}

const REQUEST = { model: 'meta-llama/Llama-3.1-8B', dataset: 'yahma/alpaca-cleaned', workflow: 'lora',
  backend: 'skypilot', offline: true };
const sql = (q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', DB, q]).toString().trim();
const launches = () => Number(execFileSync('sh', ['-c',
  `grep -c '"jobs", "launch"' "$FAKE_SKY_STATE/argv.log" || true`]).toString().trim());

test('over budget, the person declines: refused with the numbers, nothing launched', async () => {
  const asked = [];
  const c = await connect({ elicitation: true, onElicit: async (req) => { asked.push(req.params); return { action: 'decline' }; } });
  const r = await c.callTool({ name: 'launch_training', arguments: REQUEST });
  assert.equal(r.isError, true, JSON.stringify(r));
  assert.equal(asked.length, 1);
  assert.match(asked[0].message, /^Estimated \$\d+\.\d\d exceeds the remaining \$1\.00 of this month's budget\. Launch anyway\?$/);
  assert.equal(asked[0].requestedSchema.properties.launch.type, 'boolean');
  assert.match(r.content[0].text, /declined/);
  assert.match(r.content[0].text, /vibeml budget set --monthly \d+/);
  assert.equal(launches(), 0);
  assert.equal(sql("SELECT COUNT(*) FROM money_ledger"), '0');
});

test('a client without elicitation is refused without being asked', async () => {
  const c = await connect();
  const r = await c.callTool({ name: 'launch_training', arguments: REQUEST });
  assert.equal(r.isError, true);
  assert.match(r.content[0].text, /exceeds the remaining \$1\.00 of this month's budget/);
  assert.match(r.content[0].text, /vibeml budget set --monthly/);
  assert.equal(launches(), 0);
});

test('over budget, the person accepts: launched, the override is in the ledger', async () => {
  const asked = [];
  const c = await connect({ elicitation: true, onElicit: async (req) => {
    asked.push(req.params);
    return { action: 'accept', content: { launch: true } };
  } });
  const r = await c.callTool({ name: 'launch_training', arguments: REQUEST });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.equal(asked.length, 1);
  const id = r.structuredContent.id;
  assert.ok(id);
  assert.equal(launches(), 1);
  assert.equal(sql(`SELECT state || ':' || override || ':' || override_by FROM money_ledger WHERE job_id = '${id}'`),
    'reserved:1:elicitation');
  const b = await c.callTool({ name: 'get_budget', arguments: {} });
  assert.ok(b.structuredContent.reserved > 1);
  assert.ok(b.structuredContent.warnings.some((w) => /over the \$1\.00 budget/.test(w)));
});

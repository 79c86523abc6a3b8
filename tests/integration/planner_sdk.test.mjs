// The planner's MCP surface through the official SDK client: plan_training (against the Hugging
// Face stand-in), list_gpus, estimate_cost and the vibeml://catalog/gpus resource. The SDK
// checks each structuredContent against the tool's outputSchema.
// Run by test_planner_mcp.sh: VIBEML_BIN, VIBEML_HOME, HF_ENDPOINT are set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const BIN = process.env.VIBEML_BIN;
let client;
after(async () => { if (client) await client.close().catch(() => {}); });

async function connect() {
  if (client) return client;
  const transport = new StdioClientTransport({ command: BIN, args: ['serve'], env: { ...process.env }, stderr: 'pipe' });
  client = new Client({ name: 'planner-tests', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return client;
}

test('the planner tools are listed with truthful annotations', async () => {
  const c = await connect();
  const { tools } = await c.listTools();
  for (const name of ['plan_training', 'list_gpus', 'estimate_cost']) {
    const t = tools.find((x) => x.name === name);
    assert.ok(t, `${name} listed`);
    assert.equal(t.annotations.readOnlyHint, true);
    assert.equal(t.inputSchema.additionalProperties, false);
    assert.ok(t.outputSchema, 'has an output schema');
  }
});

test('plan_training: Hub facts, ranked options, task preview', async () => {
  const c = await connect();
  const r = await c.callTool({ name: 'plan_training', arguments: {
    model: 'meta-llama/Llama-3.1-8B', dataset: 'yahma/alpaca-cleaned', workflow: 'unsloth' } });
  assert.ok(!r.isError, r.content?.[0]?.text);
  const p = r.structuredContent;
  assert.equal(p.model_info.params_b, 8.030261248);
  assert.equal(p.dataset_info.rows, 51760);
  assert.equal(p.workflow, 'unsloth');
  assert.ok(p.options.length >= 3);
  for (let i = 1; i < p.options.length; i++) {
    assert.ok(p.options[i].cost.expected >= p.options[i - 1].cost.expected, 'ranked by total cost');
  }
  assert.ok(p.warnings.some((w) => w.includes('gated')), 'gated model warned');
  assert.ok(p.task && p.task.resources.ordered.length >= 1, 'task preview with the candidates in order');
  assert.match(r.content[0].text, /best is 1× /);
});

test('plan_training: unknown GPU and missing model are tool errors in the product wording', async () => {
  const c = await connect();
  const a = await c.callTool({ name: 'plan_training', arguments: { model: 'meta-llama/Llama-3.1-8B', gpu: 'RTX9000' } });
  assert.equal(a.isError, true);
  assert.match(a.content[0].text, /GPU type 'RTX9000' not supported\. Available: /);
  const b = await c.callTool({ name: 'plan_training', arguments: { model: 'meta-llama/Llama-3.1-8X' } });
  assert.equal(b.isError, true);
  assert.match(b.content[0].text, /Model 'meta-llama\/Llama-3\.1-8X' not found on Hugging Face/);
});

test('plan_training: invalid arguments are refused by the schema', async () => {
  const c = await connect();
  let refused = false;
  try {
    const r = await c.callTool({ name: 'plan_training', arguments: { model: 'a/b', gpus: 0 } });
    refused = r.isError === true;
  } catch (e) { refused = true; }
  assert.ok(refused);
});

test('list_gpus and estimate_cost', async () => {
  const c = await connect();
  const g = await c.callTool({ name: 'list_gpus', arguments: { cloud: 'nebius', min_memory: 100 } });
  assert.ok(!g.isError);
  assert.ok(g.structuredContent.offers.every((o) => o.cloud === 'nebius' && o.memory_gb >= 100));
  const e = await c.callTool({ name: 'estimate_cost', arguments: { gpu: 'H200', count: 8, hours: 2, cloud: 'nebius', spot: false } });
  assert.ok(!e.isError);
  assert.equal(e.structuredContent.cheapest.cost.expected, 56);
});

test('resource vibeml://catalog/gpus', async () => {
  const c = await connect();
  const r = await c.readResource({ uri: 'vibeml://catalog/gpus' });
  const j = JSON.parse(r.contents[0].text);
  assert.ok(j.offers.length > 50);
  assert.ok(j.sources.nebius);
});

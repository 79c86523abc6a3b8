// The job dashboard (issue 15), run by test_dashboard.sh with three jobs already launched
// through the VM simulator: JOB_APP and JOB_WEB train for minutes, JOB_EMPTY fails before its
// first step.
//
// 1. MCP Apps: the official SDK client declares the extension (io.modelcontextprotocol/ui);
//    get_job_status is listed with _meta.ui.resourceUri and its result carries the loss history;
//    the linked ui:// resource is read and rendered in headless Chromium inside a host page (an
//    iframe with the spec's default CSP, no network) whose bridge answers ui/initialize, sends
//    tool-input and tool-result, and relays the view's tools/call to the server. A screenshot is
//    decoded and checked: the loss curve's colour draws a curve across the chart; the cost
//    figures are on the page. Stop asks for confirmation, then terminate_job goes through the
//    bridge and the job really stops. A client without the extension sees no link and no history.
//    The same check on the job with no steps finds the chart empty.
// 2. Browser: `vibeml serve --http` serves the view at /jobs/<id> (404 page for an unknown id);
//    the page speaks MCP to /mcp, draws the curve, and its Stop stops the job.
//
// Why a minimal host rather than @modelcontextprotocol/ext-apps' AppBridge: its 2.x releases
// need the SDK's 2.x packages as peers (these tests use SDK 1.x) and an ES module loader for a
// page (a bundler or an import map over node_modules). The host here follows the specification
// (version 2026-01-26): the view must answer it as it would any host.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chromium } from 'playwright-core';

const BIN = process.env.VIBEML_BIN;
const { JOB_APP, JOB_WEB, JOB_EMPTY, SHOT_DIR } = process.env;
const UI = 'io.modelcontextprotocol/ui';
const MIME = 'text/html;profile=mcp-app';
const CURVE = [0x25, 0x63, 0xeb]; // the view's train-loss colour (#2563eb)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let client, plain, browser, http;
const env = { ...process.env, VIBEML_POLL_INTERVAL: '0.3' };

before(async () => {
  client = new Client({ name: 'dashboard-host', version: '1.0.0' },
    { capabilities: { extensions: { [UI]: { mimeTypes: [MIME] } } } });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['serve'], env, stderr: 'inherit' }));
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close().catch(() => {});
  await client?.close().catch(() => {});
  await plain?.close().catch(() => {});
  http?.kill('SIGTERM');
});

async function status(c, id) {
  const r = await c.callTool({ name: 'get_job_status', arguments: { job_id: id } });
  assert.ok(!r.isError, JSON.stringify(r.content));
  return r;
}

async function waitFor(id, pred, what, seconds = 180) {
  const t0 = Date.now();
  for (;;) {
    const r = await status(client, id);
    if (pred(r.structuredContent)) return r;
    if (Date.now() - t0 > seconds * 1000) assert.fail(`job ${id}: ${what}; last ${JSON.stringify(r.structuredContent)}`);
    await sleep(300);
  }
}

// {=== PNG decoding (8-bit RGB/RGBA, not interlaced: what Chromium writes)
function decodePng(buf) {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG');
  let off = 8, width, height, ctype;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.subarray(off + 4, off + 8).toString('latin1');
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4); ctype = data[9];
      assert.equal(data[8], 8, 'bit depth 8'); assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = ctype === 6 ? 4 : ctype === 2 ? 3 : assert.fail(`colour type ${ctype}`);
  const raw = inflateSync(Buffer.concat(idat)), stride = width * bpp;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp] : 0, b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[y * stride + x] = v & 255;
    }
  }
  return { width, height, at: (x, y) => px.subarray(y * stride + x * bpp, y * stride + x * bpp + 3) };
}

// Is a curve drawn in box (page pixels) of the screenshot? Counts the pixels of the curve's
// colour and how far they spread: a curve crosses most of the chart's width and moves up/down.
function curveCheck(png, box) {
  const img = decodePng(png);
  const x0 = Math.max(0, Math.round(box.x)), y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(img.width, Math.round(box.x + box.width)), y1 = Math.min(img.height, Math.round(box.y + box.height));
  let n = 0; const cols = new Set(); let top = Infinity, bottom = -Infinity;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const p = img.at(x, y);
    if (Math.abs(p[0] - CURVE[0]) + Math.abs(p[1] - CURVE[1]) + Math.abs(p[2] - CURVE[2]) < 60) {
      n++; cols.add(x); top = Math.min(top, y); bottom = Math.max(bottom, y);
    }
  }
  const span = cols.size / Math.max(1, x1 - x0), rise = n ? bottom - top : 0;
  const ok = n >= 100 && span >= 0.3 && rise >= 8;
  return { ok, pixels: n, span: +span.toFixed(2), rise,
    why: ok ? 'a curve is drawn' : `chart empty or flat: ${n} curve pixels over ${Math.round(span * 100)} % of the width, ${rise} px tall` };
}
// }===

function money(text) { const m = /\$([0-9]+\.[0-9]+)/.exec(text || ''); return m ? Number(m[1]) : null; }

// A host page: the view in a sandboxed iframe (srcdoc: it inherits the page's CSP, the spec's
// default for a view that declares no domains); messages from the view go to hostHandle (Node),
// whose answers are posted back.
const HOST_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'self' about:; object-src 'none'";
const hostPage = `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${HOST_CSP}">
<style>body{margin:0} iframe{border:0;width:760px;height:640px}</style></head><body>
<iframe id="view" sandbox="allow-scripts"></iframe>
<script>
const frame = document.getElementById('view');
window.addEventListener('message', async (ev) => {
  if (ev.source !== frame.contentWindow) return;
  const out = await window.hostHandle(ev.data);
  for (const m of out) frame.contentWindow.postMessage(m, '*');
});
window.loadView = (html) => { frame.srcdoc = html; };
</script></body></html>`;

async function openInHost(html, toolResult, jobId, log) {
  const ctx = await browser.newContext({ viewport: { width: 780, height: 660 }, offline: true });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  const state = { initialized: false };
  await page.exposeFunction('hostHandle', async (m) => {
    log.push(m);
    if (m.method === 'ui/initialize') {
      assert.equal(typeof m.params.protocolVersion, 'string');
      return [{ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2026-01-26',
        hostInfo: { name: 'vibeml-test-host', version: '1' }, hostCapabilities: { serverTools: {} },
        hostContext: { theme: 'light', displayMode: 'inline', containerDimensions: { width: 760, maxHeight: 900 } } } }];
    }
    if (m.method === 'ui/notifications/initialized') {
      state.initialized = true;
      return [{ jsonrpc: '2.0', method: 'ui/notifications/tool-input', params: { arguments: { job_id: jobId } } },
              { jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: toolResult }];
    }
    if (m.method === 'tools/call') {
      assert.ok(state.initialized, 'no tools/call before ui/notifications/initialized');
      const r = await client.callTool({ name: m.params.name, arguments: m.params.arguments });
      return [{ jsonrpc: '2.0', id: m.id, result: r }];
    }
    if (m.id !== undefined && m.method) return [{ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'not supported' } }];
    return [];
  });
  await page.setContent(hostPage);
  await page.evaluate((h) => window.loadView(h), html);
  return { ctx, page, problems, view: page.frameLocator('#view') };
}

async function shot(page, view) {
  await view.locator('#chart').waitFor();
  const box = await view.locator('#chart').boundingBox();
  const png = await page.screenshot();
  return { png, check: curveCheck(png, box) };
}

test('MCP Apps: linked view, screenshot, Stop through the bridge', async () => {
  // the link, for a client that declares the extension
  const tools = (await client.listTools()).tools;
  const gjs = tools.find((t) => t.name === 'get_job_status');
  const uri = gjs._meta?.ui?.resourceUri;
  assert.match(uri || '', /^ui:\/\//, JSON.stringify(gjs));
  const res = await client.readResource({ uri });
  const content = res.contents[0];
  assert.equal(content.mimeType, MIME);
  assert.match(content.text, /^<!doctype html>/i);
  assert.deepEqual(content._meta?.ui?.csp, {}, 'declares no external origin');
  // self-contained: nothing loaded from elsewhere
  for (const bad of [/<script[^>]+src=/i, /<link\b/i, /@import/i, /url\(/i, /@font-face/i, /<img\b/i])
    assert.doesNotMatch(content.text, bad);

  // a client without the extension: no link, no history, the same text result
  plain = new Client({ name: 'plain', version: '1.0.0' }, { capabilities: {} });
  await plain.connect(new StdioClientTransport({ command: BIN, args: ['serve'], env, stderr: 'inherit' }));
  const ptools = (await plain.listTools()).tools;
  assert.equal(ptools.find((t) => t.name === 'get_job_status')._meta, undefined);

  const running = await waitFor(JOB_APP, (s) => s.state === 'running' && (s.progress?.step || 0) >= 40,
    'running with 20 logged steps');
  const st = running.structuredContent;
  assert.ok(st.history && st.history.step.length >= 10, JSON.stringify(st.history));
  assert.ok(st.history.step.length <= 200);
  const pr = await status(plain, JOB_APP);
  assert.equal(pr.structuredContent.history, undefined, 'no history without MCP Apps');
  assert.match(pr.content[0].text, /^Job \S+ is running/);

  // render it in a host, check the screenshot
  const log = [];
  const { ctx, page, problems, view } = await openInHost(content.text, running, JOB_APP, log);
  await view.locator('#chart[data-points]').waitFor();
  await page.waitForFunction(() => true);
  const { png, check } = await shot(page, view);
  writeFileSync(`${SHOT_DIR}/dashboard-mcp-app.png`, png);
  assert.ok(check.ok, `${check.why} (screenshot ${SHOT_DIR}/dashboard-mcp-app.png)`);
  assert.ok(Number(await view.locator('#chart').getAttribute('data-points')) >= 10);
  assert.ok(log.some((m) => m.method === 'ui/initialize'), 'ui/initialize handshake');
  assert.ok(log.some((m) => m.method === 'ui/notifications/initialized'));
  // the cost figures: spent, plan and cap
  const cost = await view.locator('#cost').textContent();
  const plan = await view.locator('#cost-plan').textContent();
  assert.ok(money(cost) > 0, `cost so far on the page: ${cost}`);
  assert.match(plan, /planned \$[0-9.]+/, plan);
  assert.match(plan, /cap \$0\.5/, plan);
  assert.match(await view.locator('#progress').textContent(), /^\d+ \/ 4000/);
  assert.match(await view.locator('#throughput').textContent(), /tokens\/s/);
  assert.equal(await view.locator('#recoveries').textContent(), '0');

  // Stop asks first; nothing is called until it is confirmed
  const calls = () => log.filter((m) => m.method === 'tools/call' && m.params.name === 'terminate_job');
  await view.locator('#stop').click();
  await view.locator('#confirm').waitFor({ state: 'visible' });
  assert.match(await view.locator('#confirm-text').textContent(), new RegExp(JOB_APP));
  await view.locator('#stop-no').click();
  assert.equal(calls().length, 0, 'cancel calls nothing');
  await view.locator('#stop').click();
  await view.locator('#stop-yes').click();
  for (let i = 0; i < 300 && calls().length === 0; i++) await sleep(100);
  assert.equal(calls().length, 1, 'terminate_job relayed through the bridge');
  assert.deepEqual(calls()[0].params.arguments, { job_id: JOB_APP });
  const ended = await waitFor(JOB_APP, (s) => s.state === 'terminated', 'terminated', 120);
  assert.equal(ended.structuredContent.stop_reason, 'user');
  await view.locator('#state', { hasText: 'terminated' }).waitFor({ timeout: 30000 });
  assert.deepEqual(problems, [], 'no CSP violation or script error');
  await ctx.close();

  // the same check on a job that never logged a step: the chart is found empty
  await waitFor(JOB_EMPTY, (s) => s.state === 'failed', 'failed before its first step', 120);
  const none = await status(client, JOB_EMPTY);
  assert.equal(none.structuredContent.history.step.length, 0);
  const h2 = await openInHost(content.text, none, JOB_EMPTY, []);
  await h2.view.locator('#chart[data-points="0"]').waitFor();
  const empty = await shot(h2.page, h2.view);
  assert.equal(empty.check.ok, false, 'the check finds no curve in an empty chart');
  assert.match(empty.check.why, /chart empty/);
  assert.equal(await h2.view.locator('#stop').isDisabled(), true, 'no Stop for an ended job');
  await h2.ctx.close();
});

test('browser: /jobs/<id> over serve --http', async () => {
  http = spawn(BIN, ['serve', '--http', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let err = '';
    http.stderr.on('data', (d) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    http.on('exit', (c) => reject(new Error(`serve --http exited ${c}: ${err}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (const bad of ['/jobs/j000000-nosuch', '/jobs/..%2F..%2Fetc', '/jobs/a.b', '/jobs/']) {
    const r = await fetch(base + bad);
    assert.equal(r.status, 404, bad);
    assert.match(await r.text(), /No such job/);
  }
  const ok = await fetch(`${base}/jobs/${JOB_WEB}`);
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type'), /^text\/html/);
  assert.match(ok.headers.get('content-security-policy'), /default-src 'none'/);
  const post = await fetch(`${base}/jobs/${JOB_WEB}`, { method: 'POST' });
  assert.equal(post.status, 405);
  const foreign = await fetch(`${base}/jobs/${JOB_WEB}`, { headers: { Origin: 'http://evil.example' } });
  assert.equal(foreign.status, 403, 'the Origin check covers the job page');

  await waitFor(JOB_WEB, (s) => s.state === 'running' && (s.progress?.step || 0) >= 20, 'running with steps');
  const ctx = await browser.newContext({ viewport: { width: 780, height: 700 } });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  await page.goto(`${base}/jobs/${JOB_WEB}`);
  await page.locator('#chart[data-points]').waitFor({ timeout: 30000 });
  await page.locator('#state', { hasText: 'running' }).waitFor();
  const box = await page.locator('#chart').boundingBox();
  const png = await page.screenshot();
  writeFileSync(`${SHOT_DIR}/dashboard-browser.png`, png);
  const check = curveCheck(png, box);
  assert.ok(check.ok, check.why);
  assert.ok(money(await page.locator('#cost').textContent()) > 0);
  await page.locator('#stop').click();
  await page.locator('#stop-yes').click();
  await waitFor(JOB_WEB, (s) => s.state === 'terminated', 'stopped from the browser page', 120);
  await page.locator('#state', { hasText: 'terminated' }).waitFor({ timeout: 30000 });
  assert.deepEqual(problems, []);
  await ctx.close();
});

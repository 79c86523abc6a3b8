// The job dashboard (issue 15), run by test_dashboard.sh with three jobs already launched
// through the VM simulator: JOB_APP and JOB_WEB train for minutes, JOB_EMPTY fails before its
// first step.
//
// 1. MCP Apps: the official SDK client declares the extension (io.modelcontextprotocol/ui);
//    get_job_status is listed with _meta.ui.resourceUri and its result carries the loss history;
//    the linked ui:// resource is read and rendered in headless Chromium inside a host page (an
//    iframe with the spec's default CSP, no network) run by the official AppBridge
//    (@modelcontextprotocol/ext-apps), which answers ui/initialize, sends tool-input and
//    tool-result, and relays the view's tools/call to the server. A screenshot is
//    decoded and checked: the loss curve's colour draws a curve across the chart; the cost
//    figures are on the page. Raise cap takes an amount (prefilled) and asks for confirmation,
//    then set_job_cap goes through the bridge and the job's cap changes. Stop asks for
//    confirmation, then terminate_job goes through the bridge and the job really stops. A client without the extension sees no link and no history.
//    The same check on the job with no steps finds the chart empty.
// 2. Browser: `vibeml serve --http` serves the view at /jobs/<id> (404 page for an unknown id);
//    the page speaks MCP to /mcp, draws the curve, and its Stop stops the job.
//
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { chromium } from 'playwright-core';
import { build } from 'esbuild';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

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

// The host page: the view in a sandboxed iframe (srcdoc, with the spec's default CSP for a view
// that declares no domains, in a browser context with no network), driven by the official host-side AppBridge of
// @modelcontextprotocol/ext-apps (bundled for the page with esbuild). The bridge has no MCP client
// of its own: its tools/call handler goes to Node (hostCallTool), which calls the server with the
// SDK client, so every call the view makes is seen here.
const VIEW_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'";
// the host's own page may evaluate code (the bundled schema library does); the view gets its
// policy injected as hosts do, on top of the page's (a srcdoc frame obeys both)
const HOST_CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; " +
  "frame-src about:; connect-src 'none'";
const withCsp = (html) => html.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${VIEW_CSP}">`);
const hostPage = `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${HOST_CSP}">
<style>body{margin:0} iframe{border:0;width:760px;height:640px}</style></head><body>
<iframe id="view" sandbox="allow-scripts"></iframe></body></html>`;
let bridgeJs;
async function bridgeBundle() {
  if (!bridgeJs) {
    const out = await build({ stdin: { contents: "export { AppBridge, PostMessageTransport } from " +
      "'@modelcontextprotocol/ext-apps/app-bridge';", resolveDir: HERE }, bundle: true, format: 'iife',
      globalName: 'McpAppsHost', platform: 'browser', write: false, logLevel: 'error' });
    bridgeJs = out.outputFiles[0].text;
  }
  return bridgeJs;
}

async function openInHost(html, toolResult, jobId, log) {
  const ctx = await browser.newContext({ viewport: { width: 780, height: 660 }, offline: true });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.exposeFunction('hostCallTool', async (params) => {
    log.push({ method: 'tools/call', params });
    return client.callTool({ name: params.name, arguments: params.arguments });
  });
  await page.exposeFunction('hostEvent', (name, data) => { log.push({ method: name, params: data }); });
  await page.setContent(hostPage);
  await page.addScriptTag({ content: await bridgeBundle() });
  await page.evaluate(async ({ html, toolResult, jobId }) => {
    const { AppBridge, PostMessageTransport } = window.McpAppsHost;
    const frame = document.getElementById('view');
    const bridge = new AppBridge(null, { name: 'vibeml-test-host', version: '1.0.0' },
      { serverTools: {}, logging: {} },
      { hostContext: { theme: 'light', displayMode: 'inline', containerDimensions: { width: 760, maxHeight: 900 } } });
    bridge.oncalltool = (params) => window.hostCallTool(params);
    bridge.onsizechange = (p) => window.hostEvent('ui/notifications/size-changed', p);
    bridge.oninitialized = async () => {
      window.hostEvent('ui/notifications/initialized', { app: bridge.getAppVersion() });
      await bridge.sendToolInput({ arguments: { job_id: jobId } });
      await bridge.sendToolResult(toolResult);
    };
    await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
    window.bridge = bridge;
    frame.srcdoc = html;
  }, { html: withCsp(html), toolResult, jobId });
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
  await view.locator('#chart[data-points]').waitFor({ timeout: 20000 }).catch(async (e) => {
    assert.fail(`the view drew nothing: ${e.message}; note: ${await view.locator('#note').textContent()}; ` +
      `page problems: ${JSON.stringify(problems)}; host log: ${JSON.stringify(log)}`);
  });
  await page.waitForFunction(() => true);
  const { png, check } = await shot(page, view);
  writeFileSync(`${SHOT_DIR}/dashboard-mcp-app.png`, png);
  assert.ok(check.ok, `${check.why} (screenshot ${SHOT_DIR}/dashboard-mcp-app.png)`);
  assert.ok(Number(await view.locator('#chart').getAttribute('data-points')) >= 10);
  const init = log.find((m) => m.method === 'ui/notifications/initialized');
  assert.ok(init, 'ui/initialize answered by the AppBridge, then initialized');
  assert.equal(init.params.app?.name, 'vibeml-job-dashboard', 'the view introduced itself in ui/initialize');
  // the cost figures: spent, plan and cap
  const cost = await view.locator('#cost').textContent();
  const plan = await view.locator('#cost-plan').textContent();
  assert.ok(money(cost) > 0, `cost so far on the page: ${cost}`);
  assert.match(plan, /planned \$[0-9.]+/, plan);
  assert.match(plan, /cap \$0\.5/, plan);
  assert.match(await view.locator('#progress').textContent(), /^\d+ \/ 100000/);
  assert.match(await view.locator('#throughput').textContent(), /tokens\/s/);
  assert.equal(await view.locator('#recoveries').textContent(), '0');

  // Raise cap: an amount (prefilled above the cap), a confirmation, then exactly one set_job_cap
  const capCalls = () => log.filter((m) => m.method === 'tools/call' && m.params.name === 'set_job_cap');
  await view.locator('#raise').click();
  await view.locator('#raise-form').waitFor({ state: 'visible' });
  const prefilled = Number(await view.locator('#raise-usd').inputValue());
  assert.ok(prefilled > 0.5, `prefilled above the cap: ${prefilled}`);
  await view.locator('#raise-usd').fill('0.75');
  await view.locator('#raise-go').click();
  await view.locator('#raise-confirm').waitFor({ state: 'visible' });
  const question = await view.locator('#raise-text').textContent();
  assert.match(question, new RegExp(`${JOB_APP}.*from \\$0\\.5000 to \\$0\\.7500`), question);
  await view.locator('#raise-back').click();
  assert.equal(capCalls().length, 0, 'cancel calls nothing');
  await view.locator('#raise').click();
  await view.locator('#raise-usd').fill('0.75');
  await view.locator('#raise-go').click();
  await view.locator('#raise-yes').click();
  for (let i = 0; i < 300 && capCalls().length === 0; i++) await sleep(100);
  await view.locator('#msg', { hasText: 'cap is now $0.75' }).waitFor({ timeout: 30000 });
  assert.equal(capCalls().length, 1, 'set_job_cap relayed through the bridge once');
  assert.deepEqual(capCalls()[0].params.arguments, { job_id: JOB_APP, max_cost: 0.75 });
  assert.equal((await status(client, JOB_APP)).structuredContent.cost.cap, 0.75, 'the job\'s cap changed');
  await view.locator('#cost-plan', { hasText: 'cap $0.7500' }).waitFor({ timeout: 30000 });

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

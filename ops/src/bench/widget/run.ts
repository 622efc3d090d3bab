/**
 * Widget benchmark (`npm run bench:widget`), in Debian's headless Chromium against the embedded default:
 *
 * - bundle size: what a page loads before the first message (widget.js + widget-app.js), gzipped;
 * - page load → interactive launcher: from navigation start to the launcher rendered with its handlers
 *   (the `beedesk:ready` event), beside the same page without the widget (its `load` event) as baseline,
 *   with the main thread's task time (CDP Performance.getMetrics) of both;
 * - first token → first painted character: from the first TOKEN message arriving on the page's
 *   WebSocket to the first frame showing its text, in the widget (Preact, shadow DOM) and in a bare page
 *   that writes the same message into a <div> (baseline: what the browser itself costs).
 *
 *   node ops/dist/bench/widget/run.js [--runs 10] [--base-port 16260]
 * Ports: base (gateway), base+1..+5 (subgraphs), base+6 (the bench's host pages); E2E_PORT_OFFSET is added.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { mintToken, staticFiles } from '@beedesk/gateway';
import { createLogger } from '@beedesk/runtime';
import { schemaRoot } from '@beedesk/schema';
import { startEmbedded } from '../../embedded/start';
import { launchChromium } from '../../web/chromium';
import { widgetBundleDir } from '../../web/widget-bundle';
import { fmt as formatNumber, percentile } from '../burst/stats';
import { argValue } from '../gateway/proc';

const QUESTION = 'I still have not received my new card';

// The benches' shared nearest-rank percentile and number format (bench/burst/stats.ts).
const median = (values: readonly number[]) => percentile(values, 50);
const p90 = (values: readonly number[]) => percentile(values, 90);
const fmt = (n: number) => formatNumber(n, 1);

/** Records the first TOKEN's arrival on any WebSocket of the page, and when its text is first painted. */
const TIMING_SCRIPT = `
window.__t = {};
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (event) => {
      if (window.__t.tokenAt === undefined && typeof event.data === 'string' && event.data.includes('"kind":"TOKEN"')) {
        window.__t.tokenAt = performance.now();
      }
    });
  }
};
document.addEventListener('beedesk:ready', () => {
  window.__t.readyAt = performance.now();
  const root = document.querySelector('beedesk-widget').shadowRoot;
  const observer = new MutationObserver(() => {
    const text = root.querySelector('.msg.assistant[data-answer-id] .text');
    if (text && text.textContent && window.__t.domAt === undefined) {
      window.__t.domAt = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => (window.__t.paintAt = performance.now())));
      observer.disconnect();
    }
  });
  observer.observe(root, { subtree: true, childList: true, characterData: true });
});`;

function pages(gatewayOrigin: string, widgetKey: string): Record<string, string> {
  const head =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title></head><body><main><h1>A shop</h1><p>Text.</p></main>';
  return {
    '/bare.html': `${head}</body></html>`,
    '/widget.html': `${head}<script src="/widget/widget.js" data-widget-key="${widgetKey}" data-gateway="${gatewayOrigin}" async></script></body></html>`,
    // Baseline for first token → paint: the same exchange, session and subscription by hand, text into a <div>.
    '/raw.html': `${head}<div id="out"></div><script>
const ids = ${readFileSync(join(schemaRoot, 'persisted-operations.json'), 'utf8')}.operations
  .reduce((m, o) => ((m[o.name] = o.id), m), {});
window.run = async (question) => {
  const { token } = await (await fetch('${gatewayOrigin}/widget/session', { method: 'POST', body: JSON.stringify({ key: '${widgetKey}' }) })).json();
  const call = async (name, variables) => (await (await fetch('${gatewayOrigin}/widget/graphql', { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify({ documentId: ids[name], variables }) })).json()).data;
  const session = (await call('WidgetStartSession', {})).startSession.id;
  const ws = new WebSocket('${gatewayOrigin.replace(/^http/, 'ws')}/graphql', 'graphql-transport-ws');
  const out = document.getElementById('out');
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } }));
  await new Promise((resolve) => (ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '', documentId: ids.WidgetAnswerStream, variables: { sessionId: session } } }));
      setTimeout(resolve, 1000);
    }
    if (m.type === 'next' && m.payload.data.answerStream.kind === 'TOKEN') {
      out.textContent += m.payload.data.answerStream.delta;
      if (window.__t.domAt === undefined) {
        window.__t.domAt = performance.now();
        requestAnimationFrame(() => requestAnimationFrame(() => (window.__t.paintAt = performance.now())));
      }
    }
  }));
  await call('WidgetAsk', { sessionId: session, text: question });
};
</script></body></html>`,
  };
}

async function hostSite(port: number, html: Record<string, string>): Promise<Server> {
  const files = staticFiles('/widget', widgetBundleDir());
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    if (files(req, res, url)) return;
    const page = html[url.pathname];
    if (page === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/** Main-thread task time of the page since `start` (CDP Performance metrics, enabled before navigation). */
async function cpuMeter(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN) * 1000;
  };
}

async function loadRun(browser: Browser, url: string, widget: boolean): Promise<{ ms: number; taskMs: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(TIMING_SCRIPT);
  const taskMs = await cpuMeter(page);
  await page.goto(url, { waitUntil: 'load' });
  if (widget) await page.waitForFunction(() => (window as unknown as { __t: { readyAt?: number } }).__t.readyAt !== undefined);
  const ms = await page.evaluate(
    (w) =>
      w
        ? (window as unknown as { __t: { readyAt: number } }).__t.readyAt
        : performance.getEntriesByType('navigation')[0]!.toJSON().loadEventEnd,
    widget,
  );
  const task = await taskMs();
  await context.close();
  return { ms, taskMs: task };
}

async function tokenRun(browser: Browser, url: string, widget: boolean): Promise<{ toDom: number; toPaint: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(TIMING_SCRIPT);
  await page.goto(url);
  if (widget) {
    await page.waitForFunction(() => Boolean((window as unknown as { BeedeskWidget?: unknown }).BeedeskWidget));
    await page.evaluate(() => (window as unknown as { BeedeskWidget: { open(): void } }).BeedeskWidget.open());
    await page.waitForFunction(() => document.querySelector('beedesk-widget')!.shadowRoot!.querySelector('textarea') !== null);
    // Let the visitor session and the answer stream come up before asking.
    await page.waitForFunction(
      () =>
        (window as unknown as { BeedeskWidget: { controller: { state: { connection: string } } } }).BeedeskWidget.controller.state
          .connection === 'connected',
    );
    await page.waitForTimeout(1000);
    await page.evaluate(
      (q) => (window as unknown as { BeedeskWidget: { ask(q: string): Promise<boolean> } }).BeedeskWidget.ask(q),
      QUESTION,
    );
  } else {
    await page.evaluate((q) => (window as unknown as { run(q: string): Promise<void> }).run(q), QUESTION);
  }
  await page.waitForFunction(() => (window as unknown as { __t: { paintAt?: number } }).__t.paintAt !== undefined, undefined, {
    timeout: 20_000,
  });
  const t = await page.evaluate(() => (window as unknown as { __t: { tokenAt: number; domAt: number; paintAt: number } }).__t);
  await context.close();
  return { toDom: t.domAt - t.tokenAt, toPaint: t.paintAt - t.tokenAt };
}

async function main(): Promise<void> {
  const runs = Number(argValue(process.argv, '--runs') ?? 10);
  const base = Number(argValue(process.argv, '--base-port') ?? 16260) + Number(process.env.E2E_PORT_OFFSET ?? 0);
  const sizes = JSON.parse(readFileSync(join(widgetBundleDir(), 'size.json'), 'utf8')) as {
    files: { name: string; raw: number; gzip: number }[];
    totalGzip: number;
    budget: number;
  };
  const logger = createLogger('bench-widget', 'error');
  const embedded = await startEmbedded({
    logger,
    ports: { gateway: base, tenant: base + 1, session: base + 2, answer: base + 3, inference: base + 4, handoff: base + 5 },
  });
  const gatewayOrigin = new URL(embedded.gatewayUrl).origin;
  const siteOrigin = `http://127.0.0.1:${base + 6}`;
  // Let the bench's own origin use demo-bank's widget.
  const admin = await mintToken({ tenant: 'demo-bank', user: 'bench', roles: ['admin'] });
  const settings = (await (
    await fetch(embedded.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: `mutation { updateWidgetSettings(input: { allowedOrigins: ["${siteOrigin}"] }) { key } }` }),
    })
  ).json()) as { data: { updateWidgetSettings: { key: string } } };
  const site = await hostSite(base + 6, pages(gatewayOrigin, settings.data.updateWidgetSettings.key));
  const browser = await launchChromium();
  try {
    console.log('\nwidget bundle (loaded before the first message)');
    for (const file of sizes.files)
      console.log(`  ${file.name.padEnd(14)} ${String(file.raw).padStart(7)} B raw  ${String(file.gzip).padStart(6)} B gzipped`);
    console.log(
      `  total          ${String(sizes.totalGzip).padStart(22)} B gzipped (budget ${sizes.budget} B, ${((100 * sizes.totalGzip) / sizes.budget).toFixed(0)} %)`,
    );
    const gz = gzipSync(readFileSync(join(widgetBundleDir(), 'widget-app.js')), { level: 9 }).length;
    if (Math.abs(gz - sizes.files.find((f) => f.name === 'widget-app.js')!.gzip) > 0)
      console.log('  (size.json is stale: run npm run build)');

    // One untimed run of each warms the browser and the services.
    await loadRun(browser, `${siteOrigin}/widget.html`, true);
    await tokenRun(browser, `${siteOrigin}/raw.html`, false);
    const load = { bare: [] as number[], widget: [] as number[], bareTask: [] as number[], widgetTask: [] as number[] };
    const token = { widgetDom: [] as number[], widgetPaint: [] as number[], rawDom: [] as number[], rawPaint: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const bare = await loadRun(browser, `${siteOrigin}/bare.html`, false);
      const withWidget = await loadRun(browser, `${siteOrigin}/widget.html`, true);
      load.bare.push(bare.ms);
      load.bareTask.push(bare.taskMs);
      load.widget.push(withWidget.ms);
      load.widgetTask.push(withWidget.taskMs);
      const raw = await tokenRun(browser, `${siteOrigin}/raw.html`, false);
      const viaWidget = await tokenRun(browser, `${siteOrigin}/widget.html`, true);
      token.rawDom.push(raw.toDom);
      token.rawPaint.push(raw.toPaint);
      token.widgetDom.push(viaWidget.toDom);
      token.widgetPaint.push(viaWidget.toPaint);
    }
    console.log(`\npage load → interactive launcher (${runs} runs, fresh browser context each; ms since navigation start)`);
    console.log(
      `  bare page, load event          median ${fmt(median(load.bare))}  p90 ${fmt(p90(load.bare))}  main-thread tasks ${fmt(median(load.bareTask))} ms`,
    );
    console.log(
      `  with widget, launcher ready    median ${fmt(median(load.widget))}  p90 ${fmt(p90(load.widget))}  main-thread tasks ${fmt(median(load.widgetTask))} ms`,
    );
    console.log(
      `  widget's cost: +${fmt(median(load.widget) - median(load.bare))} ms to an interactive launcher, +${fmt(median(load.widgetTask) - median(load.bareTask))} ms of main-thread CPU`,
    );
    console.log(
      `\nfirst token → first painted character (${runs} runs; the TOKEN message's arrival on the WebSocket to the frame showing it)`,
    );
    console.log(
      `  bare page (textContent)   to DOM median ${fmt(median(token.rawDom))} ms   to paint median ${fmt(median(token.rawPaint))} p90 ${fmt(p90(token.rawPaint))} ms`,
    );
    console.log(
      `  widget (Preact, shadow)   to DOM median ${fmt(median(token.widgetDom))} ms   to paint median ${fmt(median(token.widgetPaint))} p90 ${fmt(p90(token.widgetPaint))} ms`,
    );
    console.log(`  widget / bare, to paint: ${(median(token.widgetPaint) / median(token.rawPaint)).toFixed(2)}×\n`);
  } finally {
    await browser.close();
    await new Promise((resolve) => site.close(resolve));
    await embedded.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRoute } from '@beedesk/gateway';

/** One demo host page: a made-up organisation's site with the widget's one script tag. */
export interface DemoPage {
  /** `/demo/<slug>` */
  slug: string;
  lang: 'en' | 'zh-CN';
  widgetKey: string;
  /** Where widget.js is served, e.g. `/widget/widget.js`. */
  scriptSrc: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COPY = {
  en: {
    title: 'Northwind Bank — Help centre',
    brand: 'Northwind Bank',
    heading: 'How can we help?',
    body: 'Cards, transfers, top-ups and your account: ask our assistant with the chat button in the corner. It answers from our help articles, and a person can take over when it is not sure.',
    try: 'Try: “I still have not received my new card” or “How do I reset my PIN?”',
  },
  'zh-CN': {
    title: '优选商城 — 帮助中心',
    brand: '优选商城',
    heading: '有什么可以帮您？',
    body: '订单、配送、退换货和发票：点击右下角的聊天按钮咨询智能助手。它根据我们的帮助文章回答，不确定时可以转人工。',
    try: '试试：“我的快递什么时候到？”或“怎么申请退货？”',
  },
};

/**
 * The page: no inline script or style at all, so it is served with a strict Content-Security-Policy
 * (script-src 'self', style-src 'self', connect-src 'self' and the gateway's WebSocket) and the widget
 * still works: that is the point of the demo.
 */
export function demoPageHtml(page: DemoPage): string {
  const copy = COPY[page.lang];
  return `<!doctype html>
<html lang="${page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(copy.title)}</title>
<link rel="stylesheet" href="/demo/demo.css">
</head>
<body>
<header><strong>${escapeHtml(copy.brand)}</strong></header>
<main>
<h1>${escapeHtml(copy.heading)}</h1>
<p>${escapeHtml(copy.body)}</p>
<p class="try">${escapeHtml(copy.try)}</p>
</main>
<script src="${escapeHtml(page.scriptSrc)}" data-widget-key="${escapeHtml(page.widgetKey)}" async></script>
</body>
</html>
`;
}

const DEMO_CSS = `body{margin:0;font:16px/1.5 Georgia,serif;color:#222;background:#faf7f2}
header{padding:16px 24px;background:#0b3d2e;color:#fff;font:700 20px system-ui,sans-serif}
main{max-width:720px;margin:40px auto;padding:0 24px}h1{font-size:32px}.try{color:#555;font-style:italic}`;

/** What the demo pages' host allows: its own scripts, styles and connections only (WebSockets to itself too). */
export const demoPageCsp = (gatewayOrigin: string): string =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${gatewayOrigin.replace(/^http/, 'ws')}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/** `/demo/<slug>` for each page and `/demo/demo.css`, with the strict CSP. */
export function demoPages(pages: readonly DemoPage[], gatewayOrigin: string): HttpRoute {
  const bySlug = new Map(pages.map((page) => [`/demo/${page.slug}`, demoPageHtml(page)]));
  const csp = demoPageCsp(gatewayOrigin);
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname.replace(/\/+$/, '');
    const send = (type: string, body: string) => {
      res.writeHead(200, {
        'content-type': type,
        'content-length': String(Buffer.byteLength(body)),
        'content-security-policy': csp,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/demo/demo.css') {
      send('text/css; charset=utf-8', DEMO_CSS);
      return true;
    }
    const html = bySlug.get(path);
    if (html === undefined) return false;
    send('text/html; charset=utf-8', html);
    return true;
  };
}

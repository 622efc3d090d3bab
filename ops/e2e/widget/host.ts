import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { widgetBundleDir } from '../../src/web/widget-bundle';
import { staticFiles } from '@beedesk/gateway';

/** How a host page embeds the widget in the browser tests. */
export interface HostPage {
  widgetKey: string;
  /** The gateway the widget talks to (here: the cuttable proxy in front of the real gateway). */
  gateway: string;
  lang?: string;
  /** `csp`: a strict nonce-based Content-Security-Policy; `hostile`: styles that break naive widgets. */
  variant?: 'plain' | 'csp' | 'hostile';
  transport?: 'auto' | 'ws' | 'sse';
}

export const CSP_NONCE = 'r4nd0m-n0nce-e2e';

/** Styles a careless (or hostile) site ships: they must not reach the widget, nor the widget them. */
export const HOSTILE_CSS = `
html { font-size: 40px; text-transform: uppercase; }
* { box-sizing: content-box !important; font-family: "Comic Sans MS", cursive !important; line-height: 3 !important;
    letter-spacing: 3px !important; color: #ff00ff !important; }
div, button, textarea, form, span, a, p, h2 { display: block !important; padding: 40px !important; margin: 20px !important;
    border: 5px dotted red !important; background: yellow !important; font-size: 30px !important; width: 50px !important;
    position: static !important; visibility: visible !important; }
button { transform: rotate(12deg) !important; }
:focus { outline: none !important; }
.launcher, .panel, .msg { display: none !important; }
`;

export function hostPageHtml(page: HostPage): string {
  const lang = page.lang ?? 'en';
  const nonce = page.variant === 'csp' ? ` nonce="${CSP_NONCE}"` : '';
  const attrs = [
    `src="/widget/widget.js"`,
    `data-widget-key="${page.widgetKey}"`,
    `data-gateway="${page.gateway}"`,
    ...(page.transport ? [`data-transport="${page.transport}"`] : []),
  ].join(' ');
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host page</title>
${page.variant === 'hostile' ? '<link rel="stylesheet" href="/hostile.css">' : ''}
</head>
<body>
<main><h1>${lang.startsWith('zh') ? '欢迎光临' : 'Welcome to our shop'}</h1><p>${lang.startsWith('zh') ? '有问题请点右下角。' : 'Questions? Use the chat in the corner.'}</p><div class="panel">host's own .panel</div></main>
${page.variant === 'csp' ? '<script>window.__inlineRan = true;</script>' : ''}
<script ${attrs}${nonce} async></script>
</body>
</html>`;
}

/** The host site: the widget's built files under /widget and the pages above, on its own origin. */
export async function startHostSite(port: number): Promise<{ origin: string; close(): Promise<void> }> {
  const widgetFiles = staticFiles('/widget', widgetBundleDir());
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (widgetFiles(req, res, url)) return;
    if (url.pathname === '/hostile.css') {
      res.writeHead(200, { 'content-type': 'text/css' }).end(HOSTILE_CSS);
      return;
    }
    if (url.pathname === '/page') {
      const page: HostPage = {
        widgetKey: url.searchParams.get('key') ?? '',
        gateway: url.searchParams.get('gateway') ?? '',
        lang: url.searchParams.get('lang') ?? undefined,
        variant: (url.searchParams.get('variant') as HostPage['variant']) ?? 'plain',
        transport: (url.searchParams.get('transport') as HostPage['transport']) ?? undefined,
      };
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
      if (page.variant === 'csp') {
        const ws = page.gateway.replace(/^http/, 'ws');
        headers['content-security-policy'] =
          `default-src 'none'; script-src 'nonce-${CSP_NONCE}' 'strict-dynamic'; style-src 'self'; connect-src ${page.gateway} ${ws}; img-src 'self'; base-uri 'none'`;
      }
      res.writeHead(200, headers).end(hostPageHtml(page));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP proxy in front of the gateway that the tests can cut (every open connection dropped, and new
 * ones refused for a while: a network outage) and that can refuse WebSocket upgrades (a proxy or
 * firewall that blocks WebSockets, so the widget must fall back to SSE).
 */
export class CuttableProxy {
  private server: TcpServer | null = null;
  private readonly sockets = new Set<Socket>();
  private downUntil = 0;
  blockWebSockets = false;
  cuts = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(port: number): Promise<string> {
    this.server = createTcpServer((client) => {
      if (Date.now() < this.downUntil) return void client.destroy();
      this.sockets.add(client);
      client.once('close', () => this.sockets.delete(client));
      client.once('data', (first) => {
        if (this.blockWebSockets && /^upgrade:\s*websocket/im.test(first.toString('latin1'))) return void client.destroy();
        const upstream = connect(this.target.port, this.target.host);
        this.sockets.add(upstream);
        upstream.once('close', () => {
          this.sockets.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}`;
  }

  /** Drops every open connection and refuses new ones for `outageMs`. */
  cut(outageMs: number): void {
    this.cuts++;
    this.downUntil = Date.now() + outageMs;
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

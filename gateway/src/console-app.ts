import type { ServerResponse } from 'node:http';
import { CONSOLE_PATH, CONSOLE_WEB_DIR, type ConsoleConfig } from '@beedesk/console';
import { z } from 'zod';
import type { HttpRoute } from './server';
import { staticFiles } from './static-files';

/**
 * The staff console under /console: the built app (index.html for its client-side routes, with its
 * Content-Security-Policy) and `/console/config.json`, what its sign-in page offers. The embedded default
 * adds its development sign-in beside these (ops/src/web/console.ts); a real-mode gateway serves them when
 * GATEWAY_CONSOLE_CONFIG is set.
 */
export function consoleAppRoutes(config: ConsoleConfig): HttpRoute[] {
  // The app talks to its own origin's /graphql (and WebSocket), a configured gateway, and in OIDC mode the provider.
  const origins = [config.graphqlUrl, config.signIn === 'oidc' ? config.issuer : undefined]
    .filter((url): url is string => Boolean(url))
    .map((url) => new URL(url))
    .flatMap((url) => [url.origin, `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`]);
  const files = staticFiles(CONSOLE_PATH, CONSOLE_WEB_DIR, {
    index: 'index.html',
    headers: {
      'content-security-policy': `default-src 'self'; connect-src 'self' ${['ws:', 'wss:', ...origins].join(' ')}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
      'referrer-policy': 'no-referrer',
    },
  });
  const configRoute: HttpRoute = (req, res, url) => {
    if (url.pathname !== `${CONSOLE_PATH}/config.json` || req.method !== 'GET') return false;
    json(res, 200, config);
    return true;
  };
  return [configRoute, files];
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * GATEWAY_CONSOLE_CONFIG: the console's OIDC sign-in (see clients/console), as JSON. Only `oidc`: the
 * development sign-in mints tokens and belongs to the embedded default alone.
 */
export const consoleConfigSchema = z.strictObject({
  signIn: z.literal('oidc'),
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1),
  scope: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  graphqlUrl: z.url({ protocol: /^https?$/ }).optional(),
  claims: z
    .strictObject({
      tenant: z.string().min(1).optional(),
      roles: z.string().min(1).optional(),
      roleMap: z.record(z.string(), z.enum(['customer', 'agent', 'admin'])).optional(),
    })
    .optional(),
});

/** The parsed setting, or an error message naming what is wrong. */
export function parseConsoleConfig(text: string): { ok: true; config: ConsoleConfig } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: 'GATEWAY_CONSOLE_CONFIG is not JSON' };
  }
  const parsed = consoleConfigSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: `GATEWAY_CONSOLE_CONFIG: ${z.prettifyError(parsed.error)}` };
  return { ok: true, config: parsed.data };
}

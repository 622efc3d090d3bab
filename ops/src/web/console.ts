import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONSOLE_PATH, type ConsoleConfig } from '@beedesk/console';
import { consoleAppRoutes, mintToken, type HttpRoute } from '@beedesk/gateway';

/** The roles the development sign-in hands out: the console is for staff. */
const DEV_ROLES = new Set(['agent', 'admin']);
/** A development token lives as long as a working day. */
const DEV_TOKEN_TTL_SECONDS = 12 * 3600;
const MAX_BODY = 4096;

export interface ConsoleRoutesOptions {
  /** What the app's sign-in page offers (served as /console/config.json). */
  config: ConsoleConfig;
  /** Development sign-in only: the HS256 secret the gateway verifies tokens with. */
  jwtSecret?: string;
}

/**
 * The staff console under /console: the built app and its configuration (the gateway's consoleAppRoutes,
 * which a real-mode gateway serves too), and in development the sign-in that mints a dev token for a demo tenant and a staff role
 * (never a customer, never another tenant than the configured demo ones).
 */
export function consoleRoutes(options: ConsoleRoutesOptions): HttpRoute[] {
  const devToken: HttpRoute = (req, res, url) => {
    if (url.pathname !== `${CONSOLE_PATH}/dev-token` || options.config.signIn !== 'development') return false;
    if (req.method !== 'POST') {
      json(res, 405, { error: 'POST a JSON body {tenant, role, user}' });
      return true;
    }
    void issueDevToken(req, res, options.config.tenants, options.jwtSecret);
    return true;
  };
  return [devToken, ...consoleAppRoutes(options.config)];
}

async function issueDevToken(req: IncomingMessage, res: ServerResponse, tenants: string[], secret: string | undefined): Promise<void> {
  let body: { tenant?: unknown; role?: unknown; user?: unknown };
  try {
    body = JSON.parse(await readBody(req)) as typeof body;
  } catch {
    return json(res, 400, { error: 'the body must be JSON of at most 4 KiB' });
  }
  const { tenant, role, user } = body;
  if (typeof tenant !== 'string' || !tenants.includes(tenant)) return json(res, 400, { error: `tenant: one of ${tenants.join(', ')}` });
  if (typeof role !== 'string' || !DEV_ROLES.has(role)) return json(res, 400, { error: 'role: agent or admin' });
  if (typeof user !== 'string' || !/^[\w.@-]{1,64}$/.test(user)) return json(res, 400, { error: 'user: 1 to 64 letters, digits, . _ - @' });
  const token = await mintToken({ tenant, user, roles: [role as 'agent' | 'admin'], ttlSeconds: DEV_TOKEN_TTL_SECONDS, secret });
  json(res, 200, { token });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

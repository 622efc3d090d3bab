import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '@beedesk/runtime';

/** Which browser origins may call the API: any (`*`) or the listed ones; null: no CORS headers at all. */
export type CorsPolicy = { anyOrigin: true } | { anyOrigin: false; origins: ReadonlySet<string> } | null;

const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-request-id';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Headers a browser script may read: Retry-After on 429, and the request id for support. */
const EXPOSED_HEADERS = 'retry-after, x-request-id';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS_ORIGINS: `*`, or a comma list of origins (`https://app.example.com,https://admin.example.com`).
 * Unset: `*` with NODE_ENV=development (the embedded `npm start`), none otherwise. Empty: none.
 */
export function corsPolicyOf(setting: string | undefined, nodeEnv: string): CorsPolicy {
  const value = setting ?? (nodeEnv === 'development' ? '*' : '');
  const entries = value
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (entries.length === 0) return null;
  if (entries.includes('*')) return { anyOrigin: true };
  for (const origin of entries) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port])`);
    }
    if (parsed.origin !== origin) throw new Error(`CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path)`);
  }
  return { anyOrigin: false, origins: new Set(entries) };
}

/** CORS_ORIGINS of the gateway's environment; a malformed origin stops the gateway at start. */
export function corsFromEnv(env: { CORS_ORIGINS?: string; NODE_ENV: string }): CorsPolicy {
  try {
    return corsPolicyOf(env.CORS_ORIGINS, env.NODE_ENV);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
}

const isAllowed = (policy: NonNullable<CorsPolicy>, origin: string): boolean => policy.anyOrigin || policy.origins.has(origin);

/**
 * Adds the CORS headers for `req` to `res`, and answers a preflight (OPTIONS with
 * Access-Control-Request-Method) itself. Returns true when the request has been answered.
 * A refused origin gets no CORS headers (its browser then blocks the response); its preflight 403.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (policy && origin) {
    // The answer depends on Origin whenever it is not `*`; saying so always keeps caches right.
    res.setHeader('vary', preflight ? 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' : 'Origin');
    if (isAllowed(policy, origin)) {
      res.setHeader('access-control-allow-origin', policy.anyOrigin ? '*' : origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      if (preflight) {
        res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
        res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
        res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
        res.writeHead(204).end();
        return true;
      }
      return false;
    }
  }
  if (preflight) {
    res.writeHead(403, { 'content-length': '0' }).end();
    return true;
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { allow: ALLOWED_METHODS }).end();
    return true;
  }
  return false;
}

/**
 * CORS of the widget endpoint (/widget/graphql), whose callers are web-widget visitors on their tenants'
 * own sites: any origin's preflight is answered, and every answer lets the calling origin read it. That
 * is safe because the endpoint admits visitor tokens only (useVisitorTokens) and only from the origin the
 * token was issued to, which the widget-key exchange checked against the tenant's allowed origins; no
 * cookie or other ambient credential is ever used.
 */
export function handleWidgetCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (origin) {
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  }
  if (preflight) {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', 'authorization, content-type, accept, x-request-id');
    res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
    res.writeHead(204).end();
    return true;
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { allow: ALLOWED_METHODS }).end();
    return true;
  }
  return false;
}

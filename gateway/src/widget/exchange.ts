import type { IncomingMessage, ServerResponse } from 'node:http';
import { newId, type Logger, type Redis } from '@beedesk/runtime';
import { parseWidgetKey, WidgetSettingsRepository, type WidgetSettingsRecord } from '@beedesk/tenant/data';
import { jwtVerify } from 'jose';
import { errorBody, HttpError, readBody, sendErrors, sendJson } from '../http-io';
import type { Refusal } from '../pipeline';
import type { VisitorTokens } from './visitor-tokens';

/** Longest an identity token signed by the host's backend may live (exp − now), in seconds. */
export const IDENTITY_TOKEN_MAX_SECONDS = 24 * 60 * 60;
const VISITOR_ID = /^[A-Za-z0-9_-]{22,64}$/;
const MAX_BODY_BYTES = 8 * 1024;
const MAX_USER_ID = 200;

export interface WidgetExchangeOptions {
  redis: Redis;
  keyPrefix: string;
  tokens: VisitorTokens;
  /** Per widget key and per client IP (the gateway's limits). */
  takeExchange: (tenantId: string, ip: string, requestId: string) => Promise<Refusal | null>;
  logger: Logger;
}

/** What the widget learns on a successful exchange. */
export interface WidgetSessionAnswer {
  token: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** The random id the browser keeps for an anonymous visitor (null for identity-verified ones). */
  visitorId: string | null;
  verified: boolean;
  settings: Pick<WidgetSettingsRecord, 'themeColor' | 'greeting' | 'position'>;
}

const corsHeaders = (origin: string): Record<string, string> => ({
  'access-control-allow-origin': origin,
  vary: 'Origin',
  'access-control-expose-headers': 'retry-after, x-request-id',
});

/** The identity token's user, when the tenant's identity secret signed it (HS256, `exp` at most a day ahead). */
async function verifiedUser(token: string, secret: string | null): Promise<string | null> {
  if (!secret) return null;
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
    const sub = payload.sub;
    if (typeof sub !== 'string' || !sub || sub.length > MAX_USER_ID) return null;
    if ((payload.exp ?? 0) - Date.now() / 1000 > IDENTITY_TOKEN_MAX_SECONDS) return null;
    return sub;
  } catch {
    return null;
  }
}

/**
 * `POST /widget/session` {key, visitorId?, identityToken?}: exchanges a tenant's public widget key for a
 * short-lived visitor token (role customer), only for a page whose `Origin` is one of the key's allowed
 * origins, rate limited per key and per client IP. Anonymous visitors keep a random id in their browser
 * (sent back as visitorId); with an identity token signed by the host's backend the visitor is that user,
 * on any device. Refusals: ORIGIN_NOT_ALLOWED 403, UNAUTHENTICATED 401 (key or identity token),
 * RATE_LIMITED 429, BAD_REQUEST 400. The body may be sent as text/plain, so no preflight is needed.
 */
export function createWidgetExchange(options: WidgetExchangeOptions) {
  const settings = new WidgetSettingsRepository(options.redis, options.keyPrefix);

  async function exchange(req: IncomingMessage, res: ServerResponse, origin: string, requestId: string): Promise<void> {
    const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      sendErrors(res, status, [errorBody(code, message)], { 'x-request-id': requestId, 'cache-control': 'no-store', ...headers });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof HttpError) return refuse(error.status, error.code, error.message, error.headers);
      return refuse(400, 'BAD_REQUEST', 'The body must be JSON: {"key": "<widget key>"}.');
    }
    const { key, visitorId, identityToken } = (body ?? {}) as Record<string, unknown>;
    const parsed = typeof key === 'string' ? parseWidgetKey(key) : null;
    if (!parsed || typeof key !== 'string') return refuse(401, 'UNAUTHENTICATED', 'The widget key is not valid.');
    const ip = req.socket.remoteAddress ?? 'unknown';
    const limited = await options.takeExchange(parsed.tenantId, ip, requestId);
    if (limited) {
      return sendErrors(res, limited.status, limited.errors, { ...limited.headers, 'x-request-id': requestId, ...corsHeaders(origin) });
    }
    const found = await settings.byKey(key);
    const log = options.logger.child({ tenant: parsed.tenantId, traceId: requestId });
    if (!found) {
      log.info('widget key refused: unknown or rotated');
      return refuse(401, 'UNAUTHENTICATED', 'The widget key is not valid (unknown or replaced).');
    }
    if (!found.settings.allowedOrigins.includes(origin)) {
      // No CORS header either: the page cannot even read why.
      log.info({ origin: origin.slice(0, 200) }, 'widget key refused: origin not allowed');
      return refuse(403, 'ORIGIN_NOT_ALLOWED', 'This widget key may not be used from this origin.');
    }
    let userId: string;
    let keptVisitorId: string | null = null;
    if (identityToken !== undefined && identityToken !== null) {
      const user = typeof identityToken === 'string' ? await verifiedUser(identityToken, found.settings.identitySecret) : null;
      if (!user) return refuse(401, 'UNAUTHENTICATED', 'The identity token is not valid.', corsHeaders(origin));
      userId = `widget-user:${user}`;
    } else {
      keptVisitorId = typeof visitorId === 'string' && VISITOR_ID.test(visitorId) ? visitorId : newId().replace(/-/g, '');
      userId = options.tokens.anonymousUserId(found.tenantId, keptVisitorId);
    }
    const { token, expiresAt } = await options.tokens.issue({ tenantId: found.tenantId, userId, origin });
    const { themeColor, greeting, position } = found.settings;
    const answer: WidgetSessionAnswer = {
      token,
      expiresAt,
      visitorId: keptVisitorId,
      verified: keptVisitorId === null,
      settings: { themeColor, greeting, position },
    };
    sendJson(res, 200, answer, { 'x-request-id': requestId, 'cache-control': 'no-store', ...corsHeaders(origin) });
  }

  /** Serves `/widget/session` (POST, and its preflight from any origin: the POST checks the origin). */
  return function serve(req: IncomingMessage, res: ServerResponse): void {
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : '';
    const requestId = newId();
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': origin || '*',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') return sendErrors(res, 405, [errorBody('METHOD_NOT_ALLOWED', 'POST a widget key.')], { allow: 'POST' });
    if (!origin) return sendErrors(res, 403, [errorBody('ORIGIN_NOT_ALLOWED', 'A widget key is exchanged only from a web page (Origin).')]);
    exchange(req, res, origin, requestId).catch((error: unknown) => {
      options.logger.error({ err: error, traceId: requestId }, 'widget key exchange failed');
      if (!res.headersSent) sendErrors(res, 503, [errorBody('SERVICE_UNAVAILABLE', 'Try again shortly.')], { 'retry-after': '1' });
      else res.destroy();
    });
  };
}

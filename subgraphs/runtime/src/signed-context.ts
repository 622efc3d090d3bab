import { createHmac, timingSafeEqual } from 'node:crypto';
import { isRole, type Caller, type Role } from './caller';
import { isTenantId } from './ids';

/** The header that carries the signed context from the gateway to subgraphs. */
export const CONTEXT_HEADER = 'x-beedesk-context';
/** Long enough for clock skew between hosts, short enough that a captured header is soon useless. */
export const CONTEXT_TTL_SECONDS = 300;

interface WireContext {
  tid: string;
  sub: string;
  roles: Role[];
  rid: string;
  exp: number;
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();

/**
 * The caller as the gateway signs it for subgraphs (`signContext`) and as a subgraph verifies it
 * (`verifyContext`): both halves of the one wire format, `<payload>.<hmac>`, both base64url, cheap to
 * verify on every subgraph request.
 */
export function signContext(context: Caller, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const wire: WireContext = {
    tid: context.tenantId,
    sub: context.userId,
    roles: context.roles,
    rid: context.requestId,
    exp: nowSeconds + CONTEXT_TTL_SECONDS,
  };
  const payload = b64(JSON.stringify(wire));
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

export type ContextVerification = { ok: true; caller: Caller } | { ok: false; reason: string };

export function verifyContext(
  header: string | null | undefined,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): ContextVerification {
  if (!header) return { ok: false, reason: 'missing signed tenant context' };
  const dot = header.indexOf('.');
  if (dot <= 0) return { ok: false, reason: 'malformed tenant context' };
  const payload = header.slice(0, dot);
  const given = Buffer.from(header.slice(dot + 1), 'base64url');
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad tenant context signature' };
  }
  let wire: Partial<WireContext>;
  try {
    wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<WireContext>;
  } catch {
    return { ok: false, reason: 'malformed tenant context' };
  }
  if (typeof wire.exp !== 'number' || wire.exp < nowSeconds) return { ok: false, reason: 'expired tenant context' };
  if (typeof wire.tid !== 'string' || !isTenantId(wire.tid)) return { ok: false, reason: 'bad tenant id' };
  if (typeof wire.sub !== 'string' || wire.sub.length === 0) return { ok: false, reason: 'bad user id' };
  if (!Array.isArray(wire.roles) || !wire.roles.every(isRole)) return { ok: false, reason: 'bad roles' };
  return {
    ok: true,
    caller: { tenantId: wire.tid, userId: wire.sub, roles: wire.roles, requestId: typeof wire.rid === 'string' ? wire.rid : '' },
  };
}

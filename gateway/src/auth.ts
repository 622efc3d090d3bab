import { isRole, isTenantId, newId, type Redis, type Role } from '@beedesk/runtime';
import { ApiKeyRepository } from '@beedesk/tenant/data';
import type { JWTPayload } from 'jose';
import type { AuthResult, Authenticator } from './caller';
import { createJwtVerifier, type JwtVerifierOptions } from './jwt-verifier';

export interface AuthOptions extends JwtVerifierOptions {
  /**
   * Where partner API keys live (the same Redis and key prefix as the tenant subgraph). Without it API keys
   * are refused. Every request reads Redis (no cache), so a revoked key fails on the very next request.
   */
  apiKeys?: { redis: Redis; keyPrefix: string };
}

const BOTH = 'Send either `Authorization: Bearer <token>` or an API key (`x-api-key`), not both.';
const MISSING = 'Missing credentials: send `Authorization: Bearer <token>` or a partner API key in `x-api-key`.';
const BAD_KEY = 'The API key is not valid (malformed, unknown or revoked).';

/** The caller a JWT's claims describe: `sub` user, `tid` tenant, `roles` ⊂ {customer, agent, admin}. */
function callerOfClaims(payload: JWTPayload, requestId: string, clockToleranceSeconds: number): AuthResult {
  const { sub, tid, roles } = payload as JWTPayload & { tid?: unknown; roles?: unknown };
  if (typeof sub !== 'string' || !sub || sub.length > 256) return { ok: false, message: 'The token has no valid `sub` (user id).' };
  if (typeof tid !== 'string' || !isTenantId(tid)) return { ok: false, message: 'The token has no valid `tid` (tenant id).' };
  const roleList = Array.isArray(roles) ? roles : ['customer'];
  if (!roleList.every(isRole) || roleList.length === 0) return { ok: false, message: 'The token has invalid `roles`.' };
  return {
    ok: true,
    caller: { tenantId: tid, userId: sub, roles: [...new Set(roleList as Role[])], requestId },
    // The verifier accepts the token until `exp` plus the clock tolerance: so does every open subscription
    // (graphql-ws, SSE), or a token HTTP still takes would be refused, or cut at once, on the other two.
    expiresAt: typeof payload.exp === 'number' ? payload.exp + clockToleranceSeconds : null,
    credential: { kind: 'jwt' },
  };
}

/**
 * Turns what a client presented into a caller: a JWT (`Authorization: Bearer <jwt>`; HS256 with
 * JWT_SECRET and/or RS256/ES256 from JWT_JWKS_URL) or a partner API key (`bdk_<tenant>_<secret>`,
 * looked up under that tenant only). Exactly one of the two.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const verifyJwt = createJwtVerifier(options);
  const apiKeys = options.apiKeys ? new ApiKeyRepository(options.apiKeys.redis, options.apiKeys.keyPrefix) : null;

  return async ({ authorization, apiKey }, requestId = newId()) => {
    // An empty header counts as absent.
    const header = typeof authorization === 'string' ? authorization.trim() : '';
    const key = typeof apiKey === 'string' ? apiKey.trim() : '';
    if (header && key) return { ok: false, message: BOTH };

    if (key) {
      if (!apiKeys) return { ok: false, message: 'This gateway does not accept API keys.' };
      const verified = await apiKeys.verify(key);
      if (!verified) return { ok: false, message: BAD_KEY };
      const roles = verified.record.roles.filter(isRole);
      if (roles.length === 0) return { ok: false, message: BAD_KEY };
      return {
        ok: true,
        caller: { tenantId: verified.tenantId, userId: `api-key:${verified.record.id}`, roles, requestId },
        expiresAt: null,
        credential: { kind: 'api-key', keyId: verified.record.id, persistedOnly: verified.record.persistedOnly },
      };
    }

    if (!header) return { ok: false, message: MISSING };
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return { ok: false, message: 'Malformed Authorization header: expected `Bearer <token>`.' };
    const verified = await verifyJwt(match[1]!);
    return verified.ok ? callerOfClaims(verified.payload, requestId, options.clockToleranceSeconds) : verified;
  };
}

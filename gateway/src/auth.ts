import { isRole, isTenantId, newId, type Redis, type Role } from '@beedesk/runtime';
import { ApiKeyRepository } from '@beedesk/tenant/data';
import type { JWTPayload } from 'jose';
import type { AuthResult, Authenticator } from './caller';
import { createJwtVerifier, type JwtVerifierOptions } from './jwt-verifier';

/** How the identity provider's claims name the tenant and the roles (JWT_TENANT_CLAIM, JWT_ROLES_CLAIM, JWT_ROLE_MAP). */
export interface ClaimMapping {
  tenantClaim: string;
  /** A dotted path into the payload; the value is a list or a space-separated string. */
  rolesClaim: string;
  /** Provider role → beedesk role; when given, roles it does not name are ignored. */
  roleMap?: ReadonlyMap<string, Role>;
}

/** `a=admin,b=agent` (JWT_ROLE_MAP, already validated by the config) as a map. */
export const parseRoleMap = (text: string): Map<string, Role> => new Map(text.split(',').map((pair) => pair.split('=') as [string, Role]));

export interface AuthOptions extends JwtVerifierOptions {
  /** For tokens verified with the JWKS; development (HS256) tokens always use `tid` and `roles`. */
  claims?: ClaimMapping;
  /**
   * Where partner API keys live (the same Redis and key prefix as the tenant subgraph). Without it API keys
   * are refused. Every request reads Redis (no cache), so a revoked key fails on the very next request.
   */
  apiKeys?: { redis: Redis; keyPrefix: string };
}

const BOTH = 'Send either `Authorization: Bearer <token>` or an API key (`x-api-key`), not both.';
const MISSING = 'Missing credentials: send `Authorization: Bearer <token>` or a partner API key in `x-api-key`.';
const BAD_KEY = 'The API key is not valid (malformed, unknown or revoked).';

const claimAt = (payload: JWTPayload, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);

/**
 * The provider's claims as beedesk's: `tid` from the tenant claim, `roles` from the roles claim (through the
 * role map when one is configured; no mapped role leaves the claim out, i.e. a customer).
 */
function mappedClaims(payload: JWTPayload, mapping: ClaimMapping): JWTPayload {
  const raw = claimAt(payload, mapping.rolesClaim);
  const listed = typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : Array.isArray(raw) ? raw.map(String) : undefined;
  const roles = mapping.roleMap && listed ? [...new Set(listed.flatMap((r) => mapping.roleMap!.get(r) ?? []))] : listed;
  return { ...payload, tid: claimAt(payload, mapping.tenantClaim), roles: roles && roles.length > 0 ? roles : undefined };
}

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
    if (!verified.ok) return verified;
    const payload = verified.source === 'jwks' && options.claims ? mappedClaims(verified.payload, options.claims) : verified.payload;
    return callerOfClaims(payload, requestId, options.clockToleranceSeconds);
  };
}

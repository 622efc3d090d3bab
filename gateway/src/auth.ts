import { isRole, isTenantId, newId, type Role } from '@beedesk/runtime';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Authenticator } from './caller';

export interface AuthOptions {
  secret: string;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds: number;
}


/**
 * Verifies `Authorization: Bearer <jwt>` (HS256 with JWT_SECRET) and turns its claims into a
 * tenant context: `sub` user, `tid` tenant, `roles` ⊂ {customer, agent, admin}.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const key = new TextEncoder().encode(options.secret);
  return async ({ authorization }, requestId = newId()) => {
    if (!authorization) return { ok: false, message: 'Missing Authorization header: send `Authorization: Bearer <token>`.' };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) return { ok: false, message: 'Malformed Authorization header: expected `Bearer <token>`.' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds,
        // A token that never expires cannot be revoked by time: refuse it.
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, message: 'The token has expired.' };
      if (error instanceof joseErrors.JWTClaimValidationFailed) return { ok: false, message: `The token was refused: ${error.message}.` };
      return { ok: false, message: 'The token is not valid.' };
    }
    const { sub, tid, roles } = payload as JWTPayload & { tid?: unknown; roles?: unknown };
    if (typeof sub !== 'string' || !sub || sub.length > 256) return { ok: false, message: 'The token has no valid `sub` (user id).' };
    if (typeof tid !== 'string' || !isTenantId(tid)) return { ok: false, message: 'The token has no valid `tid` (tenant id).' };
    const roleList = Array.isArray(roles) ? roles : ['customer'];
    if (!roleList.every(isRole) || roleList.length === 0) return { ok: false, message: 'The token has invalid `roles`.' };
    return {
      ok: true,
      context: { tenantId: tid, userId: sub, roles: [...new Set(roleList as Role[])], requestId },
      expiresAt: typeof payload.exp === 'number' ? payload.exp : null,
      credential: { kind: 'jwt' },
    };
  };
}

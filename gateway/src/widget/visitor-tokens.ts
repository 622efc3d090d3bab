import { createHmac } from 'node:crypto';
import { isTenantId } from '@beedesk/runtime';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';

/** `iss` of every visitor token: how the gateway tells them from the identity provider's tokens. */
export const VISITOR_TOKEN_ISSUER = 'beedesk-widget';
/** A visitor token lives this long; the widget exchanges its key again before then. */
export const VISITOR_TOKEN_TTL_SECONDS = 15 * 60;

/** What a verified visitor token says. */
export interface VisitorClaims {
  tenantId: string;
  /** `visitor:<hash>` for anonymous visitors, `widget-user:<id>` for identity-verified ones. */
  userId: string;
  /** The page origin the token was issued to; it works only from there. */
  origin: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** True when `token` claims to be a visitor token (not yet verified): it must then verify as one. */
export function isVisitorToken(token: string): boolean {
  try {
    return decodeJwt(token).iss === VISITOR_TOKEN_ISSUER;
  } catch {
    return false;
  }
}

/**
 * Short-lived visitor tokens, signed and verified by the gateways only (HS256 with a key derived from
 * INTERNAL_SECRET, which every replica shares; the identity provider's keys never sign them and they
 * never verify as its tokens). Role customer, bound to one tenant and one page origin.
 */
export class VisitorTokens {
  private readonly key: Uint8Array;
  private readonly idKey: Buffer;

  constructor(internalSecret: string) {
    this.key = createHmac('sha256', internalSecret).update('beedesk widget visitor tokens v1').digest();
    this.idKey = createHmac('sha256', internalSecret).update('beedesk widget visitor ids v1').digest();
  }

  /**
   * The user id of an anonymous visitor: a keyed hash of the random id their browser keeps, so the id
   * itself (a bearer secret) never reaches a subgraph, a Redis key or a log line.
   */
  anonymousUserId(tenantId: string, visitorId: string): string {
    return `visitor:${createHmac('sha256', this.idKey).update(`${tenantId}\n${visitorId}`).digest('base64url').slice(0, 32)}`;
  }

  async issue(
    claims: Omit<VisitorClaims, 'expiresAt'>,
    now = Math.floor(Date.now() / 1000),
  ): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = now + VISITOR_TOKEN_TTL_SECONDS;
    const token = await new SignJWT({ tid: claims.tenantId, roles: ['customer'], org: claims.origin })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(VISITOR_TOKEN_ISSUER)
      .setSubject(claims.userId)
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The claims of a valid, unexpired visitor token, or why it is not one. */
  async verify(token: string): Promise<{ ok: true; claims: VisitorClaims } | { ok: false; message: string }> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: VISITOR_TOKEN_ISSUER, requiredClaims: ['exp'] }));
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      return {
        ok: false,
        message: expired ? 'The visitor token has expired: exchange the widget key again.' : 'The visitor token is not valid.',
      };
    }
    const { sub, tid, org, exp } = payload as { sub?: unknown; tid?: unknown; org?: unknown; exp?: unknown };
    if (typeof sub !== 'string' || typeof tid !== 'string' || !isTenantId(tid) || typeof org !== 'string' || typeof exp !== 'number') {
      return { ok: false, message: 'The visitor token is not valid.' };
    }
    return { ok: true, claims: { tenantId: tid, userId: sub, origin: org, expiresAt: exp } };
  }
}

import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Session ids that say which tenant they belong to without naming it: `s<tag>_<uuid>`, where
 * `tag` is the first 12 hex digits of HMAC(INTERNAL_SECRET, tenant). A service can then tell
 * "another tenant's session" (FORBIDDEN) from "no such session" (NOT_FOUND) from the id alone,
 * never reading another tenant's keys. The tag cannot be forged for a tenant without the secret;
 * it only tells a holder of the id which tenant's sessions share it, which holders know anyway.
 * Ids minted before this scheme (plain UUIDs) carry no tag and are looked up as before.
 */
const TAGGED = /^s([0-9a-f]{12})_([0-9a-f-]{36})$/;

const tagOf = (secret: string, tenantId: string): string =>
  createHmac('sha256', secret).update(`session-tenant:${tenantId}`).digest('hex').slice(0, 12);

export function mintSessionId(secret: string, tenantId: string): string {
  return `s${tagOf(secret, tenantId)}_${randomUUID()}`;
}

/** `own`: tagged for this tenant; `other`: tagged for another one; `untagged`: a legacy id (or garbage). */
export function sessionIdTenancy(secret: string, tenantId: string, id: string): 'own' | 'other' | 'untagged' {
  const match = TAGGED.exec(id);
  if (!match) return 'untagged';
  const expected = Buffer.from(tagOf(secret, tenantId));
  const given = Buffer.from(match[1]!);
  return timingSafeEqual(expected, given) ? 'own' : 'other';
}

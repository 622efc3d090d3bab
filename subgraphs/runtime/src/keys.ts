import { keyPart } from './ids';

/**
 * Every Redis key of a tenant. The tenant id is the hash tag, so all of a tenant's keys live in
 * one Redis Cluster slot: a request (always one tenant) may batch and MULTI freely, and no key
 * can be built for another tenant than the one in the verified context.
 */
export function tenantKeys(prefix: string, tenantId: string) {
  const base = `${prefix}:{${tenantId}}`;
  return {
    base,
    tenant: `${base}:tenant`,
    articleIds: `${base}:articles`,
    article: (id: string) => `${base}:article:${id}`,
    /** Bumped on every article change; inference replicas compare it to know their index is stale. */
    kbVersion: `${base}:kb-version`,
    session: (id: string) => `${base}:session:${id}`,
    turns: (sessionId: string) => `${base}:session:${sessionId}:turns`,
    activeSession: (userId: string) => `${base}:user:${keyPart(userId)}:active-session`,
    answer: (id: string) => `${base}:answer:${id}`,
    answerClaim: (id: string) => `${base}:answer:${id}:claim`,
    askByClientMessage: (sessionId: string, clientMessageId: string) =>
      `${base}:session:${sessionId}:ask:${clientMessageId}`,
    pending: `${base}:pending`,
  };
}
export type TenantKeys = ReturnType<typeof tenantKeys>;

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const DAY = 24 * 60 * MINUTE;

/** DESIGN: a user who comes back within 30 minutes continues the same session. */
export const SESSION_RESUME_WINDOW_MS = 30 * MINUTE;
/** DESIGN: history is kept 7 days. */
export const HISTORY_RETENTION_MS = 7 * DAY;
export const HISTORY_MAX_TURNS = 100;

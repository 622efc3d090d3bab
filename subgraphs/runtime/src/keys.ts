import { keyPart, legacyKeyPart } from './ids';

/**
 * The start of every Redis key of a tenant: the tenant id in braces is the Redis Cluster hash tag.
 * Packages that keep keys of their own (the gateway's rate buckets, APQ, subscription leases) build
 * them on it, so they share the tenant's slot and cannot name another tenant.
 */
export const tenantKeyBase = (prefix: string, tenantId: string): string => `${prefix}:{${tenantId}}`;

/**
 * Every Redis key of a tenant's data (tenants, articles, API keys, sessions, answers). The tenant id is the hash tag, so all of a tenant's keys live in
 * one Redis Cluster slot: a request (always one tenant) may batch and MULTI freely, and no key
 * can be built for another tenant than the one in the verified context.
 */
export function tenantKeys(prefix: string, tenantId: string) {
  const base = tenantKeyBase(prefix, tenantId);
  return {
    base,
    tenant: `${base}:tenant`,
    articleIds: `${base}:articles`,
    article: (id: string) => `${base}:article:${id}`,
    /** Bumped on every article change; inference replicas compare it to know their index is stale. */
    kbVersion: `${base}:kb-version`,
    /**
     * Pub/sub channel on which every article change publishes the new kb-version (in the same MULTI as
     * the change), so inference replicas refresh the tenant's index before its next question.
     */
    kbChanged: `${base}:kb-changed`,
    /** Hash: article id → bytes of its example questions, for the per-tenant knowledge-base caps. */
    kbQuestionBytes: `${base}:kb-question-bytes`,
    session: (id: string) => `${base}:session:${id}`,
    turns: (sessionId: string) => `${base}:session:${sessionId}:turns`,
    activeSession: (userId: string) => `${base}:user:${keyPart(userId)}:active-session`,
    /**
     * Where the pointer and the user's erasure index were written before keyPart was injective. Equal to
     * the current keys for most ids; otherwise possibly shared with another user: read only, and only
     * what the user owns counts (SessionRepository).
     */
    legacyActiveSession: (userId: string) => `${base}:user:${legacyKeyPart(userId)}:active-session`,
    legacyUserSessions: (userId: string) => `${base}:user:${legacyKeyPart(userId)}:sessions`,
    /**
     * Erasure indexes, written in the same transaction as what they index and living as long: a user's
     * session ids (sorted by last activity), a session's answer ids and its ask client-message ids.
     */
    userSessions: (userId: string) => `${base}:user:${keyPart(userId)}:sessions`,
    sessionAnswers: (sessionId: string) => `${base}:session:${sessionId}:answers`,
    sessionAsks: (sessionId: string) => `${base}:session:${sessionId}:asks`,
    answer: (id: string) => `${base}:answer:${id}`,
    answerClaim: (id: string) => `${base}:answer:${id}:claim`,
    /** Text streamed so far and its last sequence number, for a worker that takes over. */
    answerStream: (id: string) => `${base}:answer:${id}:stream`,
    answerStreamSeq: (id: string) => `${base}:answer:${id}:stream-seq`,
    answerAttempts: (id: string) => `${base}:answer:${id}:attempts`,
    askByClientMessage: (sessionId: string, clientMessageId: string) => `${base}:session:${sessionId}:ask:${clientMessageId}`,
    /** Sorted set of the tenant's waiting answers by arrival: queue positions. */
    pending: `${base}:pending`,
    /**
     * Answer ids the engine was not sure about (needsHuman), by completion time, capped and expiring with
     * the answers: the staff console's "questions to learn from" list (ids only; entries of erased answers
     * are dropped when read).
     */
    unsureAnswers: `${base}:unsure-answers`,
    pendingSeq: `${base}:pending-seq`,
    /**
     * The answer package's statistics (hash of counters and latency bins) of one time bucket: `m` a minute
     * (kept 2 h), `h` an hour (kept 26 h); `bucket` is the epoch time divided by its length. Counts only.
     */
    answerStats: (resolution: 'm' | 'h', bucket: number) => `${base}:answer-stats:${resolution}:${bucket}`,
    /**
     * The ask outbox: answers written but not yet acknowledged by Kafka (sorted by time) and their
     * requests, re-sent by the answer service's sweeper (one sweeper per tenant at a time: the lock).
     */
    outbox: `${base}:outbox`,
    outboxRequests: `${base}:outbox-requests`,
    outboxSweepLock: `${base}:outbox-sweep-lock`,
    /**
     * Human handoff (owned by the handoff package; here so a user's erasure removes a session's):
     * the session's ownership (hash), its audit trail and internal notes (lists), agent-message
     * idempotency keys and typing indicators.
     */
    handoff: (sessionId: string) => `${base}:session:${sessionId}:handoff`,
    handoffAudit: (sessionId: string) => `${base}:session:${sessionId}:handoff-audit`,
    handoffNotes: (sessionId: string) => `${base}:session:${sessionId}:handoff-notes`,
    handoffMessage: (sessionId: string, clientMessageId: string) => `${base}:session:${sessionId}:handoff-msg:${clientMessageId}`,
    handoffTyping: (sessionId: string, who: 'customer' | 'agent') => `${base}:session:${sessionId}:typing:${who}`,
    /** Which `setTyping(true)` is the latest, so only its lapse is announced (typing off) and only once. */
    handoffTypingLapse: (sessionId: string, who: 'customer' | 'agent') => `${base}:session:${sessionId}:typing:${who}:lapse`,
    /** The tenant's handoff state: waiting line, inbox index, event log, agents and presence. */
    handoffLine: `${base}:handoff:line`,
    handoffInbox: `${base}:handoff:inbox`,
    handoffLog: `${base}:handoff:log`,
    handoffLogSeq: `${base}:handoff:log-seq`,
    handoffAgents: `${base}:handoff:agents`,
    handoffAgent: (agentId: string) => `${base}:handoff:agent:${keyPart(agentId)}`,
    handoffAgentConversations: (agentId: string) => `${base}:handoff:agent:${keyPart(agentId)}:conversations`,
    handoffPresence: `${base}:handoff:presence`,
    handoffAssignLock: `${base}:handoff:assign-lock`,
    /** Partner API keys: each key's record (JSON, secret only as its hash), the tenant's key ids, and hash → id. */
    apiKey: (id: string) => `${base}:api-key:${id}`,
    apiKeyIds: `${base}:api-keys`,
    apiKeyBySecretHash: (sha256Hex: string) => `${base}:api-key-hash:${sha256Hex}`,
    /** Hash: the web chat widget's settings (public key, allowed origins, theme, identity secret). */
    widget: `${base}:widget`,
    /** A user's verdict on an answer (JSON), kept as long as the answer. */
    answerFeedback: (id: string) => `${base}:answer:${id}:feedback`,
    /** Sorted set of rated answer ids by rating time (newest last), for the staff console. */
    ratedAnswers: `${base}:rated-answers`,
  };
}
export type TenantKeys = ReturnType<typeof tenantKeys>;

/**
 * The keys of one answer: its record and what the worker keeps beside it while answering. Beside the
 * key builder so that a user's erasure (the session package) removes every one of them.
 */
export const answerKeysOf = (keys: TenantKeys, answerId: string): string[] => [
  keys.answer(answerId),
  keys.answerClaim(answerId),
  keys.answerStream(answerId),
  keys.answerStreamSeq(answerId),
  keys.answerAttempts(answerId),
  keys.answerFeedback(answerId),
];

/**
 * The one platform key beside the tenants' own: which tenants may have ask-outbox entries (tenant ids
 * only, no content), so a sweeper finds them without SCAN. `_` cannot start a tenant id, so its hash
 * tag is never a tenant's.
 */
export const outboxTenantsKey = (prefix: string): string => `${prefix}:{_platform}:outbox-tenants`;

/** The one platform key of human handoff: tenants with waiting or assigned conversations (ids only), for the assigner. */
export const handoffTenantsKey = (prefix: string): string => `${prefix}:{_platform}:handoff-tenants`;

/** The keys of one session's human handoff, for a user's erasure (the session package). */
export const handoffKeysOf = (keys: TenantKeys, sessionId: string): string[] => [
  keys.handoff(sessionId),
  keys.handoffAudit(sessionId),
  keys.handoffNotes(sessionId),
  keys.handoffTyping(sessionId, 'customer'),
  keys.handoffTyping(sessionId, 'agent'),
  keys.handoffTypingLapse(sessionId, 'customer'),
  keys.handoffTypingLapse(sessionId, 'agent'),
];

/** PSUBSCRIBE pattern matching every tenant's `kbChanged` channel under `prefix`. */
export const kbChangedPattern = (prefix: string): string => `${prefix}:{*}:kb-changed`;

/** The tenant of a `kbChanged` channel name, or null when the name is not one. */
export function tenantOfKbChannel(prefix: string, channel: string): string | null {
  const head = `${prefix}:{`;
  const tail = '}:kb-changed';
  if (!channel.startsWith(head) || !channel.endsWith(tail)) return null;
  const tenant = channel.slice(head.length, channel.length - tail.length);
  return tenant && !/[{}]/.test(tenant) ? tenant : null;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * Live-event pub/sub channels of a tenant. Like keys they carry the tenant as hash tag, so a
 * subscriber can only ever listen to the tenant of its verified context (and, on Redis Cluster,
 * a tenant's channels map to one slot for sharded pub/sub).
 */
export function tenantChannels(prefix: string, tenantId: string) {
  const base = `${prefix}:{${tenantId}}:events`;
  return {
    /** Every answer event of one session. */
    answers: (sessionId: string) => `${base}:session:${sessionId}:answers`,
    /** Sessions started, questions asked, answers done: the tenant's staff dashboard feed. */
    activity: `${base}:activity`,
    /** Human handoff: a new entry in the tenant's handoff event log (its cursor), or a line change for the assigner. */
    handoff: `${base}:handoff`,
    /**
     * An API key revoked, the tenant erased: gateways re-check (or end) the tenant's open subscriptions.
     * Messages are CredentialsChange JSON.
     */
    credentials: `${base}:credentials`,
  };
}

/** What a `credentials` channel message says changed. */
export type CredentialsChange = { kind: 'api-key-revoked'; apiKeyId: string } | { kind: 'tenant-erased' };

/** PSUBSCRIBE pattern matching every tenant's `credentials` channel under `prefix`. */
export const credentialsChangedPattern = (prefix: string): string => `${prefix}:{*}:events:credentials`;

/** The tenant of a `credentials` channel name, or null when the name is not one. */
export function tenantOfCredentialsChannel(prefix: string, channel: string): string | null {
  const head = `${prefix}:{`;
  const tail = '}:events:credentials';
  if (!channel.startsWith(head) || !channel.endsWith(tail)) return null;
  const tenant = channel.slice(head.length, channel.length - tail.length);
  return tenant && !/[{}]/.test(tenant) ? tenant : null;
}
export type TenantChannels = ReturnType<typeof tenantChannels>;

import {
  answerKeysOf,
  execOrThrow,
  handoffKeysOf,
  newId,
  TenantStore,
  type ChainableCommander,
  type Redis,
  type TenantKeys,
} from '@beedesk/runtime';
import { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, SESSION_RESUME_WINDOW_MS } from './rules';

export interface SessionRecord {
  id: string;
  userId: string;
  startedAt: string;
  lastActiveAt: string;
  turnCount: number;
}

export type TurnRole = 'USER' | 'ASSISTANT' | 'AGENT';

export interface TurnRecord {
  seq: number;
  role: TurnRole;
  text: string;
  at: string;
  answerId?: string;
  /** AGENT turns: the agent's display name (never their identity). */
  authorName?: string;
}
type StoredTurn = Omit<TurnRecord, 'seq'>;

/** A turn as stored in a session's history list (its seq is derived when read). */
export function storedTurnJson(turn: Omit<StoredTurn, 'at'>, now: Date): string {
  const stored: StoredTurn = {
    role: turn.role,
    text: turn.text,
    at: now.toISOString(),
    ...(turn.answerId ? { answerId: turn.answerId } : {}),
    ...(turn.authorName ? { authorName: turn.authorName } : {}),
  };
  return JSON.stringify(stored);
}

export interface StartedSession {
  session: SessionRecord;
  resumed: boolean;
}

function toSession(id: string, fields: Record<string, string>): SessionRecord | null {
  if (!fields['userId']) return null;
  return {
    id,
    userId: fields['userId'],
    startedAt: fields['startedAt'] ?? '',
    lastActiveAt: fields['lastActiveAt'] ?? '',
    turnCount: Number(fields['turnCount'] ?? 0),
  };
}

/** What `eraseUser` removed. */
export interface UserDataErasure {
  sessions: number;
  answers: number;
  /** Every Redis key deleted, indexes and pointers included. */
  keys: number;
}

/**
 * Adds a session to its user's erasure index (scored by the time of the write) and keeps the index as
 * long as the session's data: entries whose data has certainly expired are trimmed as it goes.
 */
export function queueIndexUserSession(multi: ChainableCommander, keys: TenantKeys, userId: string, sessionId: string, now: Date): void {
  const index = keys.userSessions(userId);
  multi
    .zadd(index, now.getTime(), sessionId)
    .zremrangebyscore(index, '-inf', `(${now.getTime() - HISTORY_RETENTION_MS}`)
    .pexpire(index, HISTORY_RETENTION_MS);
}

const ERASE_ATTEMPTS = 5;

export const isSessionActive = (session: SessionRecord, now = Date.now()): boolean =>
  now - Date.parse(session.lastActiveAt) < SESSION_RESUME_WINDOW_MS;

export class SessionRepository extends TenantStore {
  async get(tenantId: string, id: string): Promise<SessionRecord | null> {
    return toSession(id, await this.redis.hgetall(this.keys(tenantId).session(id)));
  }

  /** One round trip for any number of sessions (they share the tenant's hash slot). */
  async getMany(tenantId: string, ids: readonly string[]): Promise<(SessionRecord | null)[]> {
    if (ids.length === 0) return [];
    const keys = this.keys(tenantId);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.session(id));
    const results = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [error, fields] = results[i] ?? [null, {}];
      if (error) throw error;
      return toSession(id, fields as Record<string, string>);
    });
  }

  /**
   * The 30-minute resume rule: the user's active-session pointer expires 30 minutes after their
   * last activity, so while it exists we continue that session; otherwise a new one starts.
   */
  async startOrResume(tenantId: string, userId: string, now = new Date(), mintId: () => string = newId): Promise<StartedSession> {
    const keys = this.keys(tenantId);
    const pointerKey = keys.activeSession(userId);
    const legacyPointerKey = keys.legacyActiveSession(userId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const activeId = await this.redis.get(pointerKey);
      // A pointer written before keyPart was injective (at most 30 minutes old) is still honoured; that key
      // may be another user's too, so only a session this user owns counts (checked below).
      const resumableId = activeId ?? (legacyPointerKey !== pointerKey ? await this.redis.get(legacyPointerKey) : null);
      if (resumableId) {
        const active = await this.get(tenantId, resumableId);
        if (active && active.userId === userId && isSessionActive(active, now.getTime())) {
          await this.touch(tenantId, active.id, userId, now);
          return { session: { ...active, lastActiveAt: now.toISOString() }, resumed: true };
        }
      }
      const session: SessionRecord = {
        id: mintId(),
        userId,
        startedAt: now.toISOString(),
        lastActiveAt: now.toISOString(),
        turnCount: 0,
      };
      // NX when there was no pointer: of two concurrent starts, one creates and the other resumes it.
      const claimed = activeId
        ? await this.redis.set(pointerKey, session.id, 'PX', SESSION_RESUME_WINDOW_MS)
        : await this.redis.set(pointerKey, session.id, 'PX', SESSION_RESUME_WINDOW_MS, 'NX');
      if (claimed !== 'OK') continue;
      const multi = this.redis
        .multi()
        .hset(keys.session(session.id), {
          userId: session.userId,
          startedAt: session.startedAt,
          lastActiveAt: session.lastActiveAt,
          turnCount: 0,
        })
        .pexpire(keys.session(session.id), HISTORY_RETENTION_MS);
      queueIndexUserSession(multi, keys, userId, session.id, now);
      await execOrThrow(multi);
      return { session, resumed: false };
    }
    throw new Error('could not start a session: the active-session pointer kept changing');
  }

  /** Marks activity: the session stays resumable for another 30 minutes. */
  async touch(tenantId: string, sessionId: string, userId: string, now = new Date()): Promise<void> {
    const multi = this.redis.multi();
    this.queueTouch(multi, tenantId, sessionId, userId, now);
    await execOrThrow(multi);
  }

  private queueTouch(multi: ChainableCommander, tenantId: string, sessionId: string, userId: string, now: Date): void {
    const keys = this.keys(tenantId);
    multi
      .hset(keys.session(sessionId), 'lastActiveAt', now.toISOString())
      .pexpire(keys.session(sessionId), HISTORY_RETENTION_MS)
      .set(keys.activeSession(userId), sessionId, 'PX', SESSION_RESUME_WINDOW_MS);
    queueIndexUserSession(multi, keys, userId, sessionId, now);
  }

  /**
   * Adds a turn's commands to a transaction: push, trim to the last 100, expire after 7 days, and
   * count it (the count gives turns their sequence numbers after trimming). A USER turn is also
   * activity that keeps the session resumable.
   */
  queueTurn(
    multi: ChainableCommander,
    tenantId: string,
    session: Pick<SessionRecord, 'id' | 'userId'>,
    turn: Omit<StoredTurn, 'at'>,
    now = new Date(),
  ): void {
    const keys = this.keys(tenantId);
    multi
      .rpush(keys.turns(session.id), storedTurnJson(turn, now))
      .ltrim(keys.turns(session.id), -HISTORY_MAX_TURNS, -1)
      .pexpire(keys.turns(session.id), HISTORY_RETENTION_MS)
      .hincrby(keys.session(session.id), 'turnCount', 1);
    if (turn.role === 'USER') this.queueTouch(multi, tenantId, session.id, session.userId, now);
    else queueIndexUserSession(multi, keys, session.userId, session.id, now);
  }

  async appendTurn(
    tenantId: string,
    session: Pick<SessionRecord, 'id' | 'userId'>,
    turn: Omit<StoredTurn, 'at'>,
    now = new Date(),
  ): Promise<void> {
    const multi = this.redis.multi();
    this.queueTurn(multi, tenantId, session, turn, now);
    await execOrThrow(multi);
  }

  /** The last `last` turns (all kept ones when omitted), oldest first, with their sequence numbers. */
  async turns(tenantId: string, sessionId: string, last?: number): Promise<TurnRecord[]> {
    const keys = this.keys(tenantId);
    const start = last === undefined ? 0 : -Math.max(0, Math.min(last, HISTORY_MAX_TURNS));
    if (last === 0) return [];
    const [count, raws] = (await execOrThrow(
      this.redis.multi().hget(keys.session(sessionId), 'turnCount').lrange(keys.turns(sessionId), start, -1),
    )) as [string | null, string[]];
    const total = Number(count ?? raws.length);
    return raws.map((raw, i) => ({ ...(JSON.parse(raw) as StoredTurn), seq: total - raws.length + i + 1 }));
  }

  /**
   * GDPR erasure of one user of one tenant: every session of theirs with its turns, its answers (and
   * their claim, stream and attempt keys), its ask idempotency keys, the user's entries in the
   * tenant's waiting line, the active-session pointer and the erasure indexes, in one transaction.
   * Found through the indexes (and the pointer and the turns, for data written before the indexes
   * existed), never by SCAN. The index keys are WATCHed: a concurrent write to them retries.
   * A worker answering one of these questions meanwhile loses its claim with the answer, and its
   * claim-guarded writes (stream, attempts, completion, re-claim) then write nothing.
   *
   * The answers are deleted by their keys in runtime's shared layout (tenantKeys, answerKeysOf), not
   * through @beedesk/answer: answer depends on session (it checks the session before an ask and writes
   * turns), so a dependency back would be a cycle, and one transaction must cover both anyway.
   */
  async eraseUser(tenantId: string, userId: string): Promise<UserDataErasure> {
    const keys = this.keys(tenantId);
    for (let attempt = 0; attempt < ERASE_ATTEMPTS; attempt++) {
      const watched = this.redis.duplicate();
      try {
        const plan = await this.planUserErasure(watched, keys, userId);
        const multi = watched.multi();
        for (const key of plan.keys) multi.del(key);
        for (const { key, members } of plan.removals) multi.zrem(key, ...members);
        if (plan.answerIds.length > 0) {
          multi.zrem(keys.pending, ...plan.answerIds);
          // Their not-yet-acknowledged requests too (they hold the question text), and their places in
          // the staff's unsure-answers list.
          multi.zrem(keys.outbox, ...plan.answerIds).hdel(keys.outboxRequests, ...plan.answerIds);
          multi.zrem(keys.unsureAnswers, ...plan.answerIds);
        }
        const results = await multi.exec();
        if (!results) continue; // a watched index changed: read again
        const deleted = results.reduce((sum, [error, value], i) => {
          if (error) throw error;
          return i < plan.keys.length ? sum + Number(value) : sum;
        }, 0);
        return { sessions: plan.sessions, answers: plan.answers, keys: deleted };
      } finally {
        watched.disconnect();
      }
    }
    throw new Error('could not erase the user data: it kept changing');
  }

  /**
   * Reads the user's indexes under WATCH (on `watched`, a connection of its own) and lists every key to
   * delete. Besides the current index and pointer it reads the ones written before keyPart was
   * injective (legacy keys): those may be shared with another user, so only sessions this user owns
   * are taken from them, and the shared keys lose only this user's entries. The same holds for the
   * current keys, which for most ids are the legacy keys of some other id.
   */
  private async planUserErasure(
    watched: Redis,
    keys: TenantKeys,
    userId: string,
  ): Promise<{ keys: string[]; removals: { key: string; members: string[] }[]; answerIds: string[]; sessions: number; answers: number }> {
    const index = keys.userSessions(userId);
    const pointer = keys.activeSession(userId);
    const legacyIndex = keys.legacyUserSessions(userId);
    const legacyPointer = keys.legacyActiveSession(userId);
    const hasLegacy = legacyIndex !== index;
    await watched.watch(index, pointer, ...(hasLegacy ? [legacyIndex, legacyPointer] : []));
    const [indexed, active, legacyIndexed, legacyActive] = (await execOrThrow(
      watched
        .pipeline()
        .zrange(index, 0, -1)
        .get(pointer)
        .zrange(hasLegacy ? legacyIndex : index, 0, -1)
        .get(hasLegacy ? legacyPointer : pointer),
    )) as [string[], string | null, string[], string | null];
    /** Sessions named only by a legacy key: taken only when the session record says they are this user's. */
    const legacyOnly = new Set(hasLegacy ? [...legacyIndexed, ...(legacyActive ? [legacyActive] : [])] : []);
    const candidates = [...new Set([...indexed, ...(active ? [active] : []), ...legacyOnly])];
    for (const id of [...indexed, ...(active ? [active] : [])]) legacyOnly.delete(id);
    const perSession = candidates.flatMap((id) => [keys.session(id), keys.sessionAnswers(id), keys.sessionAsks(id)]);
    if (perSession.length > 0) await watched.watch(...perSession, ...candidates.map((id) => keys.turns(id)));
    const reads = watched.pipeline();
    for (const id of candidates) {
      reads.hget(keys.session(id), 'userId').smembers(keys.sessionAnswers(id)).smembers(keys.sessionAsks(id)).lrange(keys.turns(id), 0, -1);
    }
    const results = (await reads.exec()) ?? [];
    const value = (i: number): unknown => {
      const [error, result] = results[i] ?? [null, null];
      if (error) throw error;
      return result;
    };
    const toDelete: string[] = [];
    const answerIds = new Set<string>();
    const erased = new Set<string>();
    const foreign = new Set<string>();
    let sessions = 0;
    candidates.forEach((id, n) => {
      const owner = value(n * 4) as string | null;
      // Never another user's session: a key shared with another id (see legacyKeyPart) may name theirs.
      if ((owner !== null && owner !== userId) || (owner === null && legacyOnly.has(id))) {
        foreign.add(id);
        return;
      }
      erased.add(id);
      if (owner !== null) sessions++;
      for (const answerId of value(n * 4 + 1) as string[]) answerIds.add(answerId);
      for (const raw of value(n * 4 + 3) as string[]) {
        const turn = JSON.parse(raw) as Partial<StoredTurn>;
        if (turn.answerId) answerIds.add(turn.answerId);
      }
      const asks = (value(n * 4 + 2) as string[]).map((clientMessageId) => keys.askByClientMessage(id, clientMessageId));
      toDelete.push(keys.session(id), keys.turns(id), keys.sessionAnswers(id), keys.sessionAsks(id), ...asks, ...handoffKeysOf(keys, id));
    });
    const removals: { key: string; members: string[] }[] = [];
    /** An index goes whole when it names nobody else's session, else loses this user's entries only. */
    const clearIndex = (key: string, members: string[]) => {
      if (members.every((id) => !foreign.has(id))) toDelete.push(key);
      else if (members.some((id) => erased.has(id))) removals.push({ key, members: members.filter((id) => erased.has(id)) });
    };
    const clearPointer = (key: string, sessionId: string | null) => {
      if (sessionId !== null && !foreign.has(sessionId)) toDelete.push(key);
    };
    clearIndex(index, indexed);
    clearPointer(pointer, active);
    if (hasLegacy) {
      clearIndex(legacyIndex, legacyIndexed);
      clearPointer(legacyPointer, legacyActive);
    }
    const ids = [...answerIds];
    const existing = ids.length > 0 ? await watched.exists(...ids.map((id) => keys.answer(id))) : 0;
    for (const answerId of ids) toDelete.push(...answerKeysOf(keys, answerId));
    return { keys: toDelete, removals, answerIds: ids, sessions, answers: existing };
  }
}

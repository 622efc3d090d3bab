import type { ChainableCommander } from 'ioredis';
import { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, SESSION_RESUME_WINDOW_MS } from '../keys';
import { newId } from '../ids';
import { execOrThrow } from '../redis';
import { TenantStore } from './store';

export interface SessionRecord {
  id: string;
  userId: string;
  startedAt: string;
  lastActiveAt: string;
  turnCount: number;
}

export type TurnRole = 'USER' | 'ASSISTANT';

export interface TurnRecord {
  seq: number;
  role: TurnRole;
  text: string;
  at: string;
  answerId?: string;
}
type StoredTurn = Omit<TurnRecord, 'seq'>;

/** A turn as stored in a session's history list (its seq is derived when read). */
export function storedTurnJson(turn: Omit<StoredTurn, 'at'>, now: Date): string {
  const stored: StoredTurn = { role: turn.role, text: turn.text, at: now.toISOString(), ...(turn.answerId ? { answerId: turn.answerId } : {}) };
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
    for (let attempt = 0; attempt < 3; attempt++) {
      const activeId = await this.redis.get(pointerKey);
      if (activeId) {
        const active = await this.get(tenantId, activeId);
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
      await execOrThrow(
        this.redis
          .multi()
          .hset(keys.session(session.id), {
            userId: session.userId,
            startedAt: session.startedAt,
            lastActiveAt: session.lastActiveAt,
            turnCount: 0,
          })
          .pexpire(keys.session(session.id), HISTORY_RETENTION_MS),
      );
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
}

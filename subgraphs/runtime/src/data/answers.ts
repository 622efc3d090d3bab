import type { ChainableCommander } from 'ioredis';
import { HISTORY_RETENTION_MS } from '../keys';
import { execOrThrow } from '../redis';
import { parseJson, TenantStore } from './store';

export type AnswerStatus = 'QUEUED' | 'ANSWERING' | 'DONE' | 'FALLBACK' | 'FAILED';
export const isFinalStatus = (status: AnswerStatus): boolean => status === 'DONE' || status === 'FALLBACK' || status === 'FAILED';

export interface AnswerRecord {
  id: string;
  sessionId: string;
  userId: string;
  question: string;
  text: string;
  status: AnswerStatus;
  sourceIds: string[];
  confidence: number | null;
  needsHuman: boolean;
  engine: string | null;
  clientMessageId: string | null;
  createdAt: string;
  completedAt: string | null;
}

export type AnswerOutcome = Pick<AnswerRecord, 'text' | 'status' | 'sourceIds' | 'confidence' | 'needsHuman' | 'engine'>;

export class AnswerRepository extends TenantStore {
  async get(tenantId: string, id: string): Promise<AnswerRecord | null> {
    return parseJson<AnswerRecord>(await this.redis.get(this.keys(tenantId).answer(id)));
  }

  async getMany(tenantId: string, ids: readonly string[]): Promise<(AnswerRecord | null)[]> {
    if (ids.length === 0) return [];
    const keys = this.keys(tenantId);
    return (await this.redis.mget(ids.map((id) => keys.answer(id)))).map((raw) => parseJson<AnswerRecord>(raw));
  }

  /**
   * Reserves the answer id for a client message id: of any number of retries of one ask, the first
   * wins and the others learn its answer id. Returns the existing id, or null when this call won.
   */
  async reserveClientMessage(tenantId: string, sessionId: string, clientMessageId: string, answerId: string): Promise<string | null> {
    const key = this.keys(tenantId).askByClientMessage(sessionId, clientMessageId);
    const won = await this.redis.set(key, answerId, 'PX', HISTORY_RETENTION_MS, 'NX');
    return won === 'OK' ? null : await this.redis.get(key);
  }

  queueSave(multi: ChainableCommander, tenantId: string, answer: AnswerRecord): void {
    multi.set(this.keys(tenantId).answer(answer.id), JSON.stringify(answer), 'PX', HISTORY_RETENTION_MS);
  }

  /** Increments the tenant's count of answers waiting and returns how many were ahead of this one. */
  async enterQueue(tenantId: string): Promise<number> {
    return Math.max(0, (await this.redis.incr(this.keys(tenantId).pending)) - 1);
  }

  queueLeaveQueue(multi: ChainableCommander, tenantId: string): void {
    multi.decr(this.keys(tenantId).pending);
  }

  async pendingCount(tenantId: string): Promise<number> {
    return Math.max(0, Number((await this.redis.get(this.keys(tenantId).pending)) ?? 0));
  }

  /**
   * Claims an answer for one worker for `ttlMs`, so a redelivered request is not worked on twice
   * at once; a crashed worker's claim expires and another worker takes over.
   */
  async claim(tenantId: string, answerId: string, workerId: string, ttlMs: number): Promise<boolean> {
    const key = this.keys(tenantId).answerClaim(answerId);
    if ((await this.redis.set(key, workerId, 'PX', ttlMs, 'NX')) === 'OK') return true;
    // Our own earlier claim (a retry inside this worker) still counts as ours.
    return (await this.redis.get(key)) === workerId;
  }

  async release(tenantId: string, answerId: string): Promise<void> {
    await this.redis.del(this.keys(tenantId).answerClaim(answerId));
  }

  /** Finishes an answer in one transaction together with whatever else the caller queued. */
  async complete(
    tenantId: string,
    answer: AnswerRecord,
    outcome: AnswerOutcome,
    alsoQueue: (multi: ChainableCommander) => void,
    now = new Date(),
  ): Promise<AnswerRecord> {
    const done: AnswerRecord = { ...answer, ...outcome, completedAt: now.toISOString() };
    const multi = this.redis.multi();
    this.queueSave(multi, tenantId, done);
    this.queueLeaveQueue(multi, tenantId);
    multi.del(this.keys(tenantId).answerClaim(answer.id));
    alsoQueue(multi);
    await execOrThrow(multi);
    return done;
  }
}

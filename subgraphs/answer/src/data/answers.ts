import { execOrThrow, HOUR, parseJson, TenantStore, type ChainableCommander, type Redis } from '@beedesk/runtime';
import { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, storedTurnJson } from '@beedesk/session/data';

/** How long the text streamed so far is kept, so a worker taking over can continue it. */
const STREAM_TTL_MS = HOUR;

/**
 * Completes an answer only while the caller still holds its claim: the fence that makes a stalled
 * worker whose claim expired (and was taken over) unable to write a second answer or turn.
 * Writes the answer, the assistant turn (push, trim, expire, count), leaves the queue, and drops
 * the claim and the stream progress, all atomically. Keys share the tenant's hash slot.
 */
const COMPLETE_IF_CLAIMED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HINCRBY', KEYS[4], 'turnCount', 1) end
redis.call('ZREM', KEYS[5], ARGV[6])
redis.call('DEL', KEYS[1], KEYS[6], KEYS[7], KEYS[8])
redis.call('PEXPIRE', KEYS[9], ARGV[3])
redis.call('ZADD', KEYS[10], 'XX', ARGV[7], ARGV[8])
redis.call('PEXPIRE', KEYS[10], ARGV[3])
return 1`;

const APPEND_IF_CLAIMED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('APPEND', KEYS[2], ARGV[2])
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return seq`;

/** Joins the tenant's line at its end (a per-tenant counter orders arrivals) and returns the rank. */
const ENTER_QUEUE = `
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], 'NX', n, ARGV[1])
return redis.call('ZRANK', KEYS[1], ARGV[1])`;

/**
 * Claims an answer that still exists: once erased (deleteMyData, eraseTenant) no worker can claim it
 * again, so a worker that was answering it cannot re-create its keys. 1 when the claim is ours.
 */
const CLAIM_IF_EXISTS = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0`;

/** Counts a delivery while the caller holds the claim; -1 when it does not (nothing is written). */
const COUNT_ATTEMPT_IF_CLAIMED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return n`;

const REFRESH_IF_CLAIMED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

interface AnswerScripts {
  beedeskCompleteIfClaimed(...args: (string | number)[]): Promise<number>;
  beedeskAppendIfClaimed(...args: (string | number)[]): Promise<number>;
  beedeskEnterQueue(...args: (string | number)[]): Promise<number>;
  beedeskRefreshIfClaimed(...args: (string | number)[]): Promise<number>;
  beedeskClaimIfExists(...args: (string | number)[]): Promise<number>;
  beedeskCountAttemptIfClaimed(...args: (string | number)[]): Promise<number>;
}

function withScripts(redis: Redis): Redis & AnswerScripts {
  const scripted = redis as Redis & Partial<AnswerScripts>;
  if (!scripted.beedeskCompleteIfClaimed) {
    redis.defineCommand('beedeskCompleteIfClaimed', { numberOfKeys: 10, lua: COMPLETE_IF_CLAIMED });
    redis.defineCommand('beedeskClaimIfExists', { numberOfKeys: 2, lua: CLAIM_IF_EXISTS });
    redis.defineCommand('beedeskCountAttemptIfClaimed', { numberOfKeys: 2, lua: COUNT_ATTEMPT_IF_CLAIMED });
    redis.defineCommand('beedeskRefreshIfClaimed', { numberOfKeys: 1, lua: REFRESH_IF_CLAIMED });
    redis.defineCommand('beedeskAppendIfClaimed', { numberOfKeys: 3, lua: APPEND_IF_CLAIMED });
    redis.defineCommand('beedeskEnterQueue', { numberOfKeys: 2, lua: ENTER_QUEUE });
  }
  return scripted as Redis & AnswerScripts;
}

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
  private readonly scripts: Redis & AnswerScripts;

  constructor(redis: Redis, prefix: string) {
    super(redis, prefix);
    this.scripts = withScripts(redis);
  }

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
    const keys = this.keys(tenantId);
    const key = keys.askByClientMessage(sessionId, clientMessageId);
    // The session's erasure index of its ask keys is written with the reservation and lives as long.
    const [won] = await execOrThrow(
      this.redis
        .multi()
        .set(key, answerId, 'PX', HISTORY_RETENTION_MS, 'NX')
        .sadd(keys.sessionAsks(sessionId), clientMessageId)
        .pexpire(keys.sessionAsks(sessionId), HISTORY_RETENTION_MS),
    );
    return won === 'OK' ? null : await this.redis.get(key);
  }

  queueForgetClientMessage(multi: ChainableCommander, tenantId: string, sessionId: string, clientMessageId: string): void {
    multi.del(this.keys(tenantId).askByClientMessage(sessionId, clientMessageId));
  }

  /** Stores the answer and indexes it under its session (for erasure), both kept 7 days. */
  queueSave(multi: ChainableCommander, tenantId: string, answer: AnswerRecord): void {
    const keys = this.keys(tenantId);
    multi
      .set(keys.answer(answer.id), JSON.stringify(answer), 'PX', HISTORY_RETENTION_MS)
      .sadd(keys.sessionAnswers(answer.sessionId), answer.id)
      .pexpire(keys.sessionAnswers(answer.sessionId), HISTORY_RETENTION_MS);
  }

  /**
   * Puts the answer at the end of the tenant's waiting line (a sorted set by arrival, so positions
   * stay exact as answers finish in any order) and returns how many of the tenant's questions are ahead.
   */
  async enterQueue(tenantId: string, answerId: string): Promise<number> {
    const keys = this.keys(tenantId);
    return Number(await this.scripts.beedeskEnterQueue(keys.pending, keys.pendingSeq, answerId));
  }

  queueLeaveQueue(multi: ChainableCommander, tenantId: string, answerId: string): void {
    multi.zrem(this.keys(tenantId).pending, answerId);
  }

  async pendingCount(tenantId: string): Promise<number> {
    return this.redis.zcard(this.keys(tenantId).pending);
  }

  /** The first `limit` waiting answers of the tenant, with their positions (for QUEUED updates). */
  async nextWaiting(tenantId: string, limit: number): Promise<{ answerId: string; sessionId: string; position: number }[]> {
    const ids = await this.redis.zrange(this.keys(tenantId).pending, 0, limit - 1);
    const records = await this.getMany(tenantId, ids);
    return records.flatMap((record, position) =>
      record && !isFinalStatus(record.status) ? [{ answerId: record.id, sessionId: record.sessionId, position }] : [],
    );
  }

  /**
   * Claims an answer for one worker for `ttlMs`, so a redelivered request is not worked on twice
   * at once; a crashed worker's claim expires and another worker takes over.
   */
  async claim(tenantId: string, answerId: string, workerId: string, ttlMs: number): Promise<boolean> {
    const keys = this.keys(tenantId);
    // Our own earlier claim (a retry inside this worker) still counts as ours; an erased answer is never claimed.
    return (await this.scripts.beedeskClaimIfExists(keys.answerClaim(answerId), keys.answer(answerId), workerId, ttlMs)) === 1;
  }

  /** Extends our claim while we work; false when it is no longer ours. */
  async refreshClaim(tenantId: string, answerId: string, workerId: string, ttlMs: number): Promise<boolean> {
    return (await this.scripts.beedeskRefreshIfClaimed(this.keys(tenantId).answerClaim(answerId), workerId, ttlMs)) === 1;
  }

  async release(tenantId: string, answerId: string): Promise<void> {
    await this.redis.del(this.keys(tenantId).answerClaim(answerId));
  }

  /**
   * Records a streamed piece of text while `workerId` holds the claim; returns its sequence number
   * (1, 2, …), or null when the claim is no longer ours (another worker took over: stop streaming).
   */
  async appendStream(tenantId: string, answerId: string, workerId: string, delta: string): Promise<number | null> {
    const keys = this.keys(tenantId);
    const seq = await this.scripts.beedeskAppendIfClaimed(
      keys.answerClaim(answerId),
      keys.answerStream(answerId),
      keys.answerStreamSeq(answerId),
      workerId,
      delta,
      STREAM_TTL_MS,
    );
    return seq < 0 ? null : seq;
  }

  /**
   * Counts deliveries of an answer's request (kept an hour) while `workerId` holds the claim; a poison
   * request is given up after a few. Null when the claim is no longer ours (nothing is written).
   */
  async recordAttempt(tenantId: string, answerId: string, workerId: string): Promise<number | null> {
    const keys = this.keys(tenantId);
    const attempts = await this.scripts.beedeskCountAttemptIfClaimed(
      keys.answerClaim(answerId),
      keys.answerAttempts(answerId),
      workerId,
      STREAM_TTL_MS,
    );
    return attempts < 0 ? null : attempts;
  }

  /** What earlier workers already streamed of this answer. */
  async streamProgress(tenantId: string, answerId: string): Promise<{ text: string; seq: number }> {
    const keys = this.keys(tenantId);
    const [text, seq] = await this.redis.mget(keys.answerStream(answerId), keys.answerStreamSeq(answerId));
    return { text: text ?? '', seq: Number(seq ?? 0) };
  }

  /**
   * Writes the final answer and its assistant turn if `workerId` still holds the claim; returns
   * null when it does not (another worker took over, or the claim lapsed: claim again, then retry).
   */
  async completeClaimed(
    tenantId: string,
    answer: AnswerRecord,
    outcome: AnswerOutcome,
    workerId: string,
    now = new Date(),
  ): Promise<AnswerRecord | null> {
    const keys = this.keys(tenantId);
    const done: AnswerRecord = { ...answer, ...outcome, completedAt: now.toISOString() };
    const turn = storedTurnJson({ role: 'ASSISTANT', text: done.text, answerId: answer.id }, now);
    const written = await this.scripts.beedeskCompleteIfClaimed(
      keys.answerClaim(answer.id),
      keys.answer(answer.id),
      keys.turns(answer.sessionId),
      keys.session(answer.sessionId),
      keys.pending,
      keys.answerStream(answer.id),
      keys.answerStreamSeq(answer.id),
      keys.answerAttempts(answer.id),
      keys.sessionAnswers(answer.sessionId),
      keys.userSessions(answer.userId),
      workerId,
      JSON.stringify(done),
      HISTORY_RETENTION_MS,
      turn,
      HISTORY_MAX_TURNS,
      answer.id,
      now.getTime(),
      answer.sessionId,
    );
    return written === 1 ? done : null;
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
    this.queueLeaveQueue(multi, tenantId, answer.id);
    multi.del(this.keys(tenantId).answerClaim(answer.id));
    alsoQueue(multi);
    await execOrThrow(multi);
    return done;
  }
}

import {
  execOrThrow,
  outboxTenantsKey,
  parseJson,
  TenantStore,
  type ChainableCommander,
  type InferenceRequest,
  type Redis,
} from '@beedesk/runtime';
import { customerMessageEntry, LOG_EVENT_LUA, type ConversationState } from '@beedesk/handoff/data';
import { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, SESSION_RESUME_WINDOW_MS, storedTurnJson } from '@beedesk/session/data';
import { AnswerStatsRepository, latencyField, statsLua, type StatCounter } from './stats';

/**
 * How long the text streamed so far and the delivery count are kept: as long as the answer itself,
 * because a redelivery can come as long as Kafka keeps the request (days), and a late one must
 * continue the stream at the next `seq`, never restart it at 1.
 */
const STREAM_TTL_MS = HISTORY_RETENTION_MS;

/**
 * Shared head of the claim-fenced scripts (KEYS[1] claim, KEYS[2] answer, ARGV[1] worker, ARGV[2]
 * claim TTL). An answer is open while QUEUED or ANSWERING; the status is searched in the stored JSON,
 * where a quote inside any text is escaped, so only the status field itself can match.
 * `hold()` keeps our claim, or takes it again when it lapsed and nobody else holds it (Redis stalled,
 * the event loop blocked): a lapse alone never makes a worker give an answer up.
 */
const HOLD = `
local function is_open(json)
  if not json then return false end
  return string.find(json, '"status":"QUEUED"', 1, true) ~= nil or string.find(json, '"status":"ANSWERING"', 1, true) ~= nil
end
local function hold()
  local owner = redis.call('GET', KEYS[1])
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return true
  end
  if owner then return false end
  if not is_open(redis.call('GET', KEYS[2])) then return false end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return true
end
`;

/** SET that keeps the key's expiry (PTTL then PX: the in-process stand-in has no KEEPTTL). */
const SET_KEEPING_TTL = `
local function set_keeping_ttl(key, value)
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then redis.call('SET', key, value, 'PX', ttl) else redis.call('SET', key, value) end
end
`;

/** 1: the claim is ours; 0: another worker holds it; -1: the answer is final or gone (erased). */
const CLAIM = `${HOLD}
if not is_open(redis.call('GET', KEYS[2])) then return -1 end
if hold() then return 1 end
return 0`;

const REFRESH = `${HOLD}
if hold() then return 1 end
return 0`;

/** Compare-and-delete: a stale worker never drops the claim of the worker that took over. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Notes an unsure answer in the tenant's list for staff (KEYS[1]) only while the answer (KEYS[2]) exists:
 * a customer erased between the answer's completion and this note must not leave its id behind. ARGV:
 * score (ms), answer id, how many entries to keep, retention (ms). 1 when noted, 0 when the answer is gone.
 */
const NOTE_UNSURE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/**
 * Appends a streamed piece under our claim; -1: not ours. The first piece of an answer (and only it: the
 * status moves once) turns QUEUED into ANSWERING, stamps `firstTokenAt` (ARGV[5]) and counts its ask →
 * first token latency bin (ARGV[6]) into the tenant's statistics (KEYS[5..6], retentions ARGV[7..8]).
 */
const APPEND = `${HOLD}${SET_KEEPING_TTL}${statsLua(5, 7)}
if not hold() then return -1 end
redis.call('APPEND', KEYS[3], ARGV[3])
local seq = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
local json = redis.call('GET', KEYS[2])
local s, e = string.find(json, '"status":"QUEUED"', 1, true)
if s then
  set_keeping_ttl(KEYS[2], string.sub(json, 1, s - 1) .. '"status":"ANSWERING","firstTokenAt":"' .. ARGV[5] .. '"' .. string.sub(json, e + 1))
  count_stat(ARGV[6])
end
return seq`;

/** Counts a delivery while the caller holds (or takes again) the claim; -1 when it cannot (nothing is written). */
const COUNT_ATTEMPT = `${HOLD}
if not hold() then return -1 end
local n = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return n`;

/**
 * Completes an open answer only under our claim: the fence that makes a stalled worker whose claim
 * was taken over unable to write a second answer or turn, and a final answer never overwritten.
 * Writes the answer, the assistant turn (push, trim, expire, count), leaves the line and the outbox,
 * and drops the claim and the stream progress, all atomically. Keys share the tenant's hash slot.
 * Statistics (KEYS[13..14], retentions ARGV[13..14]): the outcome (ARGV[10]) and, for an answer that
 * streamed nothing (its whole text arrives now), the latency bin ARGV[11] with `firstTokenAt` = ARGV[12].
 * ARGV[3] is the answer JSON without `firstTokenAt`; the stored one's (set by APPEND) or ARGV[12] is
 * added. Returns the answer's firstTokenAt, or 0 when nothing was written.
 */
const COMPLETE = `${HOLD}${statsLua(13, 13)}
local stored = redis.call('GET', KEYS[2])
if not is_open(stored) or not hold() then return 0 end
local first = string.match(stored, '"firstTokenAt":"([^"]*)"')
if not first then
  first = ARGV[12]
  count_stat(ARGV[11])
end
count_stat(ARGV[10])
redis.call('SET', KEYS[2], string.sub(ARGV[3], 1, -2) .. ',"firstTokenAt":"' .. first .. '"}', 'PX', ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HINCRBY', KEYS[4], 'turnCount', 1) end
redis.call('ZREM', KEYS[5], ARGV[7])
redis.call('DEL', KEYS[1], KEYS[6], KEYS[7], KEYS[8])
redis.call('PEXPIRE', KEYS[9], ARGV[4])
redis.call('ZADD', KEYS[10], 'XX', ARGV[8], ARGV[9])
redis.call('PEXPIRE', KEYS[10], ARGV[4])
redis.call('ZREM', KEYS[11], ARGV[7])
redis.call('HDEL', KEYS[12], ARGV[7])
return first`;

/**
 * Gives up on an answer that never reached the queue: only QUEUED (no worker claimed or streamed it)
 * becomes FAILED, so a final or in-progress answer is never overwritten. Leaves the line and the outbox,
 * and counts a failure with its latency bin (ARGV[3]; the failure text is the first the asker sees) into
 * the statistics (KEYS[6..7], retentions ARGV[4..5]).
 * 1: failed now; 0: it was not QUEUED or is claimed (then it reached a worker).
 */
const FAIL_IF_QUEUED = `${SET_KEEPING_TTL}${statsLua(6, 4)}
local json = redis.call('GET', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 or not json or string.find(json, '"status":"QUEUED"', 1, true) == nil then return 0 end
set_keeping_ttl(KEYS[2], ARGV[1])
count_stat('failed')
count_stat(ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
return 1`;

/**
 * The whole of \`ask\` in one step: the clientMessageId reservation (a retry finds the answer it
 * names and its place in the line), the QUEUED answer and its erasure index, the user's turn with
 * the session activity (as SessionRepository.queueTurn writes a USER turn), the place in the
 * tenant's waiting line, and the outbox entry the sweeper re-sends until Kafka has the request.
 * KEYS: 1 ask-by-client-message, 2 session asks, 3 answer, 4 session answers, 5 turns, 6 session,
 * 7 active-session pointer, 8 user sessions, 9 waiting line, 10 line counter, 11 outbox, 12 outbox requests.
 * ARGV: 1 clientMessageId ('' for none), 2 answer id, 3 answer JSON, 4 retention, 5 turn JSON,
 * 6 max turns, 7 now (ISO), 8 now (ms), 9 resume window, 10 session id, 11 request JSON,
 * 12 answer key prefix (the found answer is in the same hash slot), 13 the answer JSON for a conversation
 * with a person (status WITH_HUMAN). KEYS[13] is the conversation's ownership (the handoff package's
 * record): while it is WAITING_FOR_HUMAN or WITH_HUMAN the question is stored as a turn with a
 * WITH_HUMAN answer and joins neither the line nor the outbox, so nothing reaches Kafka or the engine;
 * and in the same step it is logged for staff in the tenant's handoff event log (KEYS 14 log, 15 log
 * seq; ARGV 14/15 the entry around its turn seq, 16 the log's length: customerMessageEntry of the handoff
 * package), the conversation's lastCustomerMessageAt set and the customer's typing (KEYS 16) switched
 * off: a process dying after the write cannot leave a turn the console never sees.
 * A new question (not a retry) counts as an ask, and as `withHuman` for a person, in the statistics
 * (KEYS[17..18], retentions ARGV[17..18]). All in the tenant's hash slot, as every key here.
 * Returns {answer id, rank or -1}, or for a conversation with a person {answer id, -2, turn seq, log
 * cursor, its state}.
 */
const ASK = `${LOG_EVENT_LUA}${statsLua(17, 17)}
if ARGV[1] ~= '' then
  local existing = redis.call('GET', KEYS[1])
  if existing and redis.call('EXISTS', ARGV[12] .. existing) == 1 then
    local rank = redis.call('ZRANK', KEYS[9], existing)
    if not rank then rank = -1 end
    return {existing, rank}
  end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
local owner = redis.call('HGET', KEYS[13], 'state')
local human = owner == 'WAITING_FOR_HUMAN' or owner == 'WITH_HUMAN'
count_stat('asks')
if human then count_stat('withHuman') end
if human then redis.call('SET', KEYS[3], ARGV[13], 'PX', ARGV[4]) else redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) end
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
redis.call('RPUSH', KEYS[5], ARGV[5])
redis.call('LTRIM', KEYS[5], -tonumber(ARGV[6]), -1)
redis.call('PEXPIRE', KEYS[5], ARGV[4])
local turn_seq = redis.call('HINCRBY', KEYS[6], 'turnCount', 1)
if turn_seq == 1 then count_stat('conversations') end
redis.call('HSET', KEYS[6], 'lastActiveAt', ARGV[7])
redis.call('PEXPIRE', KEYS[6], ARGV[4])
redis.call('SET', KEYS[7], ARGV[10], 'PX', ARGV[9])
redis.call('ZADD', KEYS[8], ARGV[8], ARGV[10])
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. (tonumber(ARGV[8]) - tonumber(ARGV[4])))
redis.call('PEXPIRE', KEYS[8], ARGV[4])
if human then
  local cursor = log_event(KEYS[14], KEYS[15], ARGV[14] .. turn_seq .. ARGV[15], ARGV[16])
  redis.call('HSET', KEYS[13], 'lastCustomerMessageAt', ARGV[7])
  redis.call('DEL', KEYS[16])
  return {ARGV[2], -2, turn_seq, cursor, owner}
end
local n = redis.call('INCR', KEYS[10])
redis.call('ZADD', KEYS[9], 'NX', n, ARGV[2])
redis.call('ZADD', KEYS[11], ARGV[8], ARGV[2])
redis.call('HSET', KEYS[12], ARGV[2], ARGV[11])
redis.call('PEXPIRE', KEYS[11], ARGV[4])
redis.call('PEXPIRE', KEYS[12], ARGV[4])
return {ARGV[2], redis.call('ZRANK', KEYS[9], ARGV[2])}`;

/** Joins the tenant's line at its end (a per-tenant counter orders arrivals) and returns the rank. */
const ENTER_QUEUE = `
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], 'NX', n, ARGV[1])
return redis.call('ZRANK', KEYS[1], ARGV[1])`;

type Script<R> = (...args: (string | number)[]) => Promise<R>;
interface AnswerScripts {
  beedeskAnswerClaim: Script<number>;
  beedeskAnswerRefresh: Script<number>;
  beedeskAnswerRelease: Script<number>;
  beedeskAnswerAppend: Script<number>;
  beedeskAnswerCountAttempt: Script<number>;
  beedeskAnswerComplete: Script<number | string>;
  beedeskAnswerFailIfQueued: Script<number>;
  beedeskAsk: Script<[string, number, number?, string?, string?]>;
  beedeskEnterQueue: Script<number>;
  beedeskNoteUnsure: Script<number>;
}

function withScripts(redis: Redis): Redis & AnswerScripts {
  const scripted = redis as Redis & Partial<AnswerScripts>;
  if (!scripted.beedeskAnswerClaim) {
    redis.defineCommand('beedeskAnswerClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('beedeskAnswerRefresh', { numberOfKeys: 2, lua: REFRESH });
    redis.defineCommand('beedeskAnswerRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('beedeskAnswerAppend', { numberOfKeys: 6, lua: APPEND });
    redis.defineCommand('beedeskAnswerCountAttempt', { numberOfKeys: 3, lua: COUNT_ATTEMPT });
    redis.defineCommand('beedeskAnswerComplete', { numberOfKeys: 14, lua: COMPLETE });
    redis.defineCommand('beedeskAnswerFailIfQueued', { numberOfKeys: 7, lua: FAIL_IF_QUEUED });
    redis.defineCommand('beedeskAsk', { numberOfKeys: 18, lua: ASK });
    redis.defineCommand('beedeskEnterQueue', { numberOfKeys: 2, lua: ENTER_QUEUE });
    redis.defineCommand('beedeskNoteUnsure', { numberOfKeys: 2, lua: NOTE_UNSURE });
  }
  return scripted as Redis & AnswerScripts;
}

/** Most entries the unsure-answers list keeps per tenant. */
export const UNSURE_LIST_MAX = 500;

/** WITH_HUMAN: asked while a person owned the conversation; delivered to staff, never to the engine (final). */
export type AnswerStatus = 'QUEUED' | 'ANSWERING' | 'DONE' | 'FALLBACK' | 'FAILED' | 'WITH_HUMAN';
export const isFinalStatus = (status: AnswerStatus): boolean =>
  status === 'DONE' || status === 'FALLBACK' || status === 'FAILED' || status === 'WITH_HUMAN';

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
  /**
   * When the asker saw the first of the answer's text: its first streamed piece or, for an answer final
   * without streaming (fallback, failure), its completion. Set by the data scripts only (never present
   * while QUEUED); absent for WITH_HUMAN answers and answers stored before it existed.
   */
  firstTokenAt?: string | null;
  /** Why a FAILED answer failed (e.g. `NOT_QUEUED`), for staff and logs; absent otherwise. */
  failureReason?: string | null;
}

export type AnswerOutcome = Pick<AnswerRecord, 'text' | 'status' | 'sourceIds' | 'confidence' | 'needsHuman' | 'engine'>;

/** The outcome counter of a final answer in the tenant's statistics. */
const outcomeCounter = (outcome: Pick<AnswerOutcome, 'status' | 'needsHuman'>): StatCounter =>
  outcome.status === 'FALLBACK' ? 'fallback' : outcome.status === 'FAILED' ? 'failed' : outcome.needsHuman ? 'unsure' : 'answered';

const latencySince = (createdAt: string, now: Date): string => latencyField(now.getTime() - Date.parse(createdAt));

export class AnswerRepository extends TenantStore {
  private readonly scripts: Redis & AnswerScripts;
  private readonly stats: AnswerStatsRepository;

  constructor(redis: Redis, prefix: string) {
    super(redis, prefix);
    this.scripts = withScripts(redis);
    this.stats = new AnswerStatsRepository(redis, prefix);
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
   * Accepts a question in one atomic step (see ASK): with a clientMessageId already used in this
   * session, nothing is written and the answer it names is returned with its place in the line.
   * The tenant is first added to the outbox index, so the sweeper finds the entry even if this
   * process dies right after the write.
   */
  async createAsk(
    tenantId: string,
    answer: AnswerRecord,
    request: InferenceRequest,
    now: Date,
  ): Promise<{
    answer: AnswerRecord;
    queuePosition: number;
    created: boolean;
    /** With (or waiting for) a person: the turn, the staff log entry it got and the conversation's state. */
    withHuman: { turnSeq: number; cursor: string; state: ConversationState } | null;
  }> {
    const keys = this.keys(tenantId);
    const cmid = answer.clientMessageId ?? '';
    await this.redis.zadd(outboxTenantsKey(this.prefix), now.getTime(), tenantId);
    const forHuman: AnswerRecord = { ...answer, status: 'WITH_HUMAN', completedAt: now.toISOString() };
    const entry = customerMessageEntry(answer.sessionId, {
      text: answer.question,
      at: now.toISOString(),
      author: { kind: 'CUSTOMER', id: answer.userId, displayName: null },
    });
    const stats = this.stats.target(tenantId, now);
    const [id, rank, turnSeq, cursor, state] = await this.scripts.beedeskAsk(
      keys.askByClientMessage(answer.sessionId, cmid),
      keys.sessionAsks(answer.sessionId),
      keys.answer(answer.id),
      keys.sessionAnswers(answer.sessionId),
      keys.turns(answer.sessionId),
      keys.session(answer.sessionId),
      keys.activeSession(answer.userId),
      keys.userSessions(answer.userId),
      keys.pending,
      keys.pendingSeq,
      keys.outbox,
      keys.outboxRequests,
      keys.handoff(answer.sessionId),
      keys.handoffLog,
      keys.handoffLogSeq,
      keys.handoffTyping(answer.sessionId, 'customer'),
      ...stats.keys,
      cmid,
      answer.id,
      JSON.stringify(answer),
      HISTORY_RETENTION_MS,
      storedTurnJson({ role: 'USER', text: answer.question, answerId: answer.id }, now),
      HISTORY_MAX_TURNS,
      now.toISOString(),
      now.getTime(),
      SESSION_RESUME_WINDOW_MS,
      answer.sessionId,
      JSON.stringify(request),
      keys.answer(''),
      JSON.stringify(forHuman),
      entry.head,
      entry.tail,
      entry.max,
      ...stats.retentions,
    );
    const queuePosition = Math.max(0, Number(rank));
    if (id === answer.id && Number(rank) === -2) {
      const withHuman = { turnSeq: Number(turnSeq), cursor: String(cursor), state: state as ConversationState };
      return { answer: forHuman, queuePosition: 0, created: true, withHuman };
    }
    if (id === answer.id) return { answer, queuePosition, created: true, withHuman: null };
    const existing = await this.get(tenantId, id);
    if (!existing) throw new Error(`answer ${id} of a client message vanished`);
    return { answer: existing, queuePosition, created: false, withHuman: null };
  }

  /** Kafka has the request: the sweeper need not send it again. */
  async outboxAck(tenantId: string, answerId: string): Promise<void> {
    const keys = this.keys(tenantId);
    await execOrThrow(this.redis.multi().zrem(keys.outbox, answerId).hdel(keys.outboxRequests, answerId));
  }

  /** Outbox entries written before `olderThan` (ms), oldest first, with their requests. */
  async outboxDue(
    tenantId: string,
    olderThan: number,
    limit: number,
  ): Promise<{ answerId: string; since: number; request: InferenceRequest | null }[]> {
    const keys = this.keys(tenantId);
    const flat = await this.redis.zrangebyscore(keys.outbox, '-inf', olderThan, 'WITHSCORES', 'LIMIT', 0, limit);
    const ids = flat.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) return [];
    const requests = await this.redis.hmget(keys.outboxRequests, ...ids);
    return ids.map((answerId, i) => ({ answerId, since: Number(flat[i * 2 + 1]), request: parseJson<InferenceRequest>(requests[i]) }));
  }

  async outboxSize(tenantId: string): Promise<number> {
    return this.redis.zcard(this.keys(tenantId).outbox);
  }

  /** Tenants that may have outbox entries (the sweeper's work list; a platform key, tenant ids only). */
  async outboxTenants(limit = 1000): Promise<string[]> {
    return this.redis.zrange(outboxTenantsKey(this.prefix), 0, limit - 1);
  }

  /** Drops a tenant from the work list if it asked nothing since `before` (ms) — its outbox was seen empty. */
  async forgetOutboxTenant(tenantId: string, before: number): Promise<void> {
    const key = outboxTenantsKey(this.prefix);
    const score = await this.redis.zscore(key, tenantId);
    // A concurrent ask re-adds with a newer score; the window left is covered by the next ask's ZADD.
    if (score !== null && Number(score) < before) await this.redis.zrem(key, tenantId);
  }

  /** One sweeper per tenant at a time, over all answer replicas (expires by itself if its holder dies). */
  async lockOutboxSweep(tenantId: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys(tenantId).outboxSweepLock, holder, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlockOutboxSweep(tenantId: string, holder: string): Promise<void> {
    await this.scripts.beedeskAnswerRelease(this.keys(tenantId).outboxSweepLock, holder);
  }

  /**
   * Turns a QUEUED answer that never reached the queue into FAILED with `reason` (see FAIL_IF_QUEUED);
   * null when it was no longer QUEUED (a worker has it, or it is final).
   */
  async failIfQueued(tenantId: string, answer: AnswerRecord, text: string, reason: string, now = new Date()): Promise<AnswerRecord | null> {
    const keys = this.keys(tenantId);
    const failed: AnswerRecord = {
      ...answer,
      text,
      status: 'FAILED',
      needsHuman: true,
      failureReason: reason,
      completedAt: now.toISOString(),
    };
    failed.firstTokenAt = failed.completedAt;
    const stats = this.stats.target(tenantId, now);
    const written = await this.scripts.beedeskAnswerFailIfQueued(
      keys.answerClaim(answer.id),
      keys.answer(answer.id),
      keys.pending,
      keys.outbox,
      keys.outboxRequests,
      ...stats.keys,
      JSON.stringify(failed),
      answer.id,
      latencySince(answer.createdAt, now),
      ...stats.retentions,
    );
    return written === 1 ? failed : null;
  }

  /** Stores the answer and indexes it under its session (for erasure), both kept 7 days (test fixtures; `ask` uses createAsk). */
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
   * Claims an open answer for one worker for `ttlMs`, so a redelivered request is not worked on twice
   * at once; a crashed worker's claim expires and another worker takes over. Our own earlier claim
   * (a retry inside this worker) still counts as ours. `closed`: final or erased, nothing to do.
   */
  async claim(tenantId: string, answerId: string, workerId: string, ttlMs: number): Promise<'ours' | 'taken' | 'closed'> {
    const keys = this.keys(tenantId);
    const result = await this.scripts.beedeskAnswerClaim(keys.answerClaim(answerId), keys.answer(answerId), workerId, ttlMs);
    return result === 1 ? 'ours' : result === 0 ? 'taken' : 'closed';
  }

  /** Extends our claim while we work, taking it again if it lapsed and nobody holds it; false when another worker does. */
  async refreshClaim(tenantId: string, answerId: string, workerId: string, ttlMs: number): Promise<boolean> {
    const keys = this.keys(tenantId);
    return (await this.scripts.beedeskAnswerRefresh(keys.answerClaim(answerId), keys.answer(answerId), workerId, ttlMs)) === 1;
  }

  /** Drops the claim only if it is still `workerId`'s. */
  async release(tenantId: string, answerId: string, workerId: string): Promise<void> {
    await this.scripts.beedeskAnswerRelease(this.keys(tenantId).answerClaim(answerId), workerId);
  }

  /** Who holds the claim now (null: nobody). */
  async claimHolder(tenantId: string, answerId: string): Promise<string | null> {
    return this.redis.get(this.keys(tenantId).answerClaim(answerId));
  }

  /**
   * Records a streamed piece of text under `workerId`'s claim; returns its sequence number (1, 2, …),
   * or null when another worker holds the claim or the answer is closed (stop streaming). The answer's
   * first piece stamps `firstTokenAt` and counts its ask → first token time (from `answer.createdAt`).
   */
  async appendStream(
    tenantId: string,
    answer: Pick<AnswerRecord, 'id' | 'createdAt'>,
    workerId: string,
    delta: string,
    claimTtlMs: number,
    now = new Date(),
  ): Promise<number | null> {
    const keys = this.keys(tenantId);
    const answerId = answer.id;
    const stats = this.stats.target(tenantId, now);
    const seq = await this.scripts.beedeskAnswerAppend(
      keys.answerClaim(answerId),
      keys.answer(answerId),
      keys.answerStream(answerId),
      keys.answerStreamSeq(answerId),
      ...stats.keys,
      workerId,
      claimTtlMs,
      delta,
      STREAM_TTL_MS,
      now.toISOString(),
      latencySince(answer.createdAt, now),
      ...stats.retentions,
    );
    return seq < 0 ? null : seq;
  }

  /**
   * Counts deliveries of an answer's request (kept as long as the answer) under `workerId`'s claim;
   * a poison request is given up after a few. Null when the claim is not ours (nothing is written).
   */
  async recordAttempt(tenantId: string, answerId: string, workerId: string, claimTtlMs: number): Promise<number | null> {
    const keys = this.keys(tenantId);
    const attempts = await this.scripts.beedeskAnswerCountAttempt(
      keys.answerClaim(answerId),
      keys.answer(answerId),
      keys.answerAttempts(answerId),
      workerId,
      claimTtlMs,
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
   * For a client that lost its stream: the text streamed so far and its last seq, read in one MGET with
   * the answer (completion deletes the progress and writes the final answer atomically, so the two agree).
   * Null when the answer is final, gone, or nothing was streamed yet.
   */
  async streamedSoFar(tenantId: string, answerId: string): Promise<{ text: string; seq: number } | null> {
    const keys = this.keys(tenantId);
    const [answer, text, seq] = await this.redis.mget(keys.answer(answerId), keys.answerStream(answerId), keys.answerStreamSeq(answerId));
    const record = parseJson<AnswerRecord>(answer);
    if (!record || isFinalStatus(record.status) || !seq || Number(seq) <= 0) return null;
    return { text: text ?? '', seq: Number(seq) };
  }

  /**
   * Writes the final answer and its assistant turn if the answer is still open and `workerId` holds
   * (or can take again) its claim; null otherwise (another worker has it, or it is final).
   */
  async completeClaimed(
    tenantId: string,
    answer: AnswerRecord,
    outcome: AnswerOutcome,
    workerId: string,
    claimTtlMs: number,
    now = new Date(),
  ): Promise<AnswerRecord | null> {
    const keys = this.keys(tenantId);
    const done: AnswerRecord = { ...answer, ...outcome, completedAt: now.toISOString() };
    // The script adds the stored firstTokenAt (or now): never two of the field in the JSON.
    delete done.firstTokenAt;
    const stats = this.stats.target(tenantId, now);
    const turn = storedTurnJson({ role: 'ASSISTANT', text: done.text, answerId: answer.id }, now);
    const written = await this.scripts.beedeskAnswerComplete(
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
      keys.outbox,
      keys.outboxRequests,
      ...stats.keys,
      workerId,
      claimTtlMs,
      JSON.stringify(done),
      HISTORY_RETENTION_MS,
      turn,
      HISTORY_MAX_TURNS,
      answer.id,
      now.getTime(),
      answer.sessionId,
      outcomeCounter(outcome),
      latencySince(answer.createdAt, now),
      now.toISOString(),
      ...stats.retentions,
    );
    return typeof written === 'string' ? { ...done, firstTokenAt: written } : null;
  }

  /**
   * Notes a final answer the engine was unsure about in the tenant's list for staff (idempotent: a
   * redelivered completion adds the same entry). Kept to the newest UNSURE_LIST_MAX, for as long as answers
   * live; an answer erased meanwhile is not noted (one script: the check and the write cannot be split).
   */
  async noteUnsure(tenantId: string, answerId: string, at = new Date()): Promise<boolean> {
    const keys = this.keys(tenantId);
    const noted = await this.scripts.beedeskNoteUnsure(
      keys.unsureAnswers,
      keys.answer(answerId),
      at.getTime(),
      answerId,
      UNSURE_LIST_MAX,
      HISTORY_RETENTION_MS,
    );
    return noted === 1;
  }

  /** The newest `limit` unsure answers, newest first; ids whose answer is gone (erased, expired) are dropped from the list. */
  async recentUnsure(tenantId: string, limit: number): Promise<AnswerRecord[]> {
    const key = this.keys(tenantId).unsureAnswers;
    const ids = await this.redis.zrevrange(key, 0, limit - 1);
    if (ids.length === 0) return [];
    const records = await this.getMany(tenantId, ids);
    const gone = ids.filter((_id, i) => records[i] === null);
    if (gone.length > 0) await this.redis.zrem(key, ...gone);
    return records.filter((r): r is AnswerRecord => r !== null);
  }

  /** Finishes an answer unconditionally (test fixtures only; services use completeClaimed / failIfQueued). */
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

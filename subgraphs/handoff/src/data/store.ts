import { execOrThrow, handoffTenantsKey, newId, TenantStore, type Redis } from '@beedesk/runtime';
import { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, storedTurnJson } from '@beedesk/session/data';
import type {
  AgentRecord,
  AuditRecord,
  ConversationRecord,
  ConversationState,
  HandoffActor,
  HandoffEventKind,
  HandoffEventRecord,
  HandoffReason,
  HandoffSource,
  MessageRecord,
  NoteRecord,
  TypingRecord,
  Unavailability,
} from './records';

/** Entries kept in a tenant's handoff event log (a console further behind gets RESYNC_REQUIRED). */
export const HANDOFF_LOG_MAX = 10_000;

/**
 * Appends one entry to the tenant's event log: the cursor is a per-tenant counter, the entry its JSON
 * with the cursor put first. Shared by every script that logs, `ask`'s included (LOG_EVENT_LUA).
 */
const LOG = `
local function log_event(log_key, seq_key, body, max)
  local n = redis.call('INCR', seq_key)
  local ev = '{"cursor":"' .. n .. '",' .. string.sub(body, 2)
  redis.call('ZADD', log_key, n, ev)
  redis.call('ZREMRANGEBYRANK', log_key, 0, -(tonumber(max) + 1))
  return tostring(n)
end
`;

/**
 * One ownership transition, atomically: the state check (from one of the allowed states; the expected
 * assignee; the new assignee's capacity), the new ownership, the waiting line, the agents' conversation
 * sets, the inbox index, the audit entry and the event log entry. Of concurrent transitions of one
 * conversation exactly one passes the check; the others get CONFLICT.
 * KEYS: 1 conversation, 2 audit, 3 line, 4 inbox, 5 log, 6 log seq, 7 new assignee's conversations, 8 new assignee's record.
 * ARGV: 1 session id, 2 user id, 3 allowed from (",A,B,"), 4 to, 5 reason, 6 expected assignee ('' any),
 * 7 new assignee id, 8 new assignee name, 9 capacity (-1 none), 10 team ('' keep), 11 locale ('' keep),
 * 12 now ISO, 13 now ms, 14 audit JSON (without seq and from), 15 event JSON head (ends before the transition),
 * 16 log max, 17 retention ms. Returns {status, from, audit seq, cursor}.
 */
const TRANSITION = `${LOG}
local st = redis.call('HGET', KEYS[1], 'state')
if not st then st = 'BOT' end
if not string.find(ARGV[3], ',' .. st .. ',', 1, true) then return {'CONFLICT', st, 0, ''} end
local old = redis.call('HGET', KEYS[1], 'assigneeId') or ''
if ARGV[6] ~= '' and old ~= ARGV[6] then return {'NOT_ASSIGNEE', st, 0, ''} end
local to = ARGV[4]
if to == 'WITH_HUMAN' and tonumber(ARGV[9]) >= 0 and old ~= ARGV[7] then
  if redis.call('SCARD', KEYS[7]) >= tonumber(ARGV[9]) then return {'CAPACITY', st, 0, ''} end
end
if old ~= '' and (to ~= 'WITH_HUMAN' or old ~= ARGV[7]) then
  local oldset = redis.call('HGET', KEYS[1], 'assigneeSet')
  if oldset then redis.call('SREM', oldset, ARGV[1]) end
end
redis.call('HSET', KEYS[1], 'state', to, 'reason', ARGV[5], 'since', ARGV[12], 'userId', ARGV[2])
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'locale', ARGV[11]) end
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'team', ARGV[10]) end
if to == 'WAITING_FOR_HUMAN' then
  local ws = redis.call('HGET', KEYS[1], 'waitingSinceMs')
  if not (ARGV[5] == 'AGENT_OFFLINE' and ws) then
    ws = ARGV[13]
    redis.call('HSET', KEYS[1], 'waitingSinceMs', ws, 'waitingSince', ARGV[12])
  end
  redis.call('ZADD', KEYS[3], ws, ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if to == 'WITH_HUMAN' then
  redis.call('HSET', KEYS[1], 'assigneeId', ARGV[7], 'assigneeName', ARGV[8], 'assigneeSet', KEYS[7])
  redis.call('SADD', KEYS[7], ARGV[1])
  redis.call('HSET', KEYS[8], 'lastAssignedAt', ARGV[13])
else
  redis.call('HDEL', KEYS[1], 'assigneeId', 'assigneeName', 'assigneeSet')
end
if to == 'BOT' then
  redis.call('HSET', KEYS[1], 'unsureStreak', 0)
  redis.call('HDEL', KEYS[1], 'team', 'waitingSince', 'waitingSinceMs')
end
redis.call('HDEL', KEYS[1], 'toldUnavailable')
redis.call('PEXPIRE', KEYS[1], ARGV[17])
redis.call('ZADD', KEYS[4], ARGV[13], ARGV[1])
local seq = redis.call('HINCRBY', KEYS[1], 'auditCount', 1)
local entry = '{"seq":' .. seq .. ',"from":"' .. st .. '",' .. string.sub(ARGV[14], 2)
redis.call('RPUSH', KEYS[2], entry)
redis.call('PEXPIRE', KEYS[2], ARGV[17])
local cursor = log_event(KEYS[5], KEYS[6], ARGV[15] .. entry .. '}', ARGV[16])
return {'OK', st, seq, cursor}`;

/**
 * An agent's message: only while WITH_HUMAN and from its assignee (or an admin). Writes the AGENT turn
 * (as the session package formats turns: push, trim, expire, count), the log entry, the idempotency key,
 * and switches the agent's typing off.
 * KEYS: 1 conversation, 2 turns, 3 session, 4 idempotency key, 5 log, 6 log seq, 7 agent typing.
 * ARGV: 1 sender id, 2 admin ('1'/'0'), 3 turn JSON, 4 max turns, 5 retention, 6 event JSON head (ends
 * with `"turnSeq":`), 7 event JSON tail, 8 now ISO, 9 log max, 10 client message id ('' none).
 * Returns {status, turn seq, cursor}.
 */
const AGENT_MESSAGE = `${LOG}
if ARGV[10] ~= '' then
  local previous = redis.call('GET', KEYS[4])
  if previous then return {'DUPLICATE', previous, ''} end
end
local st = redis.call('HGET', KEYS[1], 'state')
if redis.call('EXISTS', KEYS[3]) == 0 then return {'NOT_FOUND', st or 'BOT', ''} end
if st ~= 'WITH_HUMAN' then return {'CONFLICT', st or 'BOT', ''} end
if ARGV[2] ~= '1' and redis.call('HGET', KEYS[1], 'assigneeId') ~= ARGV[1] then return {'NOT_ASSIGNEE', st, ''} end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local seq = redis.call('HINCRBY', KEYS[3], 'turnCount', 1)
local cursor = log_event(KEYS[5], KEYS[6], ARGV[6] .. seq .. ARGV[7], ARGV[9])
if ARGV[10] ~= '' then redis.call('SET', KEYS[4], seq, 'PX', ARGV[5]) end
redis.call('DEL', KEYS[7])
return {'OK', tostring(seq), cursor}`;

/** The Lua function `log_event(log_key, seq_key, body, max)` for a script of another package that logs (ask). */
export const LOG_EVENT_LUA = LOG;

/**
 * A customer's message as a log entry whose turn seq only the writing script knows: the entry's JSON
 * is `head .. turnSeq .. tail`. `ask`'s script stores the turn and logs it in one atomic step.
 */
export function customerMessageEntry(
  sessionId: string,
  message: Omit<MessageRecord, 'turnSeq'>,
): { head: string; tail: string; max: number } {
  const head = `${openEventJson(eventHead('CUSTOMER_MESSAGE', message.at, sessionId), 'message')}{"turnSeq":`;
  const tail = `${JSON.stringify(message).replace(/^\{/, ',')}}`;
  return { head, tail, max: HANDOFF_LOG_MAX };
}

/**
 * A log entry with an optional list push and hash field beside it (customer messages, notes, typing,
 * agent changes). KEYS: 1 log, 2 log seq, 3 list, 4 hash. ARGV: 1 event JSON, 2 log max, 3 list value
 * ('' none), 4 hash field ('' none), 5 hash value, 6 retention ms. Returns the cursor.
 */
const LOG_WITH = `${LOG}
local cursor = log_event(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('RPUSH', KEYS[3], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HSET', KEYS[4], ARGV[4], ARGV[5]) end
return cursor`;

/** HSET of one field while the conversation waits (a transition may have moved it meanwhile). KEYS: 1 conversation. */
const SET_IF_WAITING = `
if redis.call('HGET', KEYS[1], 'state') ~= 'WAITING_FOR_HUMAN' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * A typing indicator that lapsed: only when it is gone and `token` is still the latest switch-on (a
 * refresh or an off replaced it otherwise), the marker is dropped and a TYPING off entry logged.
 * KEYS: 1 typing, 2 lapse marker, 3 log, 4 log seq. ARGV: 1 token, 2 event JSON, 3 log max. Returns the cursor or ''.
 */
const TYPING_LAPSED = `${LOG}
if redis.call('EXISTS', KEYS[1]) == 1 then return '' end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return '' end
redis.call('DEL', KEYS[2])
return log_event(KEYS[3], KEYS[4], ARGV[2], ARGV[3])`;

type Script<R> = (...args: (string | number)[]) => Promise<R>;
interface HandoffScripts {
  beedeskHandoffTransition: Script<[string, string, number, string]>;
  beedeskHandoffAgentMessage: Script<[string, string, string]>;
  beedeskHandoffLog: Script<string>;
  beedeskHandoffSetIfWaiting: Script<number>;
  beedeskHandoffTypingLapsed: Script<string>;
}

function withScripts(redis: Redis): Redis & HandoffScripts {
  const scripted = redis as Redis & Partial<HandoffScripts>;
  if (!scripted.beedeskHandoffTransition) {
    redis.defineCommand('beedeskHandoffTransition', { numberOfKeys: 8, lua: TRANSITION });
    redis.defineCommand('beedeskHandoffAgentMessage', { numberOfKeys: 7, lua: AGENT_MESSAGE });
    redis.defineCommand('beedeskHandoffLog', { numberOfKeys: 4, lua: LOG_WITH });
    redis.defineCommand('beedeskHandoffSetIfWaiting', { numberOfKeys: 1, lua: SET_IF_WAITING });
    redis.defineCommand('beedeskHandoffTypingLapsed', { numberOfKeys: 4, lua: TYPING_LAPSED });
  }
  return scripted as Redis & HandoffScripts;
}

export interface TransitionRequest {
  sessionId: string;
  userId: string;
  from: readonly ConversationState[];
  to: ConversationState;
  reason: HandoffReason;
  source: HandoffSource;
  actor: HandoffActor;
  /** Only when the conversation's assignee is this agent (agents acting on their own conversations). */
  expectedAssignee?: string | null;
  /** WITH_HUMAN: the agent it goes to. */
  assignee?: { id: string; displayName: string } | null;
  /** WITH_HUMAN: refused (CAPACITY) when the assignee already holds this many; omitted: not enforced. */
  capacity?: number | null;
  team?: string | null;
  locale?: string | null;
  comment?: string | null;
}

export type TransitionResult =
  | { status: 'OK'; from: ConversationState; audit: AuditRecord; cursor: string }
  | { status: 'CONFLICT' | 'NOT_ASSIGNEE' | 'CAPACITY'; from: ConversationState };

export type AgentMessageResult =
  | { status: 'OK' | 'DUPLICATE'; message: MessageRecord; cursor: string | null }
  | { status: 'CONFLICT' | 'NOT_ASSIGNEE' | 'NOT_FOUND'; state: ConversationState };

const eventHead = (kind: HandoffEventKind, at: string, conversationId: string | null): Omit<HandoffEventRecord, 'cursor'> => ({
  kind,
  at,
  conversationId,
  transition: null,
  message: null,
  note: null,
  typing: null,
  agentId: null,
});

/** JSON of an event with `field` last and open: the script appends the field's value and the closing brace. */
function openEventJson(event: Omit<HandoffEventRecord, 'cursor'>, field: keyof HandoffEventRecord): string {
  const rest: Record<string, unknown> = { ...event };
  delete rest[field];
  return `${JSON.stringify(rest).slice(0, -1)},"${field}":`;
}

function toConversation(id: string, fields: Record<string, string>): ConversationRecord {
  return {
    id,
    userId: fields['userId'] ?? '',
    state: (fields['state'] as ConversationState | undefined) ?? 'BOT',
    reason: (fields['reason'] as HandoffReason | undefined) ?? null,
    since: fields['since'] ?? null,
    assigneeId: fields['assigneeId'] ?? null,
    assigneeName: fields['assigneeName'] ?? null,
    team: fields['team'] ?? null,
    waitingSince: fields['waitingSince'] ?? null,
    lastCustomerMessageAt: fields['lastCustomerMessageAt'] ?? null,
    locale: fields['locale'] ?? null,
    unsureStreak: Number(fields['unsureStreak'] ?? 0),
    toldUnavailable: (fields['toldUnavailable'] as Unavailability | undefined) ?? null,
  };
}

function toAgent(id: string, fields: Record<string, string>): AgentRecord {
  let teams: string[] = [];
  try {
    teams = fields['teams'] ? (JSON.parse(fields['teams']) as string[]) : [];
  } catch {
    teams = [];
  }
  return {
    id,
    displayName: fields['displayName'] || defaultDisplayName(id),
    capacity: fields['capacity'] ? Number(fields['capacity']) : null,
    teams,
    lastSeenAt: fields['lastSeenAt'] ?? null,
  };
}

/** Until an agent sets one: "Agent" and the first letter of their id, never the id itself (it may be an email). */
export const defaultDisplayName = (agentId: string): string => `Agent ${agentId.slice(0, 1).toUpperCase()}`;

/** Presence entries are `<agent>|<connection>`; the agent part is the id as given (ids have no `|`: isSafeId). */
const presenceMember = (agentId: string, connectionId: string): string => `${agentId}|${connectionId}`;

/**
 * The handoff package's data: conversation ownership and its audit trail, the waiting line, the inbox
 * index, agents, presence, notes, typing and the tenant's event log, all in the tenant's hash slot.
 */
export class HandoffStore extends TenantStore {
  private readonly scripts: Redis & HandoffScripts;

  constructor(redis: Redis, prefix: string) {
    super(redis, prefix);
    this.scripts = withScripts(redis);
  }

  async conversation(tenantId: string, sessionId: string): Promise<ConversationRecord | null> {
    const fields = await this.redis.hgetall(this.keys(tenantId).handoff(sessionId));
    return fields['state'] ? toConversation(sessionId, fields) : null;
  }

  async conversations(tenantId: string, sessionIds: readonly string[]): Promise<(ConversationRecord | null)[]> {
    if (sessionIds.length === 0) return [];
    const keys = this.keys(tenantId);
    const pipeline = this.redis.pipeline();
    for (const id of sessionIds) pipeline.hgetall(keys.handoff(id));
    const results = (await pipeline.exec()) ?? [];
    return sessionIds.map((id, i) => {
      const [error, fields] = results[i] ?? [null, {}];
      if (error) throw error;
      const record = fields as Record<string, string>;
      return record['state'] ? toConversation(id, record) : null;
    });
  }

  /** Makes sure the assigner looks at this tenant (a platform key: tenant ids only). */
  async markActive(tenantId: string, now = Date.now()): Promise<void> {
    await this.redis.zadd(handoffTenantsKey(this.prefix), now, tenantId);
  }

  async activeTenants(limit = 1000): Promise<string[]> {
    return this.redis.zrange(handoffTenantsKey(this.prefix), 0, limit - 1);
  }

  async forgetTenant(tenantId: string, before: number): Promise<void> {
    const key = handoffTenantsKey(this.prefix);
    const score = await this.redis.zscore(key, tenantId);
    if (score !== null && Number(score) < before) await this.redis.zrem(key, tenantId);
  }

  async transition(tenantId: string, request: TransitionRequest, now = new Date()): Promise<TransitionResult> {
    const keys = this.keys(tenantId);
    if (request.to === 'WAITING_FOR_HUMAN' || request.to === 'WITH_HUMAN') await this.markActive(tenantId, now.getTime());
    const assignee = request.to === 'WITH_HUMAN' ? (request.assignee ?? null) : null;
    const audit: Omit<AuditRecord, 'seq' | 'from'> = {
      at: now.toISOString(),
      to: request.to,
      reason: request.reason,
      source: request.source,
      actor: request.actor,
      assigneeId: assignee?.id ?? null,
      assigneeName: assignee?.displayName ?? null,
      comment: request.comment ?? null,
    };
    const head = openEventJson(eventHead('STATE_CHANGED', audit.at, request.sessionId), 'transition');
    const [status, from, seq, cursor] = await this.scripts.beedeskHandoffTransition(
      keys.handoff(request.sessionId),
      keys.handoffAudit(request.sessionId),
      keys.handoffLine,
      keys.handoffInbox,
      keys.handoffLog,
      keys.handoffLogSeq,
      keys.handoffAgentConversations(assignee?.id ?? ''),
      keys.handoffAgent(assignee?.id ?? ''),
      request.sessionId,
      request.userId,
      `,${request.from.join(',')},`,
      request.to,
      request.reason,
      request.expectedAssignee ?? '',
      assignee?.id ?? '',
      assignee?.displayName ?? '',
      request.capacity ?? -1,
      request.team ?? '',
      request.locale ?? '',
      audit.at,
      now.getTime(),
      JSON.stringify(audit),
      head,
      HANDOFF_LOG_MAX,
      HISTORY_RETENTION_MS,
    );
    const fromState = from as ConversationState;
    if (status !== 'OK') return { status: status as 'CONFLICT' | 'NOT_ASSIGNEE' | 'CAPACITY', from: fromState };
    return { status: 'OK', from: fromState, audit: { ...audit, seq: Number(seq), from: fromState }, cursor };
  }

  async agentMessage(
    tenantId: string,
    sessionId: string,
    sender: HandoffActor & { id: string; displayName: string },
    text: string,
    options: { admin: boolean; clientMessageId: string | null },
    now = new Date(),
  ): Promise<AgentMessageResult> {
    const keys = this.keys(tenantId);
    const at = now.toISOString();
    const head = `${openEventJson(eventHead('AGENT_MESSAGE', at, sessionId), 'message')}{"turnSeq":`;
    const tail = `${JSON.stringify({ text, at, author: sender }).replace(/^\{/, ',')}}`;
    const [status, value, cursor] = await this.scripts.beedeskHandoffAgentMessage(
      keys.handoff(sessionId),
      keys.turns(sessionId),
      keys.session(sessionId),
      keys.handoffMessage(sessionId, options.clientMessageId ?? ''),
      keys.handoffLog,
      keys.handoffLogSeq,
      keys.handoffTyping(sessionId, 'agent'),
      sender.id,
      options.admin ? '1' : '0',
      storedTurnJson({ role: 'AGENT', text, authorName: sender.displayName }, now),
      HISTORY_MAX_TURNS,
      HISTORY_RETENTION_MS,
      head,
      tail,
      at,
      HANDOFF_LOG_MAX,
      options.clientMessageId ?? '',
    );
    if (status === 'OK' || status === 'DUPLICATE') {
      return { status, message: { turnSeq: Number(value), text, at, author: sender }, cursor: cursor || null };
    }
    return { status: status as 'CONFLICT' | 'NOT_ASSIGNEE' | 'NOT_FOUND', state: value as ConversationState };
  }

  async addNote(tenantId: string, sessionId: string, note: NoteRecord): Promise<string> {
    const keys = this.keys(tenantId);
    const event = { ...eventHead('NOTE_ADDED', note.at, sessionId), note };
    return this.scripts.beedeskHandoffLog(
      keys.handoffLog,
      keys.handoffLogSeq,
      keys.handoffNotes(sessionId),
      keys.handoffLog,
      JSON.stringify(event),
      HANDOFF_LOG_MAX,
      JSON.stringify(note),
      '',
      '',
      HISTORY_RETENTION_MS,
    );
  }

  /**
   * Typing on (for `ttlMs`) or off, and its log entry. On: `token` names this switch-on, for
   * typingLapsed (a later setTyping, on any replica, replaces it; off removes it).
   */
  async setTyping(
    tenantId: string,
    sessionId: string,
    who: 'customer' | 'agent',
    typing: TypingRecord,
    ttlMs: number,
  ): Promise<{ cursor: string; token: string | null }> {
    const keys = this.keys(tenantId);
    const key = keys.handoffTyping(sessionId, who);
    const lapse = keys.handoffTypingLapse(sessionId, who);
    const token = typing.typing ? newId() : null;
    // The marker outlives the indicator, so the lapse can still be told; it expires by itself after.
    if (token)
      await execOrThrow(
        this.redis
          .multi()
          .set(key, JSON.stringify(typing.actor), 'PX', ttlMs)
          .set(lapse, token, 'PX', ttlMs * 2 + 10_000),
      );
    else await this.redis.del(key, lapse);
    const event = { ...eventHead('TYPING', new Date().toISOString(), sessionId), typing };
    return { cursor: await this.logEvent(tenantId, event), token };
  }

  /**
   * The typing switched on as `token` lapsed (no refresh, no off): logs a TYPING off entry, once, and
   * returns its cursor; null when it was refreshed, switched off or already told.
   */
  async typingLapsed(
    tenantId: string,
    sessionId: string,
    who: 'customer' | 'agent',
    token: string,
    actor: HandoffActor,
    now = new Date(),
  ): Promise<string | null> {
    const keys = this.keys(tenantId);
    const event = { ...eventHead('TYPING', now.toISOString(), sessionId), typing: { actor, typing: false, expiresAt: null } };
    const cursor = await this.scripts.beedeskHandoffTypingLapsed(
      keys.handoffTyping(sessionId, who),
      keys.handoffTypingLapse(sessionId, who),
      keys.handoffLog,
      keys.handoffLogSeq,
      token,
      JSON.stringify(event),
      HANDOFF_LOG_MAX,
    );
    return cursor || null;
  }

  async typing(tenantId: string, sessionId: string, who: 'customer' | 'agent'): Promise<boolean> {
    return (await this.redis.exists(this.keys(tenantId).handoffTyping(sessionId, who))) === 1;
  }

  async logEvent(tenantId: string, event: Omit<HandoffEventRecord, 'cursor'>): Promise<string> {
    const keys = this.keys(tenantId);
    return this.scripts.beedeskHandoffLog(
      keys.handoffLog,
      keys.handoffLogSeq,
      keys.handoffLog,
      keys.handoffLog,
      JSON.stringify(event),
      HANDOFF_LOG_MAX,
      '',
      '',
      '',
      HISTORY_RETENTION_MS,
    );
  }

  /** Logs that an agent changed (presence, capacity, profile). */
  agentChanged(tenantId: string, agentId: string, now = new Date()): Promise<string> {
    return this.logEvent(tenantId, { ...eventHead('AGENT_CHANGED', now.toISOString(), null), agentId });
  }

  /** The log's newest cursor ('0' when empty). */
  async logCursor(tenantId: string): Promise<string> {
    return (await this.redis.get(this.keys(tenantId).handoffLogSeq)) ?? '0';
  }

  /**
   * Entries after `cursor`, oldest first, at most `limit`. `gap`: entries after the cursor were
   * trimmed away (or the cursor is ahead of the log: an erased tenant), so the reader must resync.
   */
  async eventsAfter(tenantId: string, cursor: number, limit: number): Promise<{ events: HandoffEventRecord[]; gap: boolean }> {
    const keys = this.keys(tenantId);
    const [raws, oldest, newest] = (await this.redis
      .multi()
      .zrangebyscore(keys.handoffLog, `(${cursor}`, '+inf', 'LIMIT', 0, limit)
      .zrange(keys.handoffLog, 0, 0, 'WITHSCORES')
      .get(keys.handoffLogSeq)
      .exec()
      .then((results) => (results ?? []).map(([error, value]) => (error ? Promise.reject(error) : value)))) as [
      string[],
      string[],
      string | null,
    ];
    const oldestCursor = oldest.length === 2 ? Number(oldest[1]) : Number(newest ?? 0) + 1;
    const gap = cursor < oldestCursor - 1 || cursor > Number(newest ?? 0);
    return { events: raws.map((raw) => JSON.parse(raw) as HandoffEventRecord), gap };
  }

  async audit(tenantId: string, sessionId: string): Promise<AuditRecord[]> {
    return (await this.redis.lrange(this.keys(tenantId).handoffAudit(sessionId), 0, -1)).map((raw) => JSON.parse(raw) as AuditRecord);
  }

  async notes(tenantId: string, sessionId: string): Promise<NoteRecord[]> {
    return (await this.redis.lrange(this.keys(tenantId).handoffNotes(sessionId), 0, -1)).map((raw) => JSON.parse(raw) as NoteRecord);
  }

  /** The waiting line, longest-waiting first: session ids with the time they joined (ms). */
  async line(tenantId: string, limit = 1000): Promise<{ sessionId: string; since: number }[]> {
    const flat = await this.redis.zrange(this.keys(tenantId).handoffLine, 0, limit - 1, 'WITHSCORES');
    const line: { sessionId: string; since: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) line.push({ sessionId: flat[i]!, since: Number(flat[i + 1]) });
    return line;
  }

  async linePosition(tenantId: string, sessionId: string): Promise<number | null> {
    return this.redis.zrank(this.keys(tenantId).handoffLine, sessionId);
  }

  async leaveLine(tenantId: string, sessionId: string): Promise<void> {
    await this.redis.zrem(this.keys(tenantId).handoffLine, sessionId);
  }

  /** The inbox index: every conversation that left the bot, oldest `since` first (trimmed after the retention). */
  async inboxIds(tenantId: string, now = Date.now(), limit = 5000): Promise<string[]> {
    const key = this.keys(tenantId).handoffInbox;
    await this.redis.zremrangebyscore(key, '-inf', `(${now - HISTORY_RETENTION_MS}`);
    return this.redis.zrange(key, 0, limit - 1);
  }

  /** Consecutive unsure answers of a conversation with the bot: +1, or back to 0. */
  async unsureStreak(tenantId: string, sessionId: string, userId: string, unsure: boolean): Promise<number> {
    const key = this.keys(tenantId).handoff(sessionId);
    if (!unsure) {
      if ((await this.redis.hexists(key, 'unsureStreak')) === 1) await this.redis.hset(key, 'unsureStreak', 0);
      return 0;
    }
    const [[error, value] = [null, 0]] =
      (await this.redis.multi().hincrby(key, 'unsureStreak', 1).hsetnx(key, 'userId', userId).pexpire(key, HISTORY_RETENTION_MS).exec()) ??
      [];
    if (error) throw error;
    return Number(value);
  }

  /** Records (or clears) that a waiting customer was told nobody can be reached; only while it waits. */
  async markToldUnavailable(tenantId: string, sessionId: string, told: Unavailability | null): Promise<void> {
    const key = this.keys(tenantId).handoff(sessionId);
    if (told) await this.scripts.beedeskHandoffSetIfWaiting(key, 'toldUnavailable', told);
    else await this.redis.hdel(key, 'toldUnavailable');
  }

  async setLocale(tenantId: string, sessionId: string, locale: string): Promise<void> {
    const key = this.keys(tenantId).handoff(sessionId);
    if ((await this.redis.exists(key)) === 1) await this.redis.hset(key, 'locale', locale);
  }

  // Agents and presence.

  async agent(tenantId: string, agentId: string): Promise<AgentRecord | null> {
    const fields = await this.redis.hgetall(this.keys(tenantId).handoffAgent(agentId));
    return Object.keys(fields).length > 0 ? toAgent(agentId, fields) : null;
  }

  async agents(tenantId: string): Promise<AgentRecord[]> {
    const keys = this.keys(tenantId);
    const ids = (await this.redis.smembers(keys.handoffAgents)).sort();
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.handoffAgent(id));
    const results = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => toAgent(id, (results[i]?.[1] ?? {}) as Record<string, string>));
  }

  /** The agent's record, created on first use. */
  async ensureAgent(tenantId: string, agentId: string, now = new Date()): Promise<AgentRecord> {
    const keys = this.keys(tenantId);
    await this.redis
      .multi()
      .sadd(keys.handoffAgents, agentId)
      .hsetnx(keys.handoffAgent(agentId), 'displayName', defaultDisplayName(agentId))
      .hsetnx(keys.handoffAgent(agentId), 'createdAt', now.toISOString())
      .exec();
    return (await this.agent(tenantId, agentId))!;
  }

  /**
   * A staff member acting now: their record as it was before (created on first use), and `lastSeenAt`
   * set to now (the presence grace period counts from here), in one round trip (it sits on every agent
   * message's path).
   */
  async seenAgent(tenantId: string, agentId: string, now = new Date()): Promise<AgentRecord> {
    const keys = this.keys(tenantId);
    const key = keys.handoffAgent(agentId);
    const results =
      (await this.redis
        .multi()
        .sadd(keys.handoffAgents, agentId)
        .hsetnx(key, 'displayName', defaultDisplayName(agentId))
        .hsetnx(key, 'createdAt', now.toISOString())
        .hgetall(key)
        .hset(key, 'lastSeenAt', now.toISOString())
        .exec()) ?? [];
    const [error, fields] = results[3] ?? [new Error('the agent record was not read'), null];
    if (error) throw error;
    return toAgent(agentId, fields as Record<string, string>);
  }

  async updateAgent(
    tenantId: string,
    agentId: string,
    update: { displayName?: string; teams?: string[]; capacity?: number | null },
    now = new Date(),
  ): Promise<AgentRecord> {
    await this.ensureAgent(tenantId, agentId, now);
    const key = this.keys(tenantId).handoffAgent(agentId);
    const multi = this.redis.multi();
    if (update.displayName !== undefined) multi.hset(key, 'displayName', update.displayName);
    if (update.teams !== undefined) multi.hset(key, 'teams', JSON.stringify(update.teams));
    if (update.capacity === null) multi.hdel(key, 'capacity');
    else if (update.capacity !== undefined) multi.hset(key, 'capacity', String(update.capacity));
    await multi.exec();
    return (await this.agent(tenantId, agentId))!;
  }

  async agentLoad(tenantId: string, agentIds: readonly string[]): Promise<Map<string, { load: number; lastAssignedAt: number }>> {
    const keys = this.keys(tenantId);
    const loads = new Map<string, { load: number; lastAssignedAt: number }>();
    if (agentIds.length === 0) return loads;
    const pipeline = this.redis.pipeline();
    for (const id of agentIds) pipeline.scard(keys.handoffAgentConversations(id)).hget(keys.handoffAgent(id), 'lastAssignedAt');
    const results = (await pipeline.exec()) ?? [];
    agentIds.forEach((id, i) => {
      const load = Number(results[i * 2]?.[1] ?? 0);
      const last = Number(results[i * 2 + 1]?.[1] ?? 0);
      loads.set(id, { load, lastAssignedAt: last });
    });
    return loads;
  }

  async agentConversations(tenantId: string, agentId: string): Promise<string[]> {
    return this.redis.smembers(this.keys(tenantId).handoffAgentConversations(agentId));
  }

  /**
   * Registers (or refreshes) one open console connection of an agent until `now + ttlMs`. Returns true
   * when the agent had no live connection before (they came online).
   */
  async connect(tenantId: string, agentId: string, connectionId: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const keys = this.keys(tenantId);
    const wasOnline = await this.isOnline(tenantId, agentId, now);
    await this.redis
      .multi()
      .zadd(keys.handoffPresence, now + ttlMs, presenceMember(agentId, connectionId))
      .sadd(keys.handoffAgents, agentId)
      .hset(keys.handoffAgent(agentId), 'lastSeenAt', new Date(now).toISOString())
      .exec();
    return !wasOnline;
  }

  /** Drops one connection; true when it was the agent's last (they went away). */
  async disconnect(tenantId: string, agentId: string, connectionId: string, now = Date.now()): Promise<boolean> {
    const keys = this.keys(tenantId);
    await this.redis
      .multi()
      .zrem(keys.handoffPresence, presenceMember(agentId, connectionId))
      .hset(keys.handoffAgent(agentId), 'lastSeenAt', new Date(now).toISOString())
      .exec();
    return !(await this.isOnline(tenantId, agentId, now));
  }

  async onlineAgents(tenantId: string, now = Date.now()): Promise<Set<string>> {
    const key = this.keys(tenantId).handoffPresence;
    const members = await this.redis.zrangebyscore(key, now, '+inf');
    return new Set(members.map((m) => m.slice(0, m.lastIndexOf('|'))));
  }

  async isOnline(tenantId: string, agentId: string, now = Date.now()): Promise<boolean> {
    return (await this.onlineAgents(tenantId, now)).has(agentId);
  }

  /** Drops presence entries whose connection stopped refreshing (a replica died); returns their agents. */
  async expirePresence(tenantId: string, now = Date.now()): Promise<string[]> {
    const key = this.keys(tenantId).handoffPresence;
    const expired = await this.redis.zrangebyscore(key, '-inf', `(${now}`);
    if (expired.length === 0) return [];
    await this.redis.zrem(key, ...expired);
    return [...new Set(expired.map((m) => m.slice(0, m.lastIndexOf('|'))))];
  }
}

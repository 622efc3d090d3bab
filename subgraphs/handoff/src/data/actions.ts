import { newId, type AnswerEventKind, type ConversationUpdateMessage, type EventPublisher, type Logger } from '@beedesk/runtime';
import { HandoffRulesRepository, type HandoffRulesRecord } from '@beedesk/tenant/data';
import { customerLocaleOf, localeOfText, noticeText, type HandoffNotice, type NoticeParams } from './messages';
import type { ConversationRecord, ConversationState, HandoffActor, HandoffReason, HandoffSource, Unavailability } from './records';
import { withinWorkingHours } from './rules';
import { HandoffStore, type TransitionRequest, type TransitionResult } from './store';

/** How long the rules of a tenant are reused before they are read again (per process). */
const RULES_CACHE_MS = 1000;

export const SYSTEM_ACTOR: HandoffActor = { kind: 'SYSTEM', id: null, displayName: null };
export const ENGINE_ACTOR: HandoffActor = { kind: 'ENGINE', id: null, displayName: null };

export interface HandoffRequest {
  tenantId: string;
  sessionId: string;
  userId: string;
  reason: HandoffReason;
  source: HandoffSource;
  actor: HandoffActor;
  team?: string | null;
  /** en or zh-CN (any BCP-47 tag; zh… → zh-CN); null: keep the conversation's. */
  locale?: string | null;
}

/** What became of a handoff request. */
export interface HandoffOutcome {
  state: ConversationState;
  /** Set when the customer was told no person can be reached now. */
  unavailable: Unavailability | null;
  changed: boolean;
}

/** What the engine made of a question, for the automatic handoff rules. */
export interface EngineOutcome {
  sessionId: string;
  userId: string;
  question: string;
  status: string;
  confidence: number | null;
  needsHuman: boolean;
  sourceIds: readonly string[];
  /** The tenant's answerConfidenceThreshold (the unsure threshold unless the rules set their own). */
  answerThreshold: number;
}

/**
 * Ownership changes with everything that goes with them: the tenant's rules (availability, working
 * hours), the atomic transition (HandoffStore), and telling the customer (answerStream updates and
 * notices in their language) and staff (a poke on the tenant's handoff channel). Used by the handoff
 * subgraph, by `ask` (keywords, reopening) and by inference (automatic handoff).
 */
export class HandoffActions {
  private readonly rulesCache = new Map<string, { rules: HandoffRulesRecord; at: number }>();

  constructor(
    readonly store: HandoffStore,
    private readonly rules: HandoffRulesRepository,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
  ) {}

  static create(
    redis: ConstructorParameters<typeof HandoffStore>[0],
    keyPrefix: string,
    events: EventPublisher,
    logger: Logger,
  ): HandoffActions {
    return new HandoffActions(new HandoffStore(redis, keyPrefix), new HandoffRulesRepository(redis, keyPrefix), events, logger);
  }

  async rulesOf(tenantId: string): Promise<HandoffRulesRecord> {
    const cached = this.rulesCache.get(tenantId);
    if (cached && Date.now() - cached.at < RULES_CACHE_MS) return cached.rules;
    const rules = await this.rules.get(tenantId);
    this.rulesCache.set(tenantId, { rules, at: Date.now() });
    if (this.rulesCache.size > 10_000) this.rulesCache.delete(this.rulesCache.keys().next().value!);
    return rules;
  }

  /** Whether a person can be reached now: within working hours and an agent online. */
  async availability(tenantId: string, rules?: HandoffRulesRecord, now = new Date()): Promise<{ online: boolean; withinHours: boolean }> {
    const r = rules ?? (await this.rulesOf(tenantId));
    const withinHours = withinWorkingHours(r, now);
    const online = (await this.store.onlineAgents(tenantId, now.getTime())).size > 0;
    return { online, withinHours };
  }

  /**
   * Hands a conversation with the bot (or a resolved one) to the waiting line, unless the rules say
   * the bot carries on when nobody can be reached. Idempotent while it waits or is with a person.
   */
  async requestHandoff(request: HandoffRequest, now = new Date()): Promise<HandoffOutcome> {
    const rules = await this.rulesOf(request.tenantId);
    const { online, withinHours } = await this.availability(request.tenantId, rules, now);
    const unavailable = !withinHours ? 'OUTSIDE_WORKING_HOURS' : !online ? 'NO_AGENT_ONLINE' : null;
    const locale = customerLocaleOf(request.locale);
    const current = await this.store.conversation(request.tenantId, request.sessionId);
    const state = current?.state ?? 'BOT';
    if (state === 'WAITING_FOR_HUMAN' || state === 'WITH_HUMAN') return { state, unavailable: null, changed: false };
    if (unavailable && rules.whenUnavailable === 'RETURN_TO_BOT') {
      const update = { state, notice: unavailable, text: noticeText(unavailable, locale ?? current?.locale, { waits: false }) };
      await this.tellCustomer(request.tenantId, request.sessionId, 'HANDOFF_NOTICE', update);
      this.logger.info({ tenantId: request.tenantId, sessionId: request.sessionId, unavailable }, 'handoff declined: nobody reachable');
      return { state, unavailable, changed: false };
    }
    const result = await this.transition(
      request.tenantId,
      {
        sessionId: request.sessionId,
        userId: request.userId,
        from: ['BOT', 'RESOLVED'],
        to: 'WAITING_FOR_HUMAN',
        reason: request.reason,
        source: request.source,
        actor: request.actor,
        team: request.team ?? null,
        locale,
      },
      now,
      unavailable,
    );
    if (result.status !== 'OK') {
      const after = await this.store.conversation(request.tenantId, request.sessionId);
      return { state: after?.state ?? result.from, unavailable: null, changed: false };
    }
    // Told already (the announcement): the assigner's re-check of the line must not tell them again.
    if (unavailable) await this.store.markToldUnavailable(request.tenantId, request.sessionId, unavailable);
    this.logger.info({ tenantId: request.tenantId, sessionId: request.sessionId, reason: request.reason }, 'conversation handed off');
    return { state: 'WAITING_FOR_HUMAN', unavailable, changed: true };
  }

  /**
   * One atomic transition and, when it happened, the announcements: staff get a poke on the tenant's
   * channel (they read the log), the customer a HANDOFF_STATE update and a notice in their language.
   */
  async transition(
    tenantId: string,
    request: TransitionRequest,
    now = new Date(),
    unavailable: Unavailability | null = null,
    options: { announceInBackground?: boolean } = {},
  ): Promise<TransitionResult> {
    const result = await this.store.transition(tenantId, request, now);
    if (result.status !== 'OK') return result;
    const announced = this.announce(tenantId, request, result.cursor, unavailable);
    // The assigner does not wait for the announcements of one assignment before making the next.
    if (!options.announceInBackground) await announced;
    return result;
  }

  private async announce(tenantId: string, request: TransitionRequest, cursor: string, unavailable: Unavailability | null): Promise<void> {
    try {
      await this.events.publishHandoff(tenantId, { cursor });
      const conversation = await this.store.conversation(tenantId, request.sessionId);
      const locale = conversation?.locale ?? null;
      const position = request.to === 'WAITING_FOR_HUMAN' ? await this.store.linePosition(tenantId, request.sessionId) : null;
      const agentName = request.to === 'WITH_HUMAN' ? (request.assignee?.displayName ?? null) : null;
      await this.tellCustomer(tenantId, request.sessionId, 'HANDOFF_STATE', {
        state: request.to,
        reason: request.reason,
        agentName,
        waitingPosition: position,
      });
      const notice = noticeFor(request.to, request.reason);
      if (notice) {
        await this.notice(tenantId, request.sessionId, request.to, notice, locale, { position, agentName });
      }
      if (unavailable && request.to === 'WAITING_FOR_HUMAN') {
        await this.notice(tenantId, request.sessionId, request.to, unavailable, locale, { waits: true });
      }
    } catch (error) {
      // The transition stands; staff catch up from the log and customers from Session.handoff.
      this.logger.warn({ err: error, tenantId, sessionId: request.sessionId }, 'could not announce a handoff transition');
    }
  }

  async notice(
    tenantId: string,
    sessionId: string,
    state: ConversationState,
    notice: HandoffNotice,
    locale: string | null,
    params: NoticeParams = {},
  ): Promise<void> {
    await this.tellCustomer(tenantId, sessionId, 'HANDOFF_NOTICE', {
      state,
      notice,
      text: noticeText(notice, locale, params),
      waitingPosition: params.position ?? null,
    });
  }

  /** One human-handoff update on the customer's answerStream (customer-safe fields only). */
  async tellCustomer(
    tenantId: string,
    sessionId: string,
    kind: AnswerEventKind,
    update: Partial<ConversationUpdateMessage>,
  ): Promise<void> {
    const id = newId();
    const handoff: ConversationUpdateMessage = {
      id,
      at: new Date().toISOString(),
      state: update.state ?? 'BOT',
      reason: update.reason ?? null,
      agentName: update.agentName ?? null,
      text: update.text ?? null,
      turnSeq: update.turnSeq ?? null,
      typing: update.typing ?? null,
      typingExpiresAt: update.typingExpiresAt ?? null,
      waitingPosition: update.waitingPosition ?? null,
      notice: update.notice ?? null,
    };
    await this.events.publishAnswerEvent(tenantId, { answerId: id, sessionId, seq: 0, kind, delta: null, queuePosition: null, handoff });
  }

  /**
   * After a `setTyping(true)` (its `token`): when nobody refreshed or switched it off within `ttlMs`, the
   * indicator lapsed, and everyone who was told it is on is told it is off: staff by a TYPING off entry,
   * the customer (an agent's typing) by an AGENT_TYPING off update. A timer of this process; whichever
   * replica took the latest setTyping tells the lapse (typingLapsed checks the token atomically), so it
   * is told once. A process that stops before loses the notice; clients still have `expiresAt`.
   */
  watchTypingLapse(
    tenantId: string,
    sessionId: string,
    who: 'customer' | 'agent',
    token: string,
    actor: HandoffActor,
    ttlMs: number,
  ): void {
    // A little after the key's expiry, so Redis sees it gone.
    const timer = setTimeout(() => {
      void this.typingLapsed(tenantId, sessionId, who, token, actor).catch((error: unknown) => {
        this.logger.warn({ err: error, tenantId, sessionId }, 'could not announce a lapsed typing indicator');
      });
    }, ttlMs + 50);
    timer.unref();
  }

  /** Announces a lapsed typing indicator (see watchTypingLapse); false when it was refreshed, switched off or told. */
  async typingLapsed(tenantId: string, sessionId: string, who: 'customer' | 'agent', token: string, actor: HandoffActor): Promise<boolean> {
    const cursor = await this.store.typingLapsed(tenantId, sessionId, who, token, actor);
    if (!cursor) return false;
    const announcements: Promise<void>[] = [this.poke(tenantId, cursor)];
    if (who === 'agent') {
      const conversation = await this.store.conversation(tenantId, sessionId);
      announcements.push(
        this.tellCustomer(tenantId, sessionId, 'AGENT_TYPING', {
          state: conversation?.state ?? 'BOT',
          agentName: actor.displayName,
          typing: false,
          typingExpiresAt: null,
        }),
      );
    }
    await Promise.all(announcements);
    return true;
  }

  /** Tells staff subscriptions that the log grew to `cursor`. */
  async poke(tenantId: string, cursor: string): Promise<void> {
    await this.events.publishHandoff(tenantId, { cursor });
  }

  /**
   * Tells waiting customers (the first `limit`) their place in the line when it changed since this
   * process last told them (`told`: session → position, kept by the caller per tenant).
   */
  async publishPositions(tenantId: string, told: Map<string, number>, limit = 200): Promise<void> {
    const line = await this.store.line(tenantId, limit);
    const waiting = new Set(line.map((entry) => entry.sessionId));
    for (const sessionId of told.keys()) if (!waiting.has(sessionId)) told.delete(sessionId);
    await Promise.all(
      line.map(({ sessionId }, position) => {
        if (told.get(sessionId) === position) return undefined;
        told.set(sessionId, position);
        return this.tellCustomer(tenantId, sessionId, 'WAITING_POSITION', { state: 'WAITING_FOR_HUMAN', waitingPosition: position });
      }),
    );
  }

  /**
   * The automatic handoff rules after an engine answer of a conversation with the bot: engine failure,
   * out of scope, or N consecutive unsure answers hand it to the waiting line.
   */
  async afterEngineAnswer(tenantId: string, outcome: EngineOutcome): Promise<HandoffOutcome | null> {
    const rules = await this.rulesOf(tenantId);
    if (!rules.enabled) return null;
    const conversation = await this.store.conversation(tenantId, outcome.sessionId);
    if (conversation && conversation.state !== 'BOT') return null;
    const failed = outcome.status === 'FALLBACK' || outcome.status === 'FAILED';
    // No article behind the answer: the knowledge engine's out-of-scope reply, or an LLM answer with nothing retrieved.
    const outOfScope = !failed && outcome.sourceIds.length === 0 && (outcome.needsHuman || outcome.confidence === null);
    const threshold = rules.unsureThreshold ?? outcome.answerThreshold;
    const unsure = !failed && (outcome.needsHuman || outcome.confidence === null || outcome.confidence < threshold);
    let reason: HandoffReason | null = null;
    if (failed && rules.onEngineFailure) reason = 'ENGINE_FAILED';
    else if (outOfScope && rules.onOutOfScope) reason = 'OUT_OF_SCOPE';
    else if (!failed) {
      const streak = await this.store.unsureStreak(tenantId, outcome.sessionId, outcome.userId, unsure);
      if (unsure && streak >= rules.unsureConsecutive) reason = 'ENGINE_UNSURE';
    }
    if (!reason) return null;
    return this.requestHandoff({
      tenantId,
      sessionId: outcome.sessionId,
      userId: outcome.userId,
      reason,
      source: 'ENGINE',
      actor: ENGINE_ACTOR,
      locale: localeOfText(outcome.question),
    });
  }

  /**
   * Conversations already waiting when nobody can be reached any more (the last agent went offline, or
   * working hours ended): the tenant's `whenUnavailable` applies to them as to a new request. RETURN_TO_BOT
   * hands each back to the bot (reason NO_AGENT_ONLINE or OUTSIDE_WORKING_HOURS, source RULES; the
   * customer is told the assistant carries on); WAIT tells each customer once that they stay in line.
   * Run by the assigner (one replica per tenant at a time). Returns how many left the line.
   */
  async recheckWaiting(
    tenantId: string,
    rules: HandoffRulesRecord,
    waiting: readonly ConversationRecord[],
    unavailable: Unavailability,
  ): Promise<number> {
    let left = 0;
    for (const conversation of waiting) {
      if (conversation.state !== 'WAITING_FOR_HUMAN' || conversation.toldUnavailable === unavailable) continue;
      if (rules.whenUnavailable === 'RETURN_TO_BOT') {
        const result = await this.transition(tenantId, {
          sessionId: conversation.id,
          userId: conversation.userId,
          from: ['WAITING_FOR_HUMAN'],
          to: 'BOT',
          reason: unavailable,
          source: 'RULES',
          actor: SYSTEM_ACTOR,
        });
        if (result.status === 'OK') {
          left++;
          this.logger.info(
            { tenantId, sessionId: conversation.id, unavailable },
            'waiting conversation returned to the bot: nobody reachable',
          );
        }
        continue;
      }
      await this.store.markToldUnavailable(tenantId, conversation.id, unavailable);
      const position = await this.store.linePosition(tenantId, conversation.id);
      await this.notice(tenantId, conversation.id, 'WAITING_FOR_HUMAN', unavailable, conversation.locale, { waits: true, position });
    }
    return left;
  }

  /**
   * A question answered FAILED without reaching the engine (the outbox sweeper gave up sending it): the
   * engine-failure rule, exactly as after an engine's FAILED answer (the unsure threshold plays no part).
   */
  afterAnswerFailed(tenantId: string, failed: { sessionId: string; userId: string; question: string }): Promise<HandoffOutcome | null> {
    return this.afterEngineAnswer(tenantId, {
      ...failed,
      status: 'FAILED',
      confidence: null,
      needsHuman: true,
      sourceIds: [],
      answerThreshold: 0,
    });
  }

  /** A question to a resolved conversation: the bot answers again (RESOLVED → BOT, reason REOPENED). */
  async reopen(tenantId: string, conversation: ConversationRecord, actor: HandoffActor): Promise<void> {
    await this.transition(tenantId, {
      sessionId: conversation.id,
      userId: conversation.userId,
      from: ['RESOLVED'],
      to: 'BOT',
      reason: 'REOPENED',
      source: 'ASK',
      actor,
    });
  }
}

function noticeFor(to: ConversationState, reason: HandoffReason): HandoffNotice | null {
  if (to === 'WAITING_FOR_HUMAN') return 'WAITING_FOR_AGENT';
  if (to === 'WITH_HUMAN') return 'AGENT_JOINED';
  // Nobody reachable (recheckWaiting): that notice says the assistant carries on.
  if (to === 'BOT' && (reason === 'NO_AGENT_ONLINE' || reason === 'OUTSIDE_WORKING_HOURS')) return reason;
  if (to === 'BOT' && reason !== 'REOPENED') return 'RETURNED_TO_BOT';
  if (to === 'RESOLVED') return 'RESOLVED';
  return null;
}

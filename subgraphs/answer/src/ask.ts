import {
  badInput,
  isSafeId,
  mayLogText,
  newId,
  type AnswerEventMessage,
  type EventPublisher,
  type InferenceRequest,
} from '@beedesk/runtime';
import { asksForPerson, localeOfText, type ConversationState } from '@beedesk/handoff/data';
import { type AnswerRecord } from './data';
import { accessibleSession } from './access';
import type { AnswerContext } from './context';

/** Longest question accepted; longer text is refused before anything is stored or enqueued. */
export const MAX_QUESTION_LENGTH = 4000;
/** Turns of history sent along with a question, so the worker needs no extra read. */
export const HISTORY_IN_REQUEST = 10;

export interface AskArgs {
  sessionId: string;
  text: string;
  clientMessageId?: string | null;
}

export interface AskReceipt {
  answer: AnswerRecord;
  queuePosition: number;
  /** Who the question went to: BOT, or a person (the answer is then WITH_HUMAN). */
  conversationState: ConversationState;
}

export function validateAsk(args: AskArgs): string {
  const text = args.text.trim();
  if (!text) throw badInput('text: a question must not be empty', 'text');
  if (text.length > MAX_QUESTION_LENGTH) {
    throw badInput(`text: a question must be at most ${MAX_QUESTION_LENGTH} characters (got ${text.length})`, 'text');
  }
  if (args.clientMessageId != null && !isSafeId(args.clientMessageId)) {
    throw badInput('clientMessageId: letters, digits, _ and -, at most 64', 'clientMessageId');
  }
  return text;
}

/**
 * Accepts a question in one atomic write (the QUEUED answer, the user's turn, the place in the line,
 * the clientMessageId and an outbox entry: AnswerRepository.createAsk), then sends it to the queue and
 * answers at once. A retry with the same clientMessageId returns the first answer and its place in the
 * line, writing and enqueuing nothing. When the send fails or times out the answer stays QUEUED in the
 * outbox: the sweeper (outbox-sweeper.ts) sends it again or, after OUTBOX_GIVE_UP_MS, answers it
 * FAILED; nothing here ever overwrites an answer, so a request Kafka did deliver is answered once.
 */
export async function ask(args: AskArgs, context: AskContext): Promise<AskReceipt> {
  const question = validateAsk(args);
  const { tenantId, requestId } = context.caller;
  const session = await accessibleSession(context, args.sessionId);

  await routeToPerson(context, session.id, session.userId, question);

  const answerId = newId();
  const history = (await context.sessions.turns(tenantId, session.id, HISTORY_IN_REQUEST)).map(({ role, text }) => ({ role, text }));
  const now = new Date();
  const answer: AnswerRecord = {
    id: answerId,
    sessionId: session.id,
    userId: session.userId,
    question,
    text: '',
    status: 'QUEUED',
    sourceIds: [],
    confidence: null,
    needsHuman: false,
    engine: null,
    clientMessageId: args.clientMessageId ?? null,
    createdAt: now.toISOString(),
    completedAt: null,
  };
  const request: InferenceRequest = {
    v: 1,
    tenantId,
    sessionId: session.id,
    userId: session.userId,
    answerId,
    question,
    history,
    requestId,
    enqueuedAt: now.getTime(),
  };
  const accepted = await context.answers.createAsk(tenantId, answer, request, now);
  if (accepted.withHuman) {
    // With (or waiting for) a person: stored as a turn and logged for staff in that one write; nothing
    // goes to the engine. The poke only wakes the consoles sooner (they read the log within a second anyway).
    try {
      await context.handoff.poke(tenantId, accepted.withHuman.cursor);
    } catch (error) {
      context.log.warn({ err: error, answerId }, 'could not poke the consoles; they read the log on their next poll');
    }
    context.log.info({ answerId, sessionId: session.id, chars: question.length }, 'message delivered to a person');
    return { answer: accepted.answer, queuePosition: 0, conversationState: accepted.withHuman.state };
  }
  if (!accepted.created) {
    const conversationState = accepted.answer.status === 'WITH_HUMAN' ? await stateOf(context, session.id) : 'BOT';
    return { answer: accepted.answer, queuePosition: accepted.queuePosition, conversationState };
  }
  const { queuePosition } = accepted;
  // Published before enqueueing, so QUEUED (seq 0) always precedes the worker's first TOKEN.
  await publishLive(context, answer, { seq: 0, kind: 'QUEUED', queuePosition });

  try {
    await context.queue.enqueue(request);
    await context.answers.outboxAck(tenantId, answerId);
  } catch (error) {
    // Stored and in the outbox: the sweeper sends it again (or fails it with a reason), so the ask stands.
    context.log.warn({ err: error, answerId }, 'could not enqueue the question now; the outbox sweeper retries');
  }
  context.log.info({ answerId, sessionId: session.id, chars: question.length, queuePosition }, 'question queued');
  // Text only for a tenant with debug logging switched on (LOG_DEBUG_TENANTS).
  if (mayLogText(context.log)) context.log.debug({ answerId, question }, 'question text');
  return { answer, queuePosition, conversationState: 'BOT' };
}

async function stateOf(context: AskContext, sessionId: string): Promise<ConversationState> {
  return (await context.handoff.store.conversation(context.caller.tenantId, sessionId))?.state ?? 'BOT';
}

/**
 * Before a question is stored: one of the tenant's handoff keywords asks for a person (the question then
 * goes to them), and a question to a resolved conversation goes to the bot again (REOPENED). Ownership
 * itself is checked in the same atomic step that stores the question (AnswerRepository.createAsk).
 */
async function routeToPerson(context: AskContext, sessionId: string, userId: string, question: string): Promise<void> {
  const { tenantId } = context.caller;
  const conversation = await context.handoff.store.conversation(tenantId, sessionId);
  const state = conversation?.state ?? 'BOT';
  if (state === 'WAITING_FOR_HUMAN' || state === 'WITH_HUMAN') return;
  const rules = await context.handoff.rulesOf(tenantId);
  const customer = { kind: 'CUSTOMER' as const, id: userId, displayName: null };
  if (asksForPerson(question, rules.keywords)) {
    const outcome = await context.handoff.requestHandoff({
      tenantId,
      sessionId,
      userId,
      reason: 'CUSTOMER_REQUESTED',
      source: 'KEYWORD',
      actor: customer,
      locale: localeOfText(question),
    });
    if (outcome.changed) context.log.info({ sessionId }, 'handoff keyword: conversation handed to a person');
    if (outcome.state === 'WAITING_FOR_HUMAN' || outcome.state === 'WITH_HUMAN') return;
  }
  if (conversation && state === 'RESOLVED') await context.handoff.reopen(tenantId, conversation, customer);
}

/**
 * Live events are best effort: the answer is stored and will be answered whether or not anyone
 * hears about it, so a pub/sub hiccup is logged, never turned into a failed ask.
 */
async function publishLive(
  context: AskContext,
  answer: AnswerRecord,
  event: Pick<AnswerEventMessage, 'seq' | 'kind' | 'queuePosition'>,
): Promise<void> {
  const { tenantId } = context.caller;
  try {
    await context.events.publishAnswerEvent(tenantId, { answerId: answer.id, sessionId: answer.sessionId, delta: null, ...event });
    if (event.kind === 'QUEUED') {
      await context.events.publishActivity(tenantId, {
        kind: 'QUESTION_ASKED',
        sessionId: answer.sessionId,
        answerId: answer.id,
        at: answer.createdAt,
      });
    }
  } catch (error) {
    context.log.warn({ err: error, answerId: answer.id, kind: event.kind }, 'could not publish a live event');
  }
}

/** What `ask` uses of the context: it only publishes live events. */
export type AskContext = Pick<AnswerContext, 'caller' | 'log' | 'answers' | 'sessions' | 'queue' | 'handoff'> & { events: EventPublisher };

import {
  badInput,
  codedError,
  ErrorCode,
  execOrThrow,
  isSafeId,
  mayLogText,
  newId,
  type AnswerEventMessage,
  type InferenceRequest,
} from '@beedesk/runtime';
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
 * Stores a QUEUED answer and the user's turn in one transaction, then enqueues the request and
 * answers at once. A retry with the same clientMessageId returns the first answer, enqueuing nothing.
 */
export async function ask(args: AskArgs, context: AskContext): Promise<AskReceipt> {
  const question = validateAsk(args);
  const { tenantId, requestId } = context.tenant;
  const session = await accessibleSession(context, args.sessionId);

  const answerId = newId();
  if (args.clientMessageId) {
    const existingId = await context.answers.reserveClientMessage(tenantId, session.id, args.clientMessageId, answerId);
    if (existingId) return { answer: await firstAsk(context, existingId), queuePosition: await context.answers.pendingCount(tenantId) };
  }

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
  const multi = context.redis.multi();
  context.answers.queueSave(multi, tenantId, answer);
  context.sessions.queueTurn(multi, tenantId, session, { role: 'USER', text: question, answerId }, now);
  await execOrThrow(multi);
  const queuePosition = await context.answers.enterQueue(tenantId, answerId);
  // Published before enqueueing, so QUEUED (seq 0) always precedes the worker's first TOKEN.
  await publishLive(context, answer, { seq: 0, kind: 'QUEUED', queuePosition });

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
  try {
    await context.queue.enqueue(request);
  } catch (error) {
    context.log.error({ err: error, answerId }, 'could not enqueue the question');
    await context.answers.complete(
      tenantId,
      answer,
      { text: '', status: 'FAILED', sourceIds: [], confidence: null, needsHuman: true, engine: null },
      // The client is told to try again: a retry with the same clientMessageId must ask anew.
      (multi) =>
        args.clientMessageId ? context.answers.queueForgetClientMessage(multi, tenantId, session.id, args.clientMessageId) : undefined,
    );
    await publishLive(context, answer, { seq: 1, kind: 'ERROR', queuePosition: null });
    throw codedError(ErrorCode.SERVICE_UNAVAILABLE, 'The question could not be queued; please try again shortly.');
  }
  context.log.info({ answerId, sessionId: session.id, chars: question.length, queuePosition }, 'question queued');
  // Text only for a tenant with debug logging switched on (LOG_DEBUG_TENANTS).
  if (mayLogText(context.log)) context.log.debug({ answerId, question }, 'question text');
  return { answer, queuePosition };
}

/**
 * The answer of the ask that won a clientMessageId. A concurrent duplicate can arrive between the
 * winner's reservation and its write: wait briefly for it rather than creating a second answer.
 */
async function firstAsk(context: AskContext, answerId: string): Promise<AnswerRecord> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const existing = await context.answers.get(context.tenant.tenantId, answerId);
    if (existing) return existing;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw codedError(ErrorCode.SERVICE_UNAVAILABLE, 'The same message is still being accepted; please retry shortly.');
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
  const { tenantId } = context.tenant;
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

type AskContext = Pick<AnswerContext, 'tenant' | 'log' | 'answers' | 'sessions' | 'queue' | 'redis' | 'events'>;

import DataLoader from 'dataloader';
import { type BaseContext, type EventBus, type InferenceQueue, type Logger, type Redis } from '@beedesk/runtime';
import { AnswerRepository, AnswerStatsRepository, FeedbackRepository, type AnswerRecord } from './data';
import { SessionRepository } from '@beedesk/session/data';
import { HandoffActions } from '@beedesk/handoff/data';

export interface AnswerContext extends BaseContext {
  answers: AnswerRepository;
  feedback: FeedbackRepository;
  /** The tenant's answer statistics (answerStats). */
  stats: AnswerStatsRepository;
  sessions: SessionRepository;
  queue: InferenceQueue;
  redis: Redis;
  /** Live events: `ask` publishes QUEUED, the subscriptions listen. */
  events: EventBus;
  /** Tells another tenant's session ids from unknown ones (see session/src/data/session-ids.ts). */
  internalSecret: string;
  /** Human handoff: ask checks ownership, a keyword asks for a person, a message to a person is logged for staff. */
  handoff: HandoffActions;
  /** Batches the gateway's `_entities` fan-out for answers into one MGET. */
  answerLoader: DataLoader<string, AnswerRecord | null>;
}

export interface AnswerContextDeps {
  redis: Redis;
  keyPrefix: string;
  queue: InferenceQueue;
  events: EventBus;
  internalSecret: string;
  logger: Logger;
}

export function contextFactory({ redis, keyPrefix, queue, events, internalSecret, logger }: AnswerContextDeps) {
  const answers = new AnswerRepository(redis, keyPrefix);
  const sessions = new SessionRepository(redis, keyPrefix);
  const handoff = HandoffActions.create(redis, keyPrefix, events, logger);
  const feedback = new FeedbackRepository(redis, keyPrefix);
  const stats = new AnswerStatsRepository(redis, keyPrefix);
  return (base: BaseContext): AnswerContext => ({
    ...base,
    answers,
    feedback,
    stats,
    sessions,
    queue,
    redis,
    events,
    internalSecret,
    handoff,
    answerLoader: new DataLoader((ids) => answers.getMany(base.caller.tenantId, ids)),
  });
}

import DataLoader from 'dataloader';
import { type BaseContext, type EventBus, type InferenceQueue, type Redis } from '@beedesk/runtime';
import { AnswerRepository, FeedbackRepository, type AnswerRecord } from './data';
import { SessionRepository } from '@beedesk/session/data';

export interface AnswerContext extends BaseContext {
  answers: AnswerRepository;
  feedback: FeedbackRepository;
  sessions: SessionRepository;
  queue: InferenceQueue;
  redis: Redis;
  /** Live events: `ask` publishes QUEUED, the subscriptions listen. */
  events: EventBus;
  /** Tells another tenant's session ids from unknown ones (see session/src/data/session-ids.ts). */
  internalSecret: string;
  /** Batches the gateway's `_entities` fan-out for answers into one MGET. */
  answerLoader: DataLoader<string, AnswerRecord | null>;
}

export interface AnswerContextDeps {
  redis: Redis;
  keyPrefix: string;
  queue: InferenceQueue;
  events: EventBus;
  internalSecret: string;
}

export function contextFactory({ redis, keyPrefix, queue, events, internalSecret }: AnswerContextDeps) {
  const answers = new AnswerRepository(redis, keyPrefix);
  const sessions = new SessionRepository(redis, keyPrefix);
  const feedback = new FeedbackRepository(redis, keyPrefix);
  return (base: BaseContext): AnswerContext => ({
    ...base,
    answers,
    feedback,
    sessions,
    queue,
    redis,
    events,
    internalSecret,
    answerLoader: new DataLoader((ids) => answers.getMany(base.caller.tenantId, ids)),
  });
}

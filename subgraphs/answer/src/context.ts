import DataLoader from 'dataloader';
import {
  AnswerRepository,
  SessionRepository,
  type AnswerRecord,
  type BaseContext,
  type InferenceQueue,
  type Redis,
} from '@beedesk/runtime';

export interface AnswerContext extends BaseContext {
  answers: AnswerRepository;
  sessions: SessionRepository;
  queue: InferenceQueue;
  redis: Redis;
  /** Batches the gateway's `_entities` fan-out for answers into one MGET. */
  answerLoader: DataLoader<string, AnswerRecord | null>;
}

export function contextFactory(redis: Redis, keyPrefix: string, queue: InferenceQueue) {
  const answers = new AnswerRepository(redis, keyPrefix);
  const sessions = new SessionRepository(redis, keyPrefix);
  return (base: BaseContext): AnswerContext => ({
    ...base,
    answers,
    sessions,
    queue,
    redis,
    answerLoader: new DataLoader((ids) => answers.getMany(base.tenant.tenantId, ids)),
  });
}

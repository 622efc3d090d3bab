import DataLoader from 'dataloader';
import { SessionRepository, type BaseContext, type Redis, type SessionRecord } from '@beedesk/runtime';

export interface SessionContext extends BaseContext {
  sessions: SessionRepository;
  /** Batches the gateway's `_entities` fan-out for sessions into one pipelined round trip. */
  sessionLoader: DataLoader<string, SessionRecord | null>;
}

export function contextFactory(redis: Redis, keyPrefix: string) {
  const sessions = new SessionRepository(redis, keyPrefix);
  return (base: BaseContext): SessionContext => ({
    ...base,
    sessions,
    sessionLoader: new DataLoader((ids) => sessions.getMany(base.tenant.tenantId, ids)),
  });
}

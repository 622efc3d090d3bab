import DataLoader from 'dataloader';
import { type BaseContext, type EventPublisher, type Redis } from '@beedesk/runtime';
import { SessionRepository, type SessionRecord } from './data';

export interface SessionContext extends BaseContext {
  sessions: SessionRepository;
  /** SESSION_STARTED goes to the tenant's activity feed. */
  events: EventPublisher;
  /** Mints tenant-tagged session ids (see session/src/data/session-ids.ts). */
  internalSecret: string;
  /** Batches the gateway's `_entities` fan-out for sessions into one pipelined round trip. */
  sessionLoader: DataLoader<string, SessionRecord | null>;
}

export function contextFactory(redis: Redis, keyPrefix: string, events: EventPublisher, internalSecret: string) {
  const sessions = new SessionRepository(redis, keyPrefix);
  return (base: BaseContext): SessionContext => ({
    ...base,
    sessions,
    events,
    internalSecret,
    sessionLoader: new DataLoader((ids) => sessions.getMany(base.caller.tenantId, ids)),
  });
}

import { type BaseContext, type Redis } from '@beedesk/runtime';
import { SessionRepository } from '@beedesk/session/data';

export interface HandoffContext extends BaseContext {
  redis: Redis;
  keyPrefix: string;
  /** Tells another tenant's session ids from unknown ones (see session/src/data/session-ids.ts). */
  internalSecret: string;
  sessions: SessionRepository;
}

export interface HandoffContextDeps {
  redis: Redis;
  keyPrefix: string;
  internalSecret: string;
}

export function contextFactory({ redis, keyPrefix, internalSecret }: HandoffContextDeps) {
  const sessions = new SessionRepository(redis, keyPrefix);
  return (base: BaseContext): HandoffContext => ({ ...base, redis, keyPrefix, internalSecret, sessions });
}

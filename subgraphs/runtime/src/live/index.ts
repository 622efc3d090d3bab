import type { Logger } from '../logger';
import type { Redis } from '../redis';
import { createEventBus, type EventBus } from './bus';
import { InProcessTransport } from './in-process';
import { RedisTransport } from './redis';

export { createEventBus, type EventBus, type EventBusOptions, type EventStream, type EventSubscriber } from './bus';
export { InProcessTransport } from './in-process';
export { RedisTransport } from './redis';
export type { EventTransport } from './transport';

/** Real mode: events reach subscribers on every replica through Redis pub/sub. */
export const createRedisEventBus = (redis: Redis, keyPrefix: string, logger: Logger, maxBuffered?: number): EventBus =>
  createEventBus(new RedisTransport(redis), { keyPrefix, logger, maxBuffered });

/** The embedded default: one process, one listener map. */
export const createInProcessEventBus = (keyPrefix: string, logger: Logger, maxBuffered?: number): EventBus =>
  createEventBus(new InProcessTransport(), { keyPrefix, logger, maxBuffered });

import { randomBytes } from 'node:crypto';
import { provideKafka, provideRedis } from '../../src/local-services';

/**
 * Starts (or finds) real Redis and Kafka once for all end-to-end scenarios. Never skips: when a
 * service cannot be provided the suite fails with a message saying how to provide it.
 */
export default async function globalSetup(): Promise<void> {
  const [redis, kafka] = await Promise.all([provideRedis(), provideKafka()]);
  process.env.E2E_REDIS_URL = redis.url;
  process.env.E2E_KAFKA_BROKERS = kafka.brokers;
  // Each run writes only under its own key prefix, and deletes exactly those keys at the end.
  process.env.E2E_RUN_ID = `e2e${randomBytes(4).toString('hex')}`;
  const state = globalThis as { __beedeskE2E?: unknown };
  state.__beedeskE2E = { redisChild: redis.started, startedKafka: kafka.started };
}

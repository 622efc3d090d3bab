import type { ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { stopKafka } from '../../src/local-services';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __beedeskE2E?: { redisChild: ChildProcess | null; startedKafka: boolean } }).__beedeskE2E;
  const runId = process.env.E2E_RUN_ID;
  if (process.env.E2E_REDIS_URL && runId) {
    const redis = new Redis(process.env.E2E_REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${runId}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  if (state?.startedKafka) await stopKafka();
  state?.redisChild?.kill();
}

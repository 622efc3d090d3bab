import Redis from 'ioredis';
import RedisMock from 'ioredis-mock';

export type { Redis };
/** A MULTI or pipeline being assembled (repositories add their commands to one transaction). */
export type { ChainableCommander } from 'ioredis';

export class DependencyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/**
 * Connects to a real Redis, failing within `timeoutMs` with a message that says how to fix it
 * (services must not hang at start when Redis is down). After start, ioredis reconnects forever.
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    // Only the first connection is bounded; later outages retry with a capped back-off.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastError: unknown;
  redis.on('error', (error) => {
    lastError = error;
  });
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@');
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
  );
  try {
    await Promise.race([redis.connect(), timer]);
    await Promise.race([redis.ping(), timer]);
    return redis;
  } catch (error) {
    redis.disconnect();
    const reason = (lastError as Error | undefined)?.message ?? (error as Error).message;
    throw new DependencyUnavailableError(
      `Cannot reach Redis at ${safeUrl} (${reason}). Start Redis (e.g. \`redis-server --port 6379\`) or set REDIS_URL.`,
    );
  }
}

/**
 * The embedded default's stand-in: an in-process Redis (ioredis-mock) speaking the same API,
 * so every service runs the same data code in both modes. Instances share one data set.
 */
export function createInMemoryRedis(): Redis {
  return new RedisMock() as unknown as Redis;
}

/** Run a MULTI and surface the first command error instead of ioredis's [error, result] pairs. */
export async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = await multi.exec();
  if (!results) throw new Error('Redis transaction was aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

import { createHash } from 'node:crypto';
import type { Redis } from '@beedesk/runtime';

/** A Lua script run with EVALSHA, loaded with EVAL the first time a Redis does not know it. */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export class StoreTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the limit store did not answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Bounds a store call: a Redis that hangs (reconnecting, offline queue) must not hold requests. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

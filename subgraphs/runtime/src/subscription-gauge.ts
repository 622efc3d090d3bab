import type { ExecutionResult } from 'graphql';
import { Gauge } from 'prom-client';
import type { ServiceMetrics } from './metrics';

/**
 * `beedesk_open_subscriptions`: subscriptions streaming from this service, over graphql-ws and
 * over SSE alike (so a test or an operator can see that a client's leaving released its stream).
 */
export function createSubscriptionGauge(metrics: ServiceMetrics) {
  let open = 0;
  new Gauge({
    name: 'beedesk_open_subscriptions',
    help: 'GraphQL subscriptions currently streaming from this service (graphql-ws and SSE)',
    registers: [metrics.registry],
    collect() {
      this.set(open);
    },
  });

  /** Counts `stream` as open until it ends, however it ends. */
  function count(stream: AsyncIterator<ExecutionResult>): AsyncGenerator<ExecutionResult> {
    open++;
    let counting = true;
    const done = () => {
      if (counting) open--;
      counting = false;
    };
    const counted = {
      next: async () => {
        try {
          const result = await stream.next();
          if (result.done) done();
          return result;
        } catch (error) {
          done();
          throw error;
        }
      },
      return: async (value?: unknown): Promise<IteratorResult<ExecutionResult>> => {
        done();
        return (await stream.return?.(value)) ?? { value: undefined, done: true };
      },
      throw: async (error: unknown): Promise<IteratorResult<ExecutionResult>> => {
        done();
        if (stream.throw) return stream.throw(error);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return counted;
      },
      [Symbol.asyncDispose]: async () => {
        done();
        await stream.return?.();
      },
    };
    return counted as AsyncGenerator<ExecutionResult>;
  }

  return { count };
}

export type SubscriptionGauge = ReturnType<typeof createSubscriptionGauge>;

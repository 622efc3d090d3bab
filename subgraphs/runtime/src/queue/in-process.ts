import type { Logger } from '../logger';
import {
  orderingKey,
  type Delivery,
  type InferenceConsumer,
  type InferenceHandler,
  type InferenceQueue,
  type InferenceRequest,
} from './types';

const IN_PROCESS_DELIVERY: Delivery = { heartbeat: async () => undefined };

/**
 * The embedded default's stand-in for Kafka: per-session order, sessions in parallel, and
 * at-least-once (a failed handler is retried with back-off), like the Kafka consumer.
 */
export class InProcessQueue implements InferenceQueue, InferenceConsumer {
  private handler: InferenceHandler | null = null;
  private readonly waiting: InferenceRequest[] = [];
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly retryDelaysMs: number[] = [100, 500, 2000, 5000],
  ) {}

  async enqueue(request: InferenceRequest): Promise<void> {
    if (this.stopped) throw new Error('the queue is stopped');
    if (this.handler) this.schedule(request);
    else this.waiting.push(request);
  }

  async start(handler: InferenceHandler): Promise<void> {
    this.handler = handler;
    for (const request of this.waiting.splice(0)) this.schedule(request);
  }

  async lag(): Promise<number> {
    return this.inFlight + this.waiting.length;
  }

  async lagByPartition(): Promise<Record<number, number>> {
    return { 0: await this.lag() };
  }

  /** Stops taking work and waits for what is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.chains.values()]);
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private schedule(request: InferenceRequest): void {
    const key = orderingKey(request);
    this.inFlight++;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.run(request));
    this.chains.set(key, next);
    void next.finally(() => {
      this.inFlight--;
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  private async run(request: InferenceRequest): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handler!(request, IN_PROCESS_DELIVERY);
        return;
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        const log = this.logger.child({ tenant: request.tenantId, traceId: request.requestId, answerId: request.answerId });
        if (delay === undefined) {
          log.error({ err: error }, 'inference request failed after retries; giving up');
          return;
        }
        log.warn({ err: error, attempt }, 'inference request failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

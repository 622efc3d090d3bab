import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetrics, type InferenceConsumer, type ServiceMetrics } from '@beedesk/runtime';
import { BREAKER_SEVERITY, type BreakerRegistry } from './resilience';

export interface InferenceMetrics extends ServiceMetrics {
  answers: Counter<'status'>;
  engineSeconds: Histogram<'engine'>;
  firstTokenSeconds: Histogram<'engine'>;
  /** Messaging semantic conventions' `messaging.process.duration`: one request from the queue, handled. */
  processSeconds: Histogram<'outcome'>;
}

/** The inference service's metrics: answers, latency to first token, queue lag per partition, breakers. */
export function createInferenceMetrics(consumer: InferenceConsumer, breakers: BreakerRegistry, defaultMetrics = true): InferenceMetrics {
  const base = createMetrics('inference', defaultMetrics);
  const registers = [base.registry];
  new Gauge({
    name: 'beedesk_inference_queue_lag',
    help: 'Requests enqueued but not yet answered (committed), per partition',
    labelNames: ['partition'],
    registers,
    async collect() {
      // Kafka unreachable: keep the last values rather than failing the whole scrape.
      const lags = await consumer.lagByPartition().catch(() => null);
      if (!lags) return;
      this.reset();
      for (const [partition, lag] of Object.entries(lags)) this.set({ partition }, lag);
    },
  });
  new Gauge({
    name: 'beedesk_inference_breaker_state',
    help: 'Circuit breaker per engine endpoint: 0 closed, 1 half-open, 2 open',
    labelNames: ['endpoint'],
    registers,
    collect() {
      for (const [endpoint, state] of Object.entries(breakers.states())) this.set({ endpoint }, BREAKER_SEVERITY[state]);
    },
  });
  const buckets = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30];
  return {
    ...base,
    answers: new Counter({
      name: 'beedesk_inference_answers_total',
      help: 'Answers written, by final status',
      labelNames: ['status'],
      registers,
    }),
    engineSeconds: new Histogram({
      name: 'beedesk_inference_engine_seconds',
      help: 'Engine time per answer',
      labelNames: ['engine'],
      buckets,
      registers,
      enableExemplars: true,
    }),
    firstTokenSeconds: new Histogram({
      name: 'beedesk_inference_first_token_seconds',
      help: 'From ask (enqueue) to the first streamed token',
      labelNames: ['engine'],
      buckets,
      registers,
      enableExemplars: true,
    }),
    processSeconds: new Histogram({
      name: 'beedesk_messaging_process_duration_seconds',
      help: 'Time to handle one inference request taken from the queue (messaging.process.duration), by outcome (ok, error: redelivered)',
      labelNames: ['outcome'],
      buckets,
      registers,
      enableExemplars: true,
    }),
  };
}

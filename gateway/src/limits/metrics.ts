import { Counter, Gauge, Histogram, type Registry, type RegistryContentType } from 'prom-client';
import type { EventLoopPressure } from './event-loop-pressure';
import type { FairShareScheduler } from './fair-share';

export interface LimitMetrics {
  /** Requests and subscribes refused, by code (RATE_LIMITED, COST_LIMIT_EXCEEDED…). */
  refused: Counter<'code'>;
  /** Limit checks that could not reach Redis and let the request through (fail open). */
  storeFailures: Counter<'limit'>;
  /** How long admitted operations waited for an execution slot (fair share). */
  fairShareWait: Histogram;
  /** Reports the scheduler's executing and waiting operations at every scrape. */
  observeFairShare(scheduler: FairShareScheduler): void;
  observePressure(pressure: EventLoopPressure): void;
}

export function createLimitMetrics(registry: Registry<RegistryContentType>): LimitMetrics {
  return {
    refused: new Counter({
      name: 'beedesk_gateway_limit_refusals_total',
      help: 'Requests refused by a gateway limit, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    storeFailures: new Counter({
      name: 'beedesk_gateway_limit_store_failures_total',
      help: 'Limit checks that could not reach Redis and admitted the request (fail open)',
      labelNames: ['limit'],
      registers: [registry],
    }),
    fairShareWait: new Histogram({
      name: 'beedesk_gateway_fair_share_wait_seconds',
      help: 'Time admitted operations waited for an execution slot (per-tenant queues)',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    observeFairShare(scheduler) {
      new Gauge({
        name: 'beedesk_gateway_fair_share_operations',
        help: 'Operations holding an execution slot (executing) or waiting for one (queued), all tenants',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          this.set({ state: 'executing' }, scheduler.executing());
          this.set({ state: 'queued' }, scheduler.queued());
        },
      });
    },
    observePressure(pressure) {
      new Gauge({
        name: 'beedesk_gateway_event_loop_lateness_seconds',
        help: "Mean lateness of this process's event loop in the last window (the fair share's pressure signal)",
        registers: [registry],
        collect() {
          this.set(pressure.lastLatenessMs / 1000);
        },
      });
      new Gauge({
        name: 'beedesk_gateway_under_pressure',
        help: '1 while the fair share holds busy tenants to its bound under pressure (event loop running late), else 0',
        registers: [registry],
        collect() {
          this.set(pressure.underPressure() ? 1 : 0);
        },
      });
    },
  };
}

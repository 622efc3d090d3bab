import { Counter, type Registry, type RegistryContentType } from 'prom-client';

export interface LimitMetrics {
  /** Requests and subscribes refused, by code (RATE_LIMITED, COST_LIMIT_EXCEEDED…). */
  refused: Counter<'code'>;
  /** Limit checks that could not reach Redis and let the request through (fail open). */
  storeFailures: Counter<'limit'>;
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
  };
}

import { collectDefaultMetrics, Counter, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';
import { traceFields } from './tracing';

/**
 * A service's registry. OpenMetrics text (Prometheus negotiates it), because only that format carries
 * exemplars: latency histograms link a bucket to a trace (`# {trace_id="…",span_id="…"}`).
 */
export type MetricsRegistry = Registry<OpenMetricsContentType>;

export interface ServiceMetrics {
  registry: MetricsRegistry;
  requests: Counter<'route' | 'status'>;
  requestSeconds: Histogram<'route'>;
}

/** One Prometheus registry per service (several services share a process in the embedded default). */
export function createMetrics(service: string, withDefaults = true): ServiceMetrics {
  // prom-client's typings omit the constructor's content-type argument; setContentType is typed.
  const registry = new Registry() as unknown as MetricsRegistry;
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  registry.setDefaultLabels({ service });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'beedesk_http_requests_total',
      help: 'HTTP requests served',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'beedesk_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
      enableExemplars: true,
    }),
  };
}

/**
 * Observes `seconds` on a histogram made with `enableExemplars`, with the active span's trace and
 * span ids as the exemplar when a (sampled or not) span is active; the ids are bounded labels of
 * the exemplar, never of the series.
 */
export function observeWithExemplar<T extends string>(
  histogram: Histogram<T>,
  labels: Partial<Record<T, string | number>>,
  seconds: number,
): void {
  const ids = traceFields();
  // prom-client types exemplar labels as the series' label names; any names are allowed.
  if ('trace_id' in ids) histogram.observe({ labels, value: seconds, exemplarLabels: ids as Partial<Record<T, string>> });
  else histogram.observe({ labels, value: seconds });
}

/**
 * A label whose values come from outside (tenant ids) kept bounded: the first `max` distinct values
 * are their own series, every later one is counted under `other`. Per process, so a restart may
 * pick different tenants; dashboards show the busiest ones, and `other` never hides a total.
 */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

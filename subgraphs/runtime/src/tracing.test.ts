import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { Histogram } from 'prom-client';
import { createLogger } from './logger';
import { createMetrics, observeWithExemplar } from './metrics';
import {
  contextWith,
  extractTraceContext,
  failSpan,
  injectTraceContext,
  spanContextOf,
  startTracing,
  tracer,
  tracingSettingsOf,
  withActiveSpan,
  withContext,
} from './tracing';

// One tracer provider per process (as in a service): ratio 0, so only what a sampled parent or an
// error asks for is exported.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({ tracesUrl: 'http://127.0.0.1:1/v1/traces', ratio: 0, serviceName: 'unit' }, exporter);
afterAll(() => tracing.shutdown());
beforeEach(() => exporter.reset());

const exported = async () => {
  await tracing.flush();
  return exporter.getFinishedSpans();
};
const SAMPLED_PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const UNSAMPLED_PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

describe('tracing settings (the standard OTEL_* variables)', () => {
  it('is off without an endpoint, and with OTEL_SDK_DISABLED', () => {
    expect(tracingSettingsOf({}, 'gateway')).toBeNull();
    expect(tracingSettingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, 'gateway')).toBeNull();
  });

  it('appends /v1/traces to the base endpoint; the traces endpoint wins; ratio and service name', () => {
    expect(tracingSettingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, 'gateway')).toEqual({
      tracesUrl: 'http://c:4318/v1/traces',
      ratio: 1,
      serviceName: 'gateway',
    });
    expect(
      tracingSettingsOf(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9999/otlp/traces',
          OTEL_TRACES_SAMPLER_ARG: '0.1',
          OTEL_SERVICE_NAME: 'edge-gateway',
        },
        'gateway',
      ),
    ).toEqual({ tracesUrl: 'http://t:9999/otlp/traces', ratio: 0.1, serviceName: 'edge-gateway' });
  });

  it('refuses a ratio outside 0–1 instead of guessing', () => {
    expect(() => tracingSettingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER_ARG: '10' }, 'x')).toThrow(/0 to 1/);
  });
});

describe('parent-based ratio sampling, errors always', () => {
  it('drops a root at ratio 0 but follows a sampled parent from another service', async () => {
    tracer('t').startSpan('root').end();
    const parent = extractTraceContext({ traceparent: SAMPLED_PARENT });
    tracer('t').startSpan('child', {}, parent).end();
    const spans = await exported();
    expect(spans.map((s) => s.name)).toEqual(['child']);
    expect(spans[0]!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(spans[0]!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('exports a failure of an unsampled trace as its own span, linked to the unsampled one', async () => {
    const span = tracer('t').startSpan('process inference.requests', {}, extractTraceContext({ traceparent: UNSAMPLED_PARENT }));
    expect(span.isRecording()).toBe(false);
    failSpan(span, new TypeError('boom'), 'process inference.requests', { 'beedesk.tenant.id': 'acme' });
    span.end();
    const spans = await exported();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.name).toBe('error process inference.requests');
    expect(spans[0]!.status.code).toBe(2);
    expect(spans[0]!.attributes).toMatchObject({ 'beedesk.tenant.id': 'acme', 'error.type': 'TypeError' });
    expect(spans[0]!.links.map((l) => l.context.spanId)).toEqual([span.spanContext().spanId]);
  });

  it('marks a recorded span failed with the error code of a coded GraphQL error', async () => {
    const span = tracer('t').startSpan('mutation', {}, extractTraceContext({ traceparent: SAMPLED_PARENT }));
    failSpan(span, { message: 'down', extensions: { code: 'SERVICE_UNAVAILABLE' } }, 'mutation');
    span.end();
    const [only] = await exported();
    expect(only!.attributes['error.type']).toBe('SERVICE_UNAVAILABLE');
    expect(only!.status.code).toBe(2);
  });
});

describe('trace context in carriers (HTTP and Kafka headers, live events)', () => {
  it('round-trips through a header map, Buffers included (kafkajs hands headers over as Buffers)', () => {
    const span = tracer('t').startSpan('send', {}, extractTraceContext({ traceparent: SAMPLED_PARENT }));
    const headers = injectTraceContext({ tenant: 'acme' }, contextWith(span));
    expect(headers['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    const asKafka = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
    expect(spanContextOf(extractTraceContext(asKafka))).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
    });
    span.end();
  });
});

describe('logs and metrics joined to traces', () => {
  it('puts trace_id and span_id on every line written inside a span, and none outside', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger('unit', 'info', { destination });
    const span = tracer('t').startSpan('work', {}, extractTraceContext({ traceparent: SAMPLED_PARENT }));
    withActiveSpan(span, () => logger.child({ tenant: 'acme' }).info('inside'));
    logger.info('outside');
    span.end();
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(lines[1]!['trace_id']).toBeUndefined();
  });

  it('writes the active trace as the exemplar of a latency observation (OpenMetrics)', async () => {
    const metrics = createMetrics('unit', false);
    const histogram = new Histogram({
      name: 'unit_seconds',
      help: 'h',
      buckets: [0.1, 1],
      registers: [metrics.registry],
      enableExemplars: true,
    });
    const parent = extractTraceContext({ traceparent: SAMPLED_PARENT });
    withContext(parent, () => observeWithExemplar(histogram, {}, 0.05));
    observeWithExemplar(histogram, {}, 0.5);
    const text = await metrics.registry.metrics();
    expect(metrics.registry.contentType).toMatch(/openmetrics/);
    expect(text).toContain(
      'unit_seconds_bucket{le="0.1",service="unit"} 1 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 0.05',
    );
    expect(text).toMatch(/unit_seconds_bucket\{le="1",service="unit"\} 2\n/);
  });
});
